package kafkaconn

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// ErrUnknownTopic is wrapped by Offsets when the brokers do not know the
// topic.
var ErrUnknownTopic = errors.New("topic does not exist")

// Offsets returns, for every partition of topic, its first offset and its
// end offset (the offset the next record will get), from one metadata and
// one list-offsets request. It does not retry: callers decide which errors
// are worth another attempt.
func Offsets(ctx context.Context, cl *kafka.Client, topic string) (first, end map[int]int64, err error) {
	meta, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		if len(meta.Topics) == 1 && errors.Is(meta.Topics[0].Error, kafka.UnknownTopicOrPartition) {
			return nil, nil, fmt.Errorf("%w: %s", ErrUnknownTopic, topic)
		}
		return nil, nil, fmt.Errorf("metadata of %s: %v", topic, meta.Topics)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range meta.Topics[0].Partitions {
		reqs = append(reqs, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	resp, err := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, nil, fmt.Errorf("offsets of %s: %w", topic, err)
	}
	first, end = map[int]int64{}, map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return nil, nil, fmt.Errorf("offsets of %s/%d: %w", topic, p.Partition, p.Error)
		}
		first[p.Partition], end[p.Partition] = p.FirstOffset, p.LastOffset
	}
	return first, end, nil
}

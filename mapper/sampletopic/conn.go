package sampletopic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/mapper/kafkaconn"
)

// Config says where the samples topic is and how to reach it. Kafka's
// brokers and Topic are required.
type Config struct {
	// Kafka is how to reach the cluster (brokers, client id, TLS, SASL).
	Kafka kafkaconn.Config
	// Topic is the samples topic. It must exist and be compacted (see Check).
	Topic string
	// Timeout bounds each request to the brokers. Zero means 10s.
	Timeout time.Duration
}

func (c Config) validate() error {
	p := c.Kafka.Problems()
	if c.Topic == "" {
		p = append(p, "no samples topic given")
	}
	if len(p) > 0 {
		return fmt.Errorf("samples topic: %s", strings.Join(p, "; "))
	}
	return nil
}

func (c Config) client() *kafka.Client {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	return c.Kafka.Client(nil, timeout)
}

// Errors of Check.
var (
	// ErrNoTopic: the samples topic does not exist.
	ErrNoTopic = errors.New("samples topic does not exist")
	// ErrNotCompacted: the samples topic's cleanup.policy has no "compact".
	ErrNotCompacted = errors.New("samples topic is not compacted")
)

// Check verifies that the samples topic exists and that its cleanup.policy
// includes compact, and returns its number of partitions. The topic is the
// operator's to create, like the worker's other topics:
//
//	kafka-topics.sh --create --topic mapper.samples --partitions 3 --config cleanup.policy=compact
func Check(ctx context.Context, cfg Config) (int, error) {
	if err := cfg.validate(); err != nil {
		return 0, err
	}
	cl := cfg.client()
	var meta *kafka.MetadataResponse
	err := retry(ctx, func() (err error) {
		meta, err = cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{cfg.Topic}})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("check samples topic %s on %v: %w", cfg.Topic, cfg.Kafka.Brokers, err)
	}
	if len(meta.Topics) != 1 || errors.Is(meta.Topics[0].Error, kafka.UnknownTopicOrPartition) {
		return 0, fmt.Errorf("check samples topic on %v: %w: %s (create it with cleanup.policy=compact)", cfg.Kafka.Brokers, ErrNoTopic, cfg.Topic)
	}
	if err := meta.Topics[0].Error; err != nil {
		return 0, fmt.Errorf("check samples topic %s: %w", cfg.Topic, err)
	}
	n := len(meta.Topics[0].Partitions)
	if n == 0 {
		return 0, fmt.Errorf("check samples topic on %v: %w: %s has no partitions", cfg.Kafka.Brokers, ErrNoTopic, cfg.Topic)
	}
	var resp *kafka.DescribeConfigsResponse
	err = retry(ctx, func() (err error) {
		resp, err = cl.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
			ResourceType: kafka.ResourceTypeTopic, ResourceName: cfg.Topic, ConfigNames: []string{"cleanup.policy"},
		}}})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("check samples topic %s: describe configs: %w", cfg.Topic, err)
	}
	policy := "delete" // Kafka's default when the broker does not say
	for _, r := range resp.Resources {
		if r.Error != nil {
			return 0, fmt.Errorf("check samples topic %s: describe configs: %w", cfg.Topic, r.Error)
		}
		for _, e := range r.ConfigEntries {
			if e.ConfigName == "cleanup.policy" {
				policy = e.ConfigValue
			}
		}
	}
	if !slices.Contains(strings.Split(strings.ReplaceAll(policy, " ", ""), ","), "compact") {
		return 0, fmt.Errorf("%w: %s has cleanup.policy=%s; it must be compact, or it grows without bound and loses samples to retention (kafka-configs.sh --alter --entity-type topics --entity-name %s --add-config cleanup.policy=compact)",
			ErrNotCompacted, cfg.Topic, policy, cfg.Topic)
	}
	return n, nil
}

// offsets returns every partition's first and end offsets, retrying
// transient broker errors.
func offsets(ctx context.Context, cl *kafka.Client, topic string) (first, end map[int]int64, err error) {
	err = retry(ctx, func() (err error) {
		first, end, err = offsetsOnce(ctx, cl, topic)
		return err
	})
	return first, end, err
}

func offsetsOnce(ctx context.Context, cl *kafka.Client, topic string) (first, end map[int]int64, err error) {
	first, end, err = kafkaconn.Offsets(ctx, cl, topic)
	if errors.Is(err, kafkaconn.ErrUnknownTopic) {
		return nil, nil, fmt.Errorf("%w: %s", ErrNoTopic, topic)
	}
	return first, end, err
}

// fetchMaxBytes bounds one fetch response.
const fetchMaxBytes = 8 << 20

// readRange calls fn for every record of a partition from offset from up
// to offset to (exclusive), in offset order. A compacted partition has
// gaps: a record past to ends the read.
func readRange(ctx context.Context, cl *kafka.Client, topic string, partition int, from, to int64, fn func(offset int64, key, value []byte) error) error {
	next := from
	empty := 0
	for next < to {
		var resp *kafka.FetchResponse
		err := retry(ctx, func() (err error) {
			resp, err = cl.Fetch(ctx, &kafka.FetchRequest{
				Topic: topic, Partition: partition, Offset: next,
				MinBytes: 1, MaxBytes: fetchMaxBytes, MaxWait: 500 * time.Millisecond,
			})
			if err == nil {
				err = resp.Error
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("read %s/%d at %d: %w", topic, partition, next, err)
		}
		n := 0
		for {
			r, err := resp.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("read %s/%d at %d: %w", topic, partition, next, err)
			}
			if r.Offset < next {
				continue
			}
			if r.Offset >= to {
				return nil
			}
			var key, value []byte
			if r.Key != nil {
				if key, err = kafka.ReadAll(r.Key); err != nil {
					return fmt.Errorf("read %s/%d@%d key: %w", topic, partition, r.Offset, err)
				}
			}
			if r.Value != nil {
				if value, err = kafka.ReadAll(r.Value); err != nil {
					return fmt.Errorf("read %s/%d@%d value: %w", topic, partition, r.Offset, err)
				}
			}
			if err := fn(r.Offset, key, value); err != nil {
				return err
			}
			next = r.Offset + 1
			n++
		}
		if n > 0 {
			empty = 0
			continue
		}
		if resp.HighWatermark <= next {
			return nil
		}
		if empty++; empty > 20 {
			return fmt.Errorf("read %s/%d: no record between offsets %d and %d after %d fetches", topic, partition, next, to, empty)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

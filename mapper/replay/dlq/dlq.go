// Package dlq reads records back from a dead-letter topic, turns them into
// samples for replay, and re-publishes ("redrives") the ones today's rules
// map to the input topic they came from.
//
// Dead-letter records carry the original key, value and headers byte for
// byte, followed by the worker's headers (the Header* constants, the same
// names the worker writes). Reading is bounded: by offsets, by record time
// and always by each partition's end offset when reading starts, so a read
// terminates even while the worker keeps writing.
//
// The functions are safe for concurrent use; each call owns its
// connections and closes them before returning.
package dlq

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/samples"
	"github.com/mapperhq/mapper/mapper/stream"
)

// The worker's dead-letter headers, as package stream writes them.
const (
	HeaderSource          = stream.HeaderSource
	HeaderRulesVersion    = stream.HeaderRulesVersion
	HeaderOutcome         = stream.HeaderOutcome
	HeaderFailure         = stream.HeaderFailure
	HeaderFailureDetail   = stream.HeaderFailureDetail
	HeaderOriginTopic     = stream.HeaderOriginTopic
	HeaderOriginPartition = stream.HeaderOriginPartition
	HeaderOriginOffset    = stream.HeaderOriginOffset
	HeaderOriginTime      = stream.HeaderOriginTime
	HeaderDeadLetteredAt  = stream.HeaderDeadLetteredAt
	// HeaderRedrivenFrom is added to a redriven record: the dead-letter
	// record it came from, "topic/partition@offset".
	HeaderRedrivenFrom = "mapper.redriven_from"
)

// Bounds limits what Read reads of each partition. The zero value reads
// everything up to the end offsets at the start of the read.
type Bounds struct {
	// StartOffset is the first offset read in each partition; negative or
	// zero means the partition's first.
	StartOffset int64
	// EndOffset, when positive, is the offset (exclusive) where reading
	// each partition stops.
	EndOffset int64
	// Since, when set, skips records written before it.
	Since time.Time
	// Until, when set, stops each partition at its first record written
	// after it.
	Until time.Time
}

// Config says where to read.
type Config struct {
	// Kafka is how to reach the cluster. Kafka.Brokers is required.
	Kafka  kafkaconn.Config
	Topic  string
	Bounds Bounds
	// Progress, when set, is told of every record read (for a progress
	// bar), from the goroutine that called Read.
	Progress func(records int)
}

// Record is one dead-letter record: where it is in the dead-letter topic,
// and the original record with what the worker's headers say about it
// (parsed by stream.ParseDeadLetter, the owner of the format).
type Record struct {
	// Topic, Partition, Offset and Time say where it is in the dead-letter topic.
	Topic     string
	Partition int
	Offset    int64
	Time      time.Time
	stream.DeadLetter
}

// Ref is "topic/partition@offset" of the record in the dead-letter topic.
func (r *Record) Ref() string { return fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset) }

// Parse reads a dead-letter message into a Record.
func Parse(m kafka.Message) Record {
	return Record{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Time: m.Time, DeadLetter: stream.ParseDeadLetter(m)}
}

// Sample turns a record into a sample for replay, kept for its first
// failure's category. The payload is the original, not redacted: the
// sample lives in memory only and is never written to a samples directory.
func (r *Record) Sample() samples.Sample {
	s := samples.Sample{
		CapturedAt: r.Time, Source: r.Source, RulesVersion: r.RulesVersion,
		Topic: r.OriginTopic, Partition: r.OriginPartition, Offset: r.OriginOffset,
		Key: r.Key, Outcome: mapper.OutcomeRejected, Failures: r.Failures,
		Category: string(mapper.ReasonMalformedPayload),
	}
	if len(r.Failures) > 0 {
		s.Category = r.Failures[0].Category().String()
	}
	for _, h := range r.Headers {
		s.Headers = append(s.Headers, samples.Header{Key: h.Key, Value: h.Value})
	}
	s.PayloadBase64 = r.Value
	if s.PayloadBase64 == nil {
		s.PayloadBase64 = []byte{}
	}
	return s
}

// Read reads the dead-letter topic within cfg.Bounds, partition by
// partition in offset order.
func Read(ctx context.Context, cfg Config) ([]Record, error) {
	if len(cfg.Kafka.Brokers) == 0 || cfg.Topic == "" {
		return nil, errors.New("read dead letters: brokers and topic are required")
	}
	d := cfg.Kafka.Dialer()
	conn, err := d.DialContext(ctx, "tcp", cfg.Kafka.Brokers[0])
	if err != nil {
		return nil, fmt.Errorf("read dead letters %s: %w", cfg.Topic, err)
	}
	ps, err := conn.ReadPartitions(cfg.Topic)
	conn.Close()
	if err != nil {
		return nil, fmt.Errorf("read dead letters %s: %w", cfg.Topic, err)
	}
	var parts []int
	for _, p := range ps {
		if p.Topic == cfg.Topic {
			parts = append(parts, p.ID)
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("read dead letters: topic %s not found", cfg.Topic)
	}
	sort.Ints(parts)
	var out []Record
	for _, p := range parts {
		start, end, err := partitionRange(ctx, d, cfg, p)
		if err != nil {
			return out, err
		}
		if start >= end {
			continue
		}
		recs, err := readPartition(ctx, cfg, p, start, end)
		if err != nil {
			return out, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

// partitionRange is the offsets [start, end) of a partition to read.
func partitionRange(ctx context.Context, d *kafka.Dialer, cfg Config, p int) (int64, int64, error) {
	conn, err := d.DialLeader(ctx, "tcp", cfg.Kafka.Brokers[0], cfg.Topic, p)
	if err != nil {
		return 0, 0, fmt.Errorf("read dead letters %s/%d: %w", cfg.Topic, p, err)
	}
	defer conn.Close()
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return 0, 0, fmt.Errorf("read dead letters %s/%d: offsets: %w", cfg.Topic, p, err)
	}
	start, end := max(first, cfg.Bounds.StartOffset), last
	if cfg.Bounds.EndOffset > 0 {
		end = min(end, cfg.Bounds.EndOffset)
	}
	if !cfg.Bounds.Since.IsZero() {
		off, err := conn.ReadOffset(cfg.Bounds.Since)
		if err != nil {
			return 0, 0, fmt.Errorf("read dead letters %s/%d: offset at %s: %w", cfg.Topic, p, cfg.Bounds.Since.Format(time.RFC3339), err)
		}
		if off < 0 { // no record at or after Since
			return 0, 0, nil
		}
		start = max(start, off)
	}
	return start, end, nil
}

func readPartition(ctx context.Context, cfg Config, p int, start, end int64) ([]Record, error) {
	cl := cfg.Kafka.Client(nil, 0)
	var out []Record
	for off := start; off < end; {
		msgs, next, err := kafkaconn.Fetch(ctx, cl, cfg.Topic, p, off, 16<<20, 250*time.Millisecond)
		if err != nil {
			return out, fmt.Errorf("read dead letters %s/%d at offset %d: %w", cfg.Topic, p, off, err)
		}
		for _, m := range msgs {
			if m.Offset >= end {
				return out, nil
			}
			if !cfg.Bounds.Until.IsZero() && m.Time.After(cfg.Bounds.Until) {
				return out, nil
			}
			if cfg.Bounds.Since.IsZero() || !m.Time.Before(cfg.Bounds.Since) {
				out = append(out, Parse(m))
				if cfg.Progress != nil {
					cfg.Progress(1)
				}
			}
		}
		off = next
	}
	return out, nil
}

// RedriveConfig says where to publish.
type RedriveConfig struct {
	// Kafka is how to reach the cluster. Kafka.Brokers is required.
	Kafka kafkaconn.Config
	// Group, when set, makes redrive idempotent: it is a consumer group
	// whose committed offsets on the dead-letter topic mark what was
	// redriven. Records below its offset are skipped, and once the
	// records are acknowledged the offset moves past the last one
	// redriven in each partition. Empty means no tracking: every record
	// given is published. A new group name starts afresh.
	Group string
}

// RedriveResult says what a redrive did.
type RedriveResult struct {
	// Published is how many records were re-published (acknowledged).
	Published int
	// Skipped is how many were left out: redriven before, per Group.
	Skipped int
}

// Redrive publishes records to the input topics they came from: original
// key, value and headers, plus HeaderRedrivenFrom. Each goes to its origin
// partition when the topic still has it (so per-key order is kept), else
// where the key hashes (murmur2, as Java clients do). It waits for every
// in-sync replica. With cfg.Group, records redriven before are skipped and
// the group's offsets are committed once the new ones are acknowledged, so
// a second redrive of the same range publishes nothing. A record without
// an origin topic is an error, and nothing is written.
func Redrive(ctx context.Context, cfg RedriveConfig, recs []Record) (RedriveResult, error) {
	var res RedriveResult
	done, err := redriven(ctx, cfg, recs)
	if err != nil {
		return res, err
	}
	msgs := make([]kafka.Message, 0, len(recs))
	next := map[string]map[int]int64{}
	for i := range recs {
		r := &recs[i]
		if r.OriginTopic == "" {
			return res, fmt.Errorf("redrive %s: the record has no %s header", r.Ref(), HeaderOriginTopic)
		}
		if off, ok := done[r.Topic][r.Partition]; ok && r.Offset < off {
			res.Skipped++
			continue
		}
		if next[r.Topic] == nil {
			next[r.Topic] = map[int]int64{}
		}
		next[r.Topic][r.Partition] = max(next[r.Topic][r.Partition], r.Offset+1)
		h := make([]kafka.Header, 0, len(r.Headers)+1)
		for _, x := range r.Headers {
			if x.Key != HeaderRedrivenFrom {
				h = append(h, x)
			}
		}
		h = append(h, kafka.Header{Key: HeaderRedrivenFrom, Value: []byte(r.Ref())})
		msgs = append(msgs, kafka.Message{Topic: r.OriginTopic, Partition: r.OriginPartition, Key: r.Key, Value: r.Value, Headers: h})
	}
	if len(msgs) == 0 {
		return res, nil
	}
	var hash kafka.Murmur2Balancer
	w := cfg.Kafka.Writer(nil, "")
	w.Balancer = kafka.BalancerFunc(func(m kafka.Message, partitions ...int) int {
		for _, p := range partitions {
			if p == m.Partition {
				return p
			}
		}
		return hash.Balance(m, partitions...)
	})
	w.BatchTimeout = 10 * time.Millisecond
	n := len(msgs)
	err = stream.WriteAcked(ctx, w, msgs, stream.Retry{Max: 2 * time.Second, Attempts: redriveAttempts, Retryable: transient})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, fmt.Errorf("redrive %d records: %w", n, err)
	}
	res.Published = n
	if cfg.Group == "" {
		return res, nil
	}
	if err := commitRedriven(ctx, cfg, next); err != nil {
		return res, fmt.Errorf("redrove %d records, but recording it in group %s failed (a second redrive would publish them again): %w", n, cfg.Group, err)
	}
	return res, nil
}

// redriven is, per dead-letter topic and partition, the group's committed
// offset: the records below it were redriven before.
func redriven(ctx context.Context, cfg RedriveConfig, recs []Record) (map[string]map[int]int64, error) {
	if cfg.Group == "" || len(recs) == 0 {
		return nil, nil
	}
	var done map[string]map[int]int64
	err := retryGroupCall(ctx, func() error {
		var err error
		done, err = redrivenOnce(ctx, cfg, recs)
		return err
	})
	return done, err
}

// redrivenOnce asks the group coordinator once: see redriven.
func redrivenOnce(ctx context.Context, cfg RedriveConfig, recs []Record) (map[string]map[int]int64, error) {
	parts := map[string][]int{}
	seen := map[string]map[int]bool{}
	for _, r := range recs {
		if seen[r.Topic] == nil {
			seen[r.Topic] = map[int]bool{}
		}
		if !seen[r.Topic][r.Partition] {
			seen[r.Topic][r.Partition] = true
			parts[r.Topic] = append(parts[r.Topic], r.Partition)
		}
	}
	resp, err := cfg.Kafka.Client(nil, 15*time.Second).OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: cfg.Group, Topics: parts})
	if err == nil {
		err = resp.Error
	}
	if errors.Is(err, kafka.GroupIdNotFound) {
		return nil, nil // a group never used: nothing redriven yet
	}
	if err != nil {
		return nil, fmt.Errorf("redrive: offsets of group %s: %w", cfg.Group, err)
	}
	done := map[string]map[int]int64{}
	for topic, ps := range resp.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return nil, fmt.Errorf("redrive: offset of group %s on %s/%d: %w", cfg.Group, topic, p.Partition, p.Error)
			}
			if p.CommittedOffset >= 0 {
				if done[topic] == nil {
					done[topic] = map[int]int64{}
				}
				done[topic][p.Partition] = p.CommittedOffset
			}
		}
	}
	return done, nil
}

// commitRedriven moves the group's offsets to next.
func commitRedriven(ctx context.Context, cfg RedriveConfig, next map[string]map[int]int64) error {
	return retryGroupCall(ctx, func() error { return commitRedrivenOnce(ctx, cfg, next) })
}

// retryGroupCall runs call until it succeeds, fails with an error a retry
// cannot cure, redriveAttempts have failed or ctx ends. A broker that has
// just started, or whose group coordinator moves, answers offset requests
// with retriable errors (coordinator not available, loading, not the
// coordinator) for a moment.
func retryGroupCall(ctx context.Context, call func() error) error {
	bo := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := call()
		if err == nil || attempt == redriveAttempts || !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(bo):
		}
		bo = min(2*bo, 2*time.Second)
	}
}

// commitRedrivenOnce commits once: see commitRedriven.
func commitRedrivenOnce(ctx context.Context, cfg RedriveConfig, next map[string]map[int]int64) error {
	topics := map[string][]kafka.OffsetCommit{}
	for topic, ps := range next {
		for p, off := range ps {
			topics[topic] = append(topics[topic], kafka.OffsetCommit{Partition: p, Offset: off})
		}
	}
	resp, err := cfg.Kafka.Client(nil, 15*time.Second).OffsetCommit(ctx, &kafka.OffsetCommitRequest{
		GroupID: cfg.Group, GenerationID: -1, Topics: topics,
	})
	if err != nil {
		return err
	}
	for topic, ps := range resp.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return fmt.Errorf("%s/%d: %w", topic, p.Partition, p.Error)
			}
		}
	}
	return nil
}

// redriveAttempts bounds the tries of a redrive write that fails with a
// transient error (a leader moving, a topic the broker does not know yet).
const redriveAttempts = 8

// transient reports whether err, or every error of a partial write, is
// one a retry can cure.
func transient(err error) bool {
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) {
		for _, e := range werrs {
			if e != nil && !transient(e) {
				return false
			}
		}
		return true
	}
	var ke kafka.Error
	return errors.As(err, &ke) && (ke.Temporary() || ke == kafka.UnknownTopicOrPartition)
}

// Summary describes the records read, for a report: the dead-letter
// offsets covered per partition.
func Summary(recs []Record) string {
	type span struct{ lo, hi int64 }
	spans := map[int]*span{}
	for _, r := range recs {
		s := spans[r.Partition]
		if s == nil {
			spans[r.Partition] = &span{r.Offset, r.Offset}
			continue
		}
		s.lo, s.hi = min(s.lo, r.Offset), max(s.hi, r.Offset)
	}
	var ps []int
	for p := range spans {
		ps = append(ps, p)
	}
	sort.Ints(ps)
	var parts []string
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("partition %d offsets %d-%d", p, spans[p].lo, spans[p].hi))
	}
	return strings.Join(parts, ", ")
}

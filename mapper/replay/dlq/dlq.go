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
	"strconv"
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

// workerHeaders are the headers the worker adds; every other header of a
// dead-letter record is one of the original record's.
var workerHeaders = []string{
	HeaderSource, HeaderRulesVersion, HeaderOutcome, HeaderFailure, HeaderFailureDetail,
	HeaderOriginTopic, HeaderOriginPartition, HeaderOriginOffset, HeaderOriginTime, HeaderDeadLetteredAt,
}

func isWorkerHeader(k string) bool {
	for _, h := range workerHeaders {
		if k == h {
			return true
		}
	}
	return false
}

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

// Record is one dead-letter record.
type Record struct {
	// Topic, Partition, Offset and Time say where it is in the dead-letter topic.
	Topic     string
	Partition int
	Offset    int64
	Time      time.Time
	// Key, Value and Headers are the original record's, byte for byte.
	Key     []byte
	Value   []byte
	Headers []kafka.Header
	// Source, RulesVersion, Failures and the Origin* fields are what the
	// worker's headers say; Source is empty when no source claimed it.
	Source          string
	RulesVersion    int
	Failures        []mapper.Failure
	OriginTopic     string
	OriginPartition int
	OriginOffset    int64
	OriginTime      time.Time
}

// Ref is "topic/partition@offset" of the record in the dead-letter topic.
func (r *Record) Ref() string { return fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset) }

// Parse reads a dead-letter message's headers into a Record.
func Parse(m kafka.Message) Record {
	r := Record{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Time: m.Time, Key: m.Key, Value: m.Value}
	var details []string
	for _, h := range m.Headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderSource:
			r.Source = v
		case HeaderRulesVersion:
			r.RulesVersion, _ = strconv.Atoi(v)
		case HeaderFailure:
			reason, field := samples.SplitCategory(v)
			r.Failures = append(r.Failures, mapper.Failure{Reason: reason, Field: field})
		case HeaderFailureDetail:
			details = append(details, v)
		case HeaderOriginTopic:
			r.OriginTopic = v
		case HeaderOriginPartition:
			r.OriginPartition, _ = strconv.Atoi(v)
		case HeaderOriginOffset:
			r.OriginOffset, _ = strconv.ParseInt(v, 10, 64)
		case HeaderOriginTime:
			r.OriginTime, _ = time.Parse(time.RFC3339Nano, v)
		default:
			if !isWorkerHeader(h.Key) {
				r.Headers = append(r.Headers, h)
			}
		}
	}
	for i := range r.Failures {
		if i < len(details) {
			r.Failures[i].Detail = details[i]
		}
	}
	return r
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
	rc := kafka.ReaderConfig{
		Brokers: cfg.Kafka.Brokers, Topic: cfg.Topic, Partition: p,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond, Dialer: cfg.Kafka.Dialer(),
	}
	r := kafka.NewReader(rc)
	defer r.Close()
	if err := r.SetOffset(start); err != nil {
		return nil, fmt.Errorf("read dead letters %s/%d: %w", cfg.Topic, p, err)
	}
	var out []Record
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return out, fmt.Errorf("read dead letters %s/%d at offset %d: %w", cfg.Topic, p, start, err)
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
		if m.Offset+1 >= end {
			return out, nil
		}
	}
}

// RedriveConfig says where to publish.
type RedriveConfig struct {
	// Kafka is how to reach the cluster. Kafka.Brokers is required.
	Kafka kafkaconn.Config
}

// Redrive publishes records to the input topics they came from: original
// key, value and headers, plus HeaderRedrivenFrom. Each goes to its origin
// partition when the topic still has it (so per-key order is kept), else
// where the key hashes (murmur2, as Java clients do). It waits for every
// in-sync replica. A record without an origin topic is an error, and
// nothing is written.
func Redrive(ctx context.Context, cfg RedriveConfig, recs []Record) error {
	msgs := make([]kafka.Message, 0, len(recs))
	for i := range recs {
		r := &recs[i]
		if r.OriginTopic == "" {
			return fmt.Errorf("redrive %s: the record has no %s header", r.Ref(), HeaderOriginTopic)
		}
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
		return nil
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
	err := writeRetrying(ctx, w, msgs)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("redrive %d records: %w", n, err)
	}
	return nil
}

// redriveAttempts bounds the tries of a redrive write that fails with a
// transient error (a leader moving, a topic the broker does not know yet).
const redriveAttempts = 8

// writeRetrying writes msgs, retrying those not acknowledged while the
// errors are transient. A record may be written twice; none is lost silently.
func writeRetrying(ctx context.Context, w *kafka.Writer, msgs []kafka.Message) error {
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := w.WriteMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		var werrs kafka.WriteErrors
		if errors.As(err, &werrs) && len(werrs) == len(msgs) {
			var failed []kafka.Message
			for i, e := range werrs {
				if e != nil {
					failed = append(failed, msgs[i])
				}
			}
			msgs = failed
		}
		if attempt == redriveAttempts || !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

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

// Package tap follows a topic the worker writes (the output or the
// dead-letter topic) and decodes each record's mapper.* headers: source,
// rules version, outcome, failures and origin, so that a person can watch
// what the worker does without another Kafka tool.
//
// Values are shown through the engine's redaction only: a dead-letter value
// (the original payload) is masked with its source's redact paths, an
// output value (the domain record) where its fields come from them, and
// failure details are made value-free at those paths; a record no source of
// the engine claims has its value withheld, since nothing says which of its
// values are secret.
//
// Follow reads every partition from its end (or its start) without joining
// a consumer group: it commits nothing and disturbs no consumer.
package tap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/registry"
	"github.com/mapperhq/mapper/mapper/replay/dlq"
	"github.com/mapperhq/mapper/mapper/stream"
)

// Config says what to follow. Kafka.Brokers, Topic and Engine are
// required.
type Config struct {
	Kafka kafkaconn.Config
	Topic string
	// Engine redacts values: a record's mapper.source names the source.
	Engine *mapper.Engine
	// FromBeginning starts every partition at its first offset; false
	// starts at its end, showing only records written from now on.
	FromBeginning bool
	// Filter keeps the records to show; the zero value keeps all.
	Filter Filter
	// Max stops after this many records shown; zero follows until ctx ends.
	Max int
}

// Filter selects records by outcome and failure category.
type Filter struct {
	// Outcomes, when not empty, keeps records with one of these outcomes
	// (mapped, degraded, rejected).
	Outcomes []string
	// Category, when set, keeps records with a failure of this category:
	// "reason:field", or a bare reason matching every field.
	Category string
}

// Problems lists what is wrong with f, one sentence each.
func (f Filter) Problems() []string {
	var p []string
	for _, o := range f.Outcomes {
		switch mapper.Outcome(o) {
		case mapper.OutcomeMapped, mapper.OutcomeDegraded, mapper.OutcomeRejected:
		default:
			p = append(p, fmt.Sprintf("outcome %q: want mapped, degraded or rejected", o))
		}
	}
	return p
}

// Keep reports whether r passes the filter.
func (f Filter) Keep(r *Record) bool {
	if len(f.Outcomes) > 0 && !slices.Contains(f.Outcomes, r.Outcome) {
		return false
	}
	if f.Category == "" {
		return true
	}
	for _, fl := range r.Failures {
		if fl.Category().String() == f.Category || (!strings.Contains(f.Category, ":") && string(fl.Reason) == f.Category) {
			return true
		}
	}
	return false
}

// Record is one record of the followed topic, headers decoded: the
// fields a dead letter's headers give (for an output record, Headers are
// empty and there are no details), its outcome, and its value redacted.
type Record struct {
	dlq.Record
	// Outcome is the mapper.outcome header: mapped, degraded or rejected.
	Outcome string
	// Withheld says why Value is nil ("" when it is not).
	Withheld string
	// SchemaID is the schema id of a value framed in the Confluent wire
	// format (Value is then the payload after the frame), 0 when not
	// framed; Schema says what the registry holds under it, when asked.
	SchemaID int
	Schema   string
}

// Decode decodes m's headers and redacts its value (Record.Value) with
// eng: the original value never reaches the Record.
func Decode(m kafka.Message, eng *mapper.Engine) Record {
	value := m.Value
	m.Value = nil
	r := Record{Record: dlq.Parse(m)}
	value, r.SchemaID = registry.Unframe(value)
	for _, h := range m.Headers {
		if h.Key == stream.HeaderOutcome {
			r.Outcome = string(h.Value)
		}
	}
	var src *mapper.Source
	if eng != nil && r.Source != "" {
		src = eng.Source(r.Source)
	}
	switch {
	case r.Source == "":
		r.Withheld = "no source claimed it, so nothing says which of its values are secret"
	case src == nil:
		r.Withheld = fmt.Sprintf("source %q is not in the rules loaded, so its redact paths are unknown", r.Source)
	default:
		r.Value, r.Withheld = redact(src, mapper.Outcome(r.Outcome), value)
		// The worker wrote value-free details, but the headers come from
		// the topic: mask them again rather than trust them.
		r.Failures = src.RedactFailures(r.Failures)
	}
	return r
}

// ErrNoTopic is wrapped by Follow's error when the topic does not exist.
var ErrNoTopic = errors.New("topic does not exist")

// Follow reads cfg.Topic's partitions and calls show for every record the
// filter keeps, one call at a time, until ctx ends (then it returns nil),
// cfg.Max records were shown, or show or a read fails.
func Follow(ctx context.Context, cfg Config, show func(*Record) error) error {
	if len(cfg.Kafka.Brokers) == 0 || cfg.Topic == "" || cfg.Engine == nil {
		return errors.New("tap: brokers, topic and rules are required")
	}
	parts, err := partitions(ctx, cfg)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	msgs := make(chan kafka.Message)
	for _, p := range parts {
		g.Go(func() error { return readPartition(gctx, cfg, p, msgs) })
	}
	g.Go(func() error {
		shown := 0
		for {
			var m kafka.Message
			select {
			case <-gctx.Done():
				return nil
			case m = <-msgs:
			}
			r := Decode(m, cfg.Engine)
			if !cfg.Filter.Keep(&r) {
				continue
			}
			if err := show(&r); err != nil {
				return err
			}
			if shown++; cfg.Max > 0 && shown >= cfg.Max {
				return errDone
			}
		}
	})
	if err := g.Wait(); err != nil && !errors.Is(err, errDone) {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	return nil
}

// errDone ends the readers once Max records were shown.
var errDone = errors.New("enough records shown")

func partitions(ctx context.Context, cfg Config) ([]int, error) {
	client := cfg.Kafka.Client(nil, 0)
	defer client.Transport.(*kafka.Transport).CloseIdleConnections()
	mctx, cancel := context.WithTimeout(ctx, cfg.Kafka.WithDefaults().ConnectTimeout)
	defer cancel()
	meta, err := client.Metadata(mctx, &kafka.MetadataRequest{Topics: []string{cfg.Topic}})
	if err != nil {
		return nil, fmt.Errorf("tap %s: no answer from %s: %w", cfg.Topic, strings.Join(cfg.Kafka.Brokers, ", "), err)
	}
	for _, t := range meta.Topics {
		if t.Name != cfg.Topic {
			continue
		}
		if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
			return nil, fmt.Errorf("tap: %w: %s", ErrNoTopic, cfg.Topic)
		}
		if t.Error != nil {
			return nil, fmt.Errorf("tap %s: %w", cfg.Topic, t.Error)
		}
		var ps []int
		for _, p := range t.Partitions {
			ps = append(ps, p.ID)
		}
		slices.Sort(ps)
		return ps, nil
	}
	return nil, fmt.Errorf("tap: %w: %s", ErrNoTopic, cfg.Topic)
}

func readPartition(ctx context.Context, cfg Config, p int, out chan<- kafka.Message) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: cfg.Kafka.Brokers, Topic: cfg.Topic, Partition: p, Dialer: cfg.Kafka.Dialer(),
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 500 * time.Millisecond,
	})
	defer r.Close()
	start := kafka.LastOffset
	if cfg.FromBeginning {
		start = kafka.FirstOffset
	}
	if err := r.SetOffset(start); err != nil {
		return fmt.Errorf("tap %s/%d: %w", cfg.Topic, p, err)
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("tap %s/%d: %w", cfg.Topic, p, err)
		}
		select {
		case out <- m:
		case <-ctx.Done():
			return nil
		}
	}
}

package stream_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/stream"
)

// loadEngine loads testdata's rules with their input topic set to topic.
func loadEngine(tb testing.TB, topic string) *mapper.Engine {
	tb.Helper()
	e, err := mapper.Load(writeRules(tb, topic), "testdata/schemas", mapper.Options{})
	if err != nil {
		tb.Fatalf("load test rules: %v", err)
	}
	return e
}

// writeRules writes testdata's rules with their input topic set to topic
// into a new directory and returns it.
func writeRules(tb testing.TB, topic string) string {
	tb.Helper()
	dir := tb.TempDir()
	tmpl, err := os.ReadFile("testdata/rules/orders.yaml.tmpl")
	if err != nil {
		tb.Fatal(err)
	}
	rules := filepath.Join(dir, "rules")
	if err := os.Mkdir(rules, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rules, "orders.yaml"), []byte(strings.ReplaceAll(string(tmpl), "{{TOPIC}}", topic)), 0o644); err != nil {
		tb.Fatal(err)
	}
	return rules
}

// payload returns the i-th test payload: clean ones and one of each defect
// in turn. defectEvery 0 means the full mix of payloadKinds.
func payload(i int, kind string) []byte {
	id := fmt.Sprintf("o-%d", i)
	switch kind {
	case "clean":
		return fmt.Appendf(nil, `{"order_id":%q,"customer":{"email":" Buyer%d@Example.com "},"amount":"%d.50","currency":"EUR","state":"PAID","created":"2024-05-01T10:00:00Z"}`, id, i, i)
	case "malformed":
		return fmt.Appendf(nil, `{"order_id":%q, not json`, id)
	case "missing":
		return fmt.Appendf(nil, `{"order_id":%q,"amount":"1.00","currency":"EUR","state":"OPEN"}`, id)
	case "null":
		return fmt.Appendf(nil, `{"order_id":null,"customer":{"email":"a@b.co"},"amount":"1.00","state":"OPEN"}`)
	case "type":
		return fmt.Appendf(nil, `{"order_id":%q,"customer":{"email":"a@b.co"},"amount":{"v":1},"state":"OPEN"}`, id)
	case "format":
		return fmt.Appendf(nil, `{"order_id":%q,"customer":{"email":"a@b.co"},"amount":"1.00","state":"OPEN","created":"yesterday"}`, id)
	case "enum":
		return fmt.Appendf(nil, `{"order_id":%q,"customer":{"email":"a@b.co"},"amount":"1.00","state":"LOST"}`, id)
	case "unexpected":
		return fmt.Appendf(nil, `{"order_id":%q,"customer":{"email":"a@b.co"},"amount":"1.00","currency":"EUR","state":"OPEN","gift":true}`, id)
	case "defaulted":
		return fmt.Appendf(nil, `{"order_id":%q,"customer":{"email":"a@b.co"},"amount":"1.00","state":"OPEN"}`, id)
	case "binary":
		return []byte{0xff, 0x00, 0xfe, byte(i)}
	}
	panic("unknown payload kind " + kind)
}

var defectKinds = []string{"malformed", "missing", "null", "type", "format", "enum", "unexpected", "defaulted", "binary"}

// mixed returns n records: every third one defective, cycling through every
// defect, with keys and headers.
func mixed(n int) []kafka.Message {
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		kind := "clean"
		if i%3 == 2 {
			kind = defectKinds[(i/3)%len(defectKinds)]
		}
		msgs[i] = kafka.Message{
			Key:   fmt.Appendf(nil, "key-%d", i),
			Value: payload(i, kind),
			Headers: []kafka.Header{
				{Key: "trace-id", Value: fmt.Appendf(nil, "t%d", i)},
				{Key: "raw", Value: []byte{0, 1, 2, byte(i)}},
			},
		}
	}
	return msgs
}

// testConfig is a worker configuration tuned for fast tests.
func testConfig(b *kafkatest.Broker, e *mapper.Engine, group string, topics []string, out, dlq string) stream.Config {
	return stream.Config{
		Kafka:             b.Conn(),
		GroupID:           group,
		Topics:            topics,
		OutputTopic:       out,
		DeadLetterTopic:   dlq,
		Engine:            e,
		Concurrency:       2,
		BatchSize:         200,
		ShutdownTimeout:   20 * time.Second,
		RetryBackoffMin:   20 * time.Millisecond,
		RetryBackoffMax:   500 * time.Millisecond,
		SessionTimeout:    6 * time.Second,
		HeartbeatInterval: 300 * time.Millisecond,
		RebalanceTimeout:  10 * time.Second,
		JoinGroupBackoff:  200 * time.Millisecond,
	}
}

// testLogger logs to the test when -v is given.
func testLogger(tb testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return nil
	}
	return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// running is a worker whose Run is in progress.
type running struct {
	w      *stream.Worker
	cancel context.CancelFunc
	done   chan struct{}
	err    error
	once   sync.Once
}

func start(tb testing.TB, cfg stream.Config) *running {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(tb)
	}
	w, err := stream.New(cfg)
	if err != nil {
		tb.Fatalf("stream.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{w: w, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = w.Run(ctx)
	}()
	tb.Cleanup(func() { r.stop() })
	return r
}

// stop cancels Run and waits for it.
func (r *running) stop() error {
	r.once.Do(func() {
		r.cancel()
		<-r.done
	})
	return r.err
}

// waitLagZero waits until the group has committed every record of its
// input topics, as the broker sees it.
func waitLagZero(tb testing.TB, w *stream.Worker, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	var last []stream.PartitionLag
	var lastErr error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		lags, err := w.Lag(ctx)
		cancel()
		last, lastErr = lags, err
		if err == nil && len(lags) > 0 {
			total := int64(0)
			for _, l := range lags {
				total += l.Lag
			}
			if total == 0 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("lag did not reach zero within %v: %+v (error %v)", timeout, last, lastErr)
}

// coord is where a record was read.
func coord(m kafka.Message) kafkatest.Coord {
	return kafkatest.Coord{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}
}

// originOf reads the origin headers of an output or dead-letter record.
func originOf(tb testing.TB, m kafka.Message) kafkatest.Coord {
	tb.Helper()
	t, ok1 := kafkatest.Header(m, stream.HeaderOriginTopic)
	p, ok2 := kafkatest.Header(m, stream.HeaderOriginPartition)
	o, ok3 := kafkatest.Header(m, stream.HeaderOriginOffset)
	if !ok1 || !ok2 || !ok3 {
		tb.Fatalf("record %s lacks origin headers: %v", coord(m), m.Headers)
	}
	var c kafkatest.Coord
	c.Topic = t
	if _, err := fmt.Sscan(p, &c.Partition); err != nil {
		tb.Fatalf("origin partition %q: %v", p, err)
	}
	if _, err := fmt.Sscan(o, &c.Offset); err != nil {
		tb.Fatalf("origin offset %q: %v", o, err)
	}
	return c
}

// expected is what the engine says a record becomes.
func expected(e *mapper.Engine, m kafka.Message) (*mapper.Source, mapper.Result) {
	src := e.SourceForTopic(m.Topic)
	if src == nil {
		return nil, mapper.UnknownSource(m.Topic)
	}
	return src, src.Map(m.Value)
}

// waitCommitted waits until the worker has counted n committed records: the
// broker acknowledges a commit (and reports the lag as zero) a moment before
// the worker counts it. The caller checks the count.
func waitCommitted(w *stream.Worker, n int64, timeout time.Duration) {
	for deadline := time.Now().Add(timeout); w.Counts(0).Committed < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

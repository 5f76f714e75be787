package demo_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/demo"
	"github.com/mapperhq/mapper/mapper/stream"
)

var update = flag.Bool("update", false, "update golden files")

func engine(t testing.TB) *mapper.Engine {
	t.Helper()
	eng, err := mapper.Load("../../rules", "../../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func TestLoadFixtures(t *testing.T) {
	eng := engine(t)
	t.Run("the shipped fixtures: every source, files routed to their topic, unclaimed records", func(t *testing.T) {
		by, unclaimed, err := demo.LoadFixtures(os.DirFS("../../fixtures"), eng)
		if err != nil {
			t.Fatal(err)
		}
		topics := map[string]int{}
		for _, fx := range by {
			for _, f := range fx {
				topics[f.Topic]++
				if len(f.Payload) == 0 {
					t.Errorf("empty payload for %s", f.Topic)
				}
			}
		}
		for _, topic := range []string{"partner.orders.raw", "github.webhooks"} {
			if topics[topic] == 0 {
				t.Errorf("no fixture for %s: %v", topic, topics)
			}
		}
		if len(by) != 2 || len(unclaimed) == 0 || unclaimed[0].Topic != demo.UnclaimedTopic {
			t.Errorf("%d sources, %d unclaimed", len(by), len(unclaimed))
		}
	})
	t.Run("JSON lines one a line, blank lines skipped, other files ignored", func(t *testing.T) {
		fsys := fstest.MapFS{
			"orders/a.jsonl":                        {Data: []byte("{\"a\":1}\n\n  \n{\"a\":2}\n")},
			"orders/b.json":                         {Data: []byte(`{"b":1}`)},
			"orders/notes.txt":                      {Data: []byte("ignored")},
			"github-work-items/pull_request.x.json": {Data: []byte(`{"pr":1}`)},
			"github-work-items/issues.y.json":       {Data: []byte(`{"issue":1}`)},
			"github-work-items/headers.txt":         {Data: []byte("pull_request.*  X-GitHub-Event=pull_request\n")},
		}
		by, unclaimed, err := demo.LoadFixtures(fsys, eng)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, fx := range by {
			for _, f := range fx {
				s := f.Topic + " " + string(f.Payload)
				for _, h := range f.Headers {
					s += " " + h.Key + "=" + string(h.Value)
				}
				got = append(got, s)
			}
		}
		want := `github.webhooks {"issue":1}|github.webhooks {"pr":1} X-GitHub-Event=pull_request|partner.orders.raw {"a":1}|partner.orders.raw {"a":2}|partner.orders.raw {"b":1}`
		if strings.Join(got, "|") != want {
			t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
		}
		if len(unclaimed) != 0 {
			t.Errorf("unclaimed %v without fixtures/unclaimed", unclaimed)
		}
	})
	t.Run("no fixture at all is an error", func(t *testing.T) {
		if _, _, err := demo.LoadFixtures(fstest.MapFS{}, eng); err == nil {
			t.Error("no error")
		}
	})
}

func TestProducer(t *testing.T) {
	eng := engine(t)
	broker, err := demo.StartBroker(eng, 2, "out", "dlq")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	b := kafkatest.FromKfake(broker)
	fx := [][]demo.Fixture{
		{{Topic: "partner.orders.raw", Payload: []byte(`{"o":1}`)}},
		{{Topic: "github.webhooks", Payload: []byte(`{"i":1}`)}},
	}
	unclaimed := []demo.Fixture{{Topic: demo.UnclaimedTopic, Payload: []byte(`{"u":1}`)}}
	w := &kafka.Writer{Addr: kafka.TCP(broker.ListenAddrs()...), Balancer: &kafka.Hash{}, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	p := demo.NewProducer(w, fx, unclaimed, 400)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for p.Produced() < 200 {
		if time.Now().After(deadline) {
			t.Fatalf("produced %d in 30s at 400/s", p.Produced())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	n := p.Produced()
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	var total int64
	counts := map[string]int64{}
	for _, topic := range []string{"partner.orders.raw", "github.webhooks", demo.UnclaimedTopic} {
		c, err := b.End(wctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		counts[topic] = c
		total += c
	}
	if total != n {
		t.Errorf("topics hold %d records, Produced says %d", total, n)
	}
	// Sources take turns; one record in UnclaimedEvery is unclaimed, in the
	// place of a source's turn.
	u := counts[demo.UnclaimedTopic]
	if d := counts["partner.orders.raw"] - counts["github.webhooks"]; d < -u-1 || d > u+1 || u != n/demo.UnclaimedEvery {
		t.Errorf("counts %v of %d", counts, n)
	}
}

func TestProducerStopsOnAWriteError(t *testing.T) {
	// Nothing listens there: the write fails, Run says so.
	w := &kafka.Writer{Addr: kafka.TCP("127.0.0.1:1"), MaxAttempts: 1, WriteTimeout: time.Second}
	defer w.Close()
	p := demo.NewProducer(w, [][]demo.Fixture{{{Topic: "t", Payload: []byte(`{}`)}}}, nil, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := p.Run(ctx)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "produce fixtures") {
		t.Errorf("Run = %v, want the write error", err)
	}
}

func TestWriteSummary(t *testing.T) {
	eng := engine(t)
	c := stream.Counts{Mapped: 861, Degraded: 20, Rejected: 304,
		Sources: []stream.SourceCounts{
			{Source: "", Rejected: 23},
			{Source: "github-work-items", RulesVersion: 1, Mapped: 514, Degraded: 20, Rejected: 59},
			{Source: "orders", RulesVersion: 1, Mapped: 347, Rejected: 222},
		},
		TopFailures: []stream.CategoryCount{
			{Source: "orders", Category: "invalid_format:created", Count: 43},
			{Source: "", Category: "unknown_source", Count: 23},
		},
	}
	tests := []struct {
		name, golden string
		counts       stream.Counts
		lagErr       error
	}{
		{"outcomes, sources against their objective, top categories", "testdata/summary.golden", c, nil},
		{"nothing yet, lag unknown", "testdata/summary-empty.golden", stream.Counts{}, errors.New("lag: metadata: broker down")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			demo.WriteSummary(&b, eng, 12*time.Second, 1185, tt.counts, 0, tt.lagErr, "http://127.0.0.1:44811/")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(tt.golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(tt.golden)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("differs from %s (go test -update rewrites it):\n%s", tt.golden, b.String())
			}
		})
	}
}

package stream_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper/stream"
)

type gauges struct {
	mu  sync.Mutex
	lag map[int]int64
}

func (g *gauges) ConsumerLag(topic string, partition int, lag int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lag[partition] = lag
}

func (g *gauges) total() (int64, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var n int64
	for _, l := range g.lag {
		n += l
	}
	return n, len(g.lag)
}

func TestReportLagSendsEveryPartitionsLag(t *testing.T) {
	b := kafkatest.StartKfake(t, kfake.SeedTopics(2, "in", "out", "dlq"))
	b.Produce(t, "in", mixed(30)...)
	w, err := stream.New(testConfig(b, loadEngine(t, "in"), "lag-test", []string{"in"}, "out", "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	g := &gauges{lag: map[int]int64{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.ReportLag(ctx, 20*time.Millisecond, g) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Nothing is consumed: the lag is every record produced.
		if n, parts := g.total(); n == 30 && parts == 2 {
			break
		}
		if time.Now().After(deadline) {
			n, parts := g.total()
			t.Fatalf("lag %d over %d partitions, want 30 over 2", n, parts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ReportLag did not return when its context ended")
	}
}

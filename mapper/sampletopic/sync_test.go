package sampletopic

import (
	"context"
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

func TestSyncPutsTheCountsInTheTopicBeforeAnyFlush(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			ctx := context.Background()
			cfg := topicConfig(b, createTopic(t, b, "samples", 2, "compact"))
			src := loadEngine(t).Source("orders")
			dir := t.TempDir()
			// Nothing flushes on its own during the test.
			w, err := NewWriter(ctx, WriterConfig{Config: cfg, Worker: "w", FlushInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			st, err := samples.Open(samples.Config{Dir: dir, FlushInterval: time.Hour, Sink: w})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			defer st.Close()
			records := func() uint64 {
				snap, err := Read(ctx, cfg, ReadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return snap.Counts()["orders"].Records
			}
			payloads := orderPayloads(t)
			for round := 1; round <= 2; round++ {
				for i, p := range payloads {
					res := src.Map(p)
					st.Observe(&mapper.Origin{Topic: "partner.orders.raw", Offset: int64(i)}, src, p, &res, 0)
				}
				want := uint64(round * len(payloads))
				if got := records(); got >= want {
					t.Fatalf("round %d: the topic counts %d records before any sync; the test needs it behind", round, got)
				}
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				if err := st.ShareCounts(sctx); err != nil {
					t.Fatal(err)
				}
				if err := w.Sync(sctx); err != nil {
					t.Fatal(err)
				}
				cancel()
				if got := records(); got != want {
					t.Errorf("round %d: after ShareCounts and Sync the topic counts %d records; want %d", round, got, want)
				}
			}
		})
	}
}

func TestSyncIsBoundedByItsContext(t *testing.T) {
	b := kafkatest.StartKfake(t)
	ctx := context.Background()
	cfg := topicConfig(b, createTopic(t, b, "samples", 1, "compact"))
	w, err := NewWriter(ctx, WriterConfig{Config: cfg, Worker: "w", FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Index(samples.Index{Sources: []samples.IndexSource{{Source: "orders", Records: 3}}})
	w.flushing <- struct{}{} // a flush that never ends
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := w.Sync(cctx); err == nil {
		t.Error("Sync returned nil while another flush held the partition writes")
	}
	<-w.flushing
	if err := w.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Pending != 0 || st.Written == 0 {
		t.Errorf("after Sync: %+v; want nothing pending", st)
	}
}

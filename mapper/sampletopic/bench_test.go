package sampletopic

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// BenchmarkRecordPath is the mapping goroutine's cost per order with the
// sample store keeping local samples only, and with the store also
// feeding the samples topic (a Writer on the embedded broker): the ratio
// is what sharing the samples costs the record path.
func BenchmarkRecordPath(b *testing.B) {
	br := kafkatest.StartKfake(b)
	src := loadEngine(b).Source("orders")
	ps := orderPayloads(b)
	for _, shared := range []bool{false, true} {
		b.Run(fmt.Sprintf("topic=%t", shared), func(b *testing.B) {
			cfg := samples.Config{Dir: b.TempDir(), Rand: rand.NewChaCha8([32]byte{1})}
			var w *Writer
			if shared {
				tc := topicConfig(br, createTopic(b, br, "samples", 3, "compact"))
				var err error
				w, err = NewWriter(context.Background(), WriterConfig{Config: tc, Worker: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				cfg.Sink = w
			}
			st, err := samples.Open(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var m mapper.Mapper
			var res mapper.Result
			origin := &mapper.Origin{Topic: "partner.orders.raw"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := ps[i%len(ps)]
				m.Map(src, p, &res)
				origin.Offset = int64(i)
				st.Observe(origin, src, p, &res, 0)
			}
			if err := st.Close(); err != nil {
				b.Fatal(err)
			}
			if w != nil {
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkIndex is the Writer's cost per flush for a worker with 256
// categories whose counts did not change (the usual flush: only changed
// counts are written).
func BenchmarkIndex(b *testing.B) {
	w := &Writer{cfg: WriterConfig{Worker: "bench"}, pending: map[string][]byte{}, sentRecords: map[recordsKey]recordsValue{}, sentSeen: map[seenKey]seenValue{}}
	idx := samples.Index{Sources: []samples.IndexSource{{Source: "orders", RulesVersion: 1, Records: 1e6}}}
	for i := range 256 {
		idx.Sources[0].Categories = append(idx.Sources[0].Categories, samples.IndexCategory{Category: fmt.Sprintf("missing_field:f%d", i), Seen: uint64(i)})
	}
	w.Index(idx)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Index(idx)
	}
}

// BenchmarkFold is the reader's cost per record of the topic (pull, and
// every worker's start).
func BenchmarkFold(b *testing.B) {
	line := []byte(`{"captured_at":"2026-01-02T03:04:05Z","source":"orders","rules_version":1,"category":"unknown_enum:status","topic":"partner.orders.raw","partition":0,"offset":1,"payload":{"order_id":"ORD-1","status":"on-hold"},"outcome":"rejected","failures":[{"reason":"unknown_enum","field":"status","detail":"x"}]}`)
	keys := make([][]byte, 64)
	for i := range keys {
		keys[i] = Key{Kind: KindSample, Source: "orders", Category: "unknown_enum:status", Slot: i % 20}.Bytes()
	}
	count := Key{Kind: KindSeen, Source: "orders", Category: "unknown_enum:status", Worker: "w"}.Bytes()
	s := newSnapshot("bench")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			s.apply(keys[i%len(keys)], line, int64(i))
		} else {
			s.apply(count, []byte(`{"seen":12345,"first_seen":"2026-01-02T03:04:05Z","last_seen":"2026-01-02T03:04:05Z"}`), int64(i))
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSyncBeforeCommit is what a commit waits for when the worker
// makes its counts durable first: the store hands its counts of 25
// categories over (ShareCounts) and the writer writes the changed ones and
// waits for the embedded broker's acknowledgement (Sync). Records are
// observed between syncs, as between commits.
func BenchmarkSyncBeforeCommit(b *testing.B) {
	br := kafkatest.StartKfake(b)
	src := loadEngine(b).Source("orders")
	ps := orderPayloads(b)
	ctx := context.Background()
	tc := topicConfig(br, createTopic(b, br, "samples", 3, "compact"))
	w, err := NewWriter(ctx, WriterConfig{Config: tc, Worker: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	st, err := samples.Open(samples.Config{Dir: b.TempDir(), Sink: w, Rand: rand.NewChaCha8([32]byte{1})})
	if err != nil {
		b.Fatal(err)
	}
	var m mapper.Mapper
	var res mapper.Result
	origin := &mapper.Origin{Topic: "partner.orders.raw"}
	observe := func(n int) {
		for i := range n {
			p := ps[i%len(ps)]
			m.Map(src, p, &res)
			st.Observe(origin, src, p, &res, 0)
		}
	}
	observe(len(ps)) // every category exists
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		observe(20)
		b.StartTimer()
		if err := st.ShareCounts(ctx); err != nil {
			b.Fatal(err)
		}
		if err := w.Sync(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

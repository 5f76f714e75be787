package stream_test

import (
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/release"
)

// BenchmarkEndToEndShadow measures records/s through the embedded broker,
// as BenchmarkEndToEnd does, over the partner orders, with the live rules
// alone and with a shadow candidate: the candidate doubles the mapping
// work, not the delivery work.
func BenchmarkEndToEndShadow(b *testing.B) {
	const n = 20000
	broker := kafkatest.StartKfake(b)
	msgs := orderRecords(b, n, 0)
	for _, withCandidate := range []bool{false, true} {
		name := "live"
		if withCandidate {
			name = "shadow"
		}
		b.Run(name, func(b *testing.B) {
			b.StopTimer()
			for range b.N {
				in := broker.Topic(b, "bench-in", 4)
				out, dlq := broker.Topic(b, "bench-out", 4), broker.Topic(b, "bench-dlq", 4)
				live := releaseSet(b, "live", in)
				var cand *mapper.Engine
				if withCandidate {
					cand = releaseSet(b, "candidate", in)
				}
				rel, err := release.New(release.Config{Live: live, Candidate: cand})
				if err != nil {
					b.Fatal(err)
				}
				broker.Produce(b, in, msgs...)
				cfg := testConfig(broker, live, kafkatest.UniqueName("g"), []string{in}, out, dlq)
				cfg.Release = rel
				cfg.Concurrency = 0 // one per core
				cfg.BatchSize = 1000
				b.StartTimer()
				r := start(b, cfg)
				for r.w.Counts(0).Committed < n {
					time.Sleep(time.Millisecond)
				}
				b.StopTimer()
				if err := r.stop(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

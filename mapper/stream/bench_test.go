package stream_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
)

// benchMix returns n records, defectPct percent of them defective.
func benchMix(n, defectPct int) []kafka.Message {
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		kind := "clean"
		if i%100 < defectPct {
			kind = defectKinds[i%len(defectKinds)]
		}
		msgs[i] = kafka.Message{Key: fmt.Appendf(nil, "k%d", i), Value: payload(i, kind)}
	}
	return msgs
}

var benchMixes = []struct {
	name      string
	defectPct int
}{{"clean", 0}, {"defective30", 30}}

// BenchmarkEndToEnd measures records/s through the embedded broker: N
// records are produced first, then a worker joins the group and the clock
// runs until the group has committed all N (each written to the output or
// dead-letter topic with acks=all first). The group join is included.
func BenchmarkEndToEnd(b *testing.B) {
	const n = 20000
	for _, mix := range benchMixes {
		b.Run(mix.name, func(b *testing.B) {
			broker := kafkatest.StartKfake(b)
			msgs := benchMix(n, mix.defectPct)
			b.ResetTimer()
			b.StopTimer()
			for range b.N {
				in := broker.Topic(b, "bench-in", 4)
				out, dlq := broker.Topic(b, "bench-out", 4), broker.Topic(b, "bench-dlq", 4)
				e := loadEngine(b, in)
				broker.Produce(b, in, msgs...)
				cfg := testConfig(broker, e, kafkatest.UniqueName("g"), []string{in}, out, dlq)
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
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				o, _ := broker.End(ctx, out)
				d, _ := broker.End(ctx, dlq)
				cancel()
				if o+d < n {
					b.Fatalf("%d+%d records delivered, want %d", o, d, n)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkEngineAlone maps the same records with one mapper.Mapper and no
// Kafka, for comparison with BenchmarkEndToEnd.
func BenchmarkEngineAlone(b *testing.B) {
	e := loadEngine(b, "bench-in")
	src := e.SourceForTopic("bench-in")
	for _, mix := range benchMixes {
		b.Run(mix.name, func(b *testing.B) {
			msgs := benchMix(1000, mix.defectPct)
			var m mapper.Mapper
			var res mapper.Result
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				m.Map(src, msgs[i%len(msgs)].Value, &res)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

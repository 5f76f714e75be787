package stream_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/batch"
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

// BenchmarkEndToEnd measures records/s through a broker, the embedded one
// always and a real Kafka when MAPPER_TEST_KAFKA is set: N records are
// produced first to 4 partitions, then a worker joins the group and the
// clock runs until the group has committed all N (each written to the
// output or dead-letter topic with acks=all first). The group join is
// included. Compare with BenchmarkEngineAlone on the same records (or
// mapper map --lines) for the ratio.
func BenchmarkEndToEnd(b *testing.B) {
	const n = 50000
	for _, target := range kafkatest.Targets() {
		b.Run(target.Name, func(b *testing.B) {
			broker := target.Start(b)
			for _, mix := range benchMixes {
				b.Run(mix.name, func(b *testing.B) {
					msgs := benchMix(n, mix.defectPct)
					b.ResetTimer()
					b.StopTimer()
					for range b.N {
						in := broker.Topic(b, "bench-in", 4)
						out, dlq := broker.Topic(b, "bench-out", 4), broker.Topic(b, "bench-dlq", 4)
						e := loadEngine(b, in)
						broker.Produce(b, in, msgs...)
						cfg := testConfig(broker, e, kafkatest.UniqueName("g"), []string{in}, out, dlq)
						cfg.Logger = nil
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

// BenchmarkBatchPath maps the records of BenchmarkEndToEnd as JSON lines
// through the batch path (mapper map --lines: every core, results written
// in input order), for the end-to-end ratio: run both back to back.
func BenchmarkBatchPath(b *testing.B) {
	const n = 50000
	e := loadEngine(b, "bench-in")
	src := e.SourceForTopic("bench-in")
	for _, mix := range benchMixes {
		b.Run(mix.name, func(b *testing.B) {
			var lines []byte
			for _, m := range benchMix(n, mix.defectPct) {
				lines = append(append(lines, bytes.ReplaceAll(m.Value, []byte("\n"), nil)...), '\n')
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := batch.Run(context.Background(), src, bytes.NewReader(lines), batch.Options{Out: io.Discard}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

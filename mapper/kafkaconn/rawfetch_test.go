package kafkaconn_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
)

// sameBytes is bytes.Equal that also tells null (nil) from empty.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

// TestFetchReadsWhatKafkaGoDecodes writes records whose keys, values and
// header values are null, empty or not, in several record batches, plain
// and with each compression codec, and checks that Fetch (which reads the
// fetch response itself) returns exactly what kafka-go's own decoding of
// the same fetch returns: offsets, times, keys, values and headers, null
// kept apart from empty, from the first offset and from one inside a
// batch.
func TestFetchReadsWhatKafkaGoDecodes(t *testing.T) {
	keys := [][]byte{nil, {}, []byte("k")}
	values := [][]byte{nil, {}, []byte(`{"order_id":"o-1"}`), bytes.Repeat([]byte("v"), 3000)}
	headerSets := [][]kafka.Header{
		nil,
		{{Key: "null", Value: nil}, {Key: "empty", Value: []byte{}}, {Key: "", Value: []byte{0}}},
	}
	var msgs []kafka.Message
	for _, k := range keys {
		for _, v := range values {
			for _, h := range headerSets {
				msgs = append(msgs, kafka.Message{Key: k, Value: v, Headers: h, Time: time.UnixMilli(1700000000123 + int64(len(msgs)))})
			}
		}
	}
	codecs := []compress.Compression{0, compress.Gzip, compress.Snappy, compress.Lz4, compress.Zstd}
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			for _, codec := range codecs {
				name := "none"
				if codec != 0 {
					name = codec.String()
				}
				t.Run(name, func(t *testing.T) {
					topic := b.Topic(t, "raw-fetch", 1)
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					defer cancel()
					// Three writes: three record batches at least.
					for i := 0; i < len(msgs); i += 9 {
						w := &kafka.Writer{Addr: kafka.TCP(b.Addr), Topic: topic, Transport: b.Transport,
							RequiredAcks: kafka.RequireAll, BatchSize: 100, BatchTimeout: time.Millisecond, Compression: codec}
						err := w.WriteMessages(ctx, msgs[i:min(i+9, len(msgs))]...)
						w.Close()
						if err != nil {
							t.Fatal(err)
						}
					}
					client := &kafka.Client{Addr: kafka.TCP(b.Addr), Transport: b.Transport}
					for _, from := range []int64{0, 4, int64(len(msgs) - 1)} {
						got, next, err := kafkaconn.Fetch(ctx, client, topic, 0, from, 4<<20, time.Second)
						if err != nil {
							t.Fatal(err)
						}
						want, wantNext, _, err := kafkaconn.FetchDecoded(ctx, client, topic, 0, from, 4<<20, time.Second, 256)
						if err != nil {
							t.Fatal(err)
						}
						if from == 0 && len(got) != len(msgs) {
							t.Fatalf("from 0: %d records, want all %d", len(got), len(msgs))
						}
						if len(got) != len(want) || next != wantNext {
							t.Fatalf("from %d: %d records, next %d; kafka-go decodes %d, next %d", from, len(got), next, len(want), wantNext)
						}
						for i := range got {
							if d := diff(got[i], want[i]); d != "" {
								t.Errorf("from %d, record %d: %s", from, i, d)
							}
							if m := msgs[got[i].Offset]; !sameBytes(got[i].Key, m.Key) || !sameBytes(got[i].Value, m.Value) {
								t.Errorf("record at %d: key %q value %.20q, produced %q %.20q", got[i].Offset, got[i].Key, got[i].Value, m.Key, m.Value)
							}
						}
						if len(got) > 0 && got[0].Offset != from {
							t.Errorf("from %d: the first record is at %d", from, got[0].Offset)
						}
					}
				})
			}
		})
	}
}

// diff says how a differs from b, "" if in nothing.
func diff(a, b kafka.Message) string {
	switch {
	case a.Topic != b.Topic || a.Partition != b.Partition || a.Offset != b.Offset || a.HighWaterMark != b.HighWaterMark:
		return fmt.Sprintf("at %s/%d@%d (hw %d), want %s/%d@%d (hw %d)", a.Topic, a.Partition, a.Offset, a.HighWaterMark, b.Topic, b.Partition, b.Offset, b.HighWaterMark)
	case !a.Time.Equal(b.Time):
		return fmt.Sprintf("time %v, want %v", a.Time, b.Time)
	case !sameBytes(a.Key, b.Key):
		return fmt.Sprintf("key %q (nil %t), want %q (nil %t)", a.Key, a.Key == nil, b.Key, b.Key == nil)
	case !sameBytes(a.Value, b.Value):
		return fmt.Sprintf("value %.20q (nil %t), want %.20q (nil %t)", a.Value, a.Value == nil, b.Value, b.Value == nil)
	case len(a.Headers) != len(b.Headers):
		return fmt.Sprintf("%d headers, want %d", len(a.Headers), len(b.Headers))
	}
	for i := range a.Headers {
		if a.Headers[i].Key != b.Headers[i].Key || !sameBytes(a.Headers[i].Value, b.Headers[i].Value) {
			return fmt.Sprintf("header %d: %q=%q, want %q=%q", i, a.Headers[i].Key, a.Headers[i].Value, b.Headers[i].Key, b.Headers[i].Value)
		}
	}
	return ""
}

// TestFetchPastTheEndIsOffsetOutOfRange asks for an offset past the
// partition's end: the broker's error comes back as kafka-go's Fetch
// returns it, so that the worker can tell it and start again from the
// partition's first record.
func TestFetchPastTheEndIsOffsetOutOfRange(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			topic := b.Topic(t, "past-the-end", 1)
			b.Produce(t, topic, kafka.Message{Value: []byte("a")}, kafka.Message{Value: []byte("b")})
			client := &kafka.Client{Addr: kafka.TCP(b.Addr), Transport: b.Transport}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			msgs, next, err := kafkaconn.Fetch(ctx, client, topic, 0, 100, 1<<20, time.Second)
			if !errors.Is(err, kafka.OffsetOutOfRange) || len(msgs) != 0 || next != 100 {
				t.Fatalf("fetch at 100 of 2 records: %d records, next %d, error %v; want none, 100, OffsetOutOfRange", len(msgs), next, err)
			}
		})
	}
}

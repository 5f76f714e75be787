package stream_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper/stream"
)

// sameBytes is bytes.Equal that also tells null (nil) from empty.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func show(b []byte) string {
	if b == nil {
		return "null"
	}
	return fmt.Sprintf("%q", b)
}

// TestDeadLettersAreByteForByte produces records whose keys, values and
// header values are null, empty or not, and checks that each dead letter
// carries the original key, value and headers bit for bit (null stays null,
// empty stays empty), and that output records keep the key the same way.
func TestDeadLettersAreByteForByte(t *testing.T) {
	keys := [][]byte{nil, {}, []byte("k")}
	values := [][]byte{nil, {}, []byte("not json"), {0xff, 0x00, 0xfe}}
	headerSets := [][]kafka.Header{
		nil,
		{{Key: "null", Value: nil}},
		{{Key: "empty", Value: []byte{}}},
		{{Key: "a", Value: []byte("x")}, {Key: "null", Value: nil}, {Key: "empty", Value: []byte{}}, {Key: "", Value: []byte{0}}},
	}
	var msgs []kafka.Message
	for _, k := range keys {
		for _, v := range values {
			for _, h := range headerSets {
				msgs = append(msgs, kafka.Message{Key: k, Value: v, Headers: h})
			}
		}
		// A clean record too: its output keeps the key.
		msgs = append(msgs, kafka.Message{Key: k, Value: payload(len(msgs), "clean"), Headers: headerSets[3]})
	}
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in := b.Topic(t, "bytes-in", 1)
			out, dlq := b.Topic(t, "bytes-out", 1), b.Topic(t, "bytes-dlq", 1)
			e := loadEngine(t, in)
			b.Produce(t, in, msgs...)

			// The broker itself keeps null apart from empty: read back the input.
			got := b.ReadAll(t, in)
			if len(got) != len(msgs) {
				t.Fatalf("read %d input records, produced %d", len(got), len(msgs))
			}
			for i := range msgs {
				if !sameBytes(got[i].Key, msgs[i].Key) || !sameBytes(got[i].Value, msgs[i].Value) {
					t.Fatalf("the broker returned input %d as key %s value %s; produced %s %s",
						i, show(got[i].Key), show(got[i].Value), show(msgs[i].Key), show(msgs[i].Value))
				}
			}

			r := start(t, testConfig(b, e, kafkatest.UniqueName("g"), []string{in}, out, dlq))
			waitLagZero(t, r.w, 60*time.Second)
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			byOrigin := map[int64]kafka.Message{}
			for _, topic := range []string{out, dlq} {
				for _, m := range b.ReadAll(t, topic) {
					byOrigin[originOf(t, m).Offset] = m
				}
			}
			var dead, checkedHeaders int
			for i, orig := range msgs {
				m, ok := byOrigin[int64(i)]
				if !ok {
					t.Errorf("input %d was not delivered", i)
					continue
				}
				if !sameBytes(m.Key, orig.Key) {
					t.Errorf("input %d: key %s, want %s", i, show(m.Key), show(orig.Key))
				}
				if o, _ := kafkatest.Header(m, stream.HeaderOutcome); o != "rejected" {
					continue
				}
				dead++
				if !sameBytes(m.Value, orig.Value) {
					t.Errorf("dead letter of input %d: value %s, want %s", i, show(m.Value), show(orig.Value))
				}
				if len(m.Headers) < len(orig.Headers) {
					t.Errorf("dead letter of input %d has %d headers, fewer than the original's %d", i, len(m.Headers), len(orig.Headers))
					continue
				}
				for j, h := range orig.Headers {
					g := m.Headers[j]
					if g.Key != h.Key || !sameBytes(g.Value, h.Value) {
						t.Errorf("dead letter of input %d, header %d: %q=%s, want %q=%s", i, j, g.Key, show(g.Value), h.Key, show(h.Value))
					}
					checkedHeaders++
				}
				d := stream.ParseDeadLetter(m)
				if len(d.Headers) != len(orig.Headers) {
					t.Errorf("ParseDeadLetter of input %d: %d original headers, want %d", i, len(d.Headers), len(orig.Headers))
				}
			}
			if want := len(keys) * len(values) * len(headerSets); dead != want {
				t.Errorf("%d dead letters, want %d", dead, want)
			}
			t.Logf("%d dead letters and %d original headers compared bit for bit", dead, checkedHeaders)
		})
	}
}

package tap_test

import (
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/stream"
	"github.com/mapperhq/mapper/mapper/tap"
)

// deadLetter is a dead-letter record of a real order fixture as the worker
// writes it.
func deadLetter(b testing.TB) (kafka.Message, *mapper.Engine) {
	b.Helper()
	eng, err := mapper.Load("../../rules", "../../schemas", mapper.Options{})
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile("../../fixtures/orders/defects.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	var line []byte
	for i, c := range data {
		if c == '\n' {
			line = data[:i]
			break
		}
	}
	m := kafka.Message{Topic: "orders.dead-letter", Partition: 1, Offset: 42, Key: []byte("k"), Value: line,
		Headers: []kafka.Header{
			{Key: stream.HeaderSource, Value: []byte("orders")},
			{Key: stream.HeaderRulesVersion, Value: []byte("1")},
			{Key: stream.HeaderOutcome, Value: []byte("rejected")},
			{Key: stream.HeaderFailure, Value: []byte("unknown_enum:status")},
			{Key: stream.HeaderFailureDetail, Value: []byte(`"on-hold" is not one of "paid"`)},
			{Key: stream.HeaderOriginTopic, Value: []byte("partner.orders.raw")},
			{Key: stream.HeaderOriginPartition, Value: []byte("0")},
			{Key: stream.HeaderOriginOffset, Value: []byte(strconv.Itoa(7))},
		}}
	return m, eng
}

// BenchmarkDecodeAndWrite is tap's cost per record: decode the headers,
// redact the payload, print it.
func BenchmarkDecodeAndWrite(b *testing.B) {
	m, eng := deadLetter(b)
	b.SetBytes(int64(len(m.Value)))
	b.ReportAllocs()
	for b.Loop() {
		r := tap.Decode(m, eng)
		if err := tap.WriteText(io.Discard, &r, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDecodeMasksTheRedactedPaths(t *testing.T) {
	m, eng := deadLetter(t)
	r := tap.Decode(m, eng)
	if r.Source != "orders" || r.Outcome != "rejected" || len(r.Failures) != 1 || r.Failures[0].Detail == "" || r.OriginOffset != 7 {
		t.Errorf("decoded %+v", r)
	}
	if string(r.Value) == string(m.Value) || len(r.Value) == 0 {
		t.Errorf("value not masked: %s", r.Value)
	}
	for _, secret := range []string{"Ana.Silva1@Example.COM", "Ana Silva", "1 Main St"} {
		if contains(r.Value, secret) {
			t.Errorf("value has %q: %s", secret, r.Value)
		}
	}
}

func contains(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

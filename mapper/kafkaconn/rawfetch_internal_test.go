package kafkaconn

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
)

// testBatch is a v2 record batch at base of records with the given
// values (no key, no header), each record r at offset base+r.
func testBatch(base int64, values ...string) []byte {
	var recs []byte
	for i, v := range values {
		var body []byte
		body = append(body, 0)                          // attributes
		body = binary.AppendVarint(body, int64(i))      // timestamp delta
		body = binary.AppendVarint(body, int64(i))      // offset delta
		body = binary.AppendVarint(body, -1)            // null key
		body = binary.AppendVarint(body, int64(len(v))) // value
		body = append(body, v...)
		body = binary.AppendVarint(body, 0) // no header
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	b := binary.BigEndian.AppendUint64(nil, uint64(base))
	b = binary.BigEndian.AppendUint32(b, uint32(49+len(recs)))
	b = binary.BigEndian.AppendUint32(b, 0) // leader epoch
	b = append(b, 2)                        // magic
	b = binary.BigEndian.AppendUint32(b, 0) // crc, below
	b = binary.BigEndian.AppendUint16(b, 0) // attributes
	b = binary.BigEndian.AppendUint32(b, uint32(len(values)-1))
	b = binary.BigEndian.AppendUint64(b, 1700000000000)
	b = binary.BigEndian.AppendUint64(b, 1700000000000)
	b = binary.BigEndian.AppendUint64(b, ^uint64(0)) // producer ID -1
	b = binary.BigEndian.AppendUint16(b, 0xffff)
	b = binary.BigEndian.AppendUint32(b, 0xffffffff)
	b = binary.BigEndian.AppendUint32(b, uint32(len(values)))
	b = append(b, recs...)
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], castagnoli))
	return b
}

// TestDecodeBatchesHostileResponses feeds record batches a broker (or the
// network) could get wrong: each is refused with an error or cut where it
// goes wrong, never read past its bounds, never a panic.
func TestDecodeBatchesHostileResponses(t *testing.T) {
	two := testBatch(10, `{"a":1}`, `{"b":2}`)
	badCRC := append([]byte(nil), two...)
	badCRC[len(badCRC)-1] ^= 1
	cutRecord := testBatch(10, `{"a":1}`, `{"b":2}`)
	// The second record says it is longer than the batch.
	cutRecord[61+14] = 0x7e // the first record takes 14 bytes
	binary.BigEndian.PutUint32(cutRecord[17:], crc32.Checksum(cutRecord[21:], castagnoli))
	oldMagic := append([]byte(nil), two...)
	oldMagic[16] = 1
	for _, tc := range []struct {
		name     string
		b        []byte
		from     int64
		records  int
		next     int64
		errorHas string
		notRaw   bool
	}{
		{name: "two records", b: two, from: 10, records: 2, next: 12},
		{name: "records before the offset are skipped", b: two, from: 11, records: 1, next: 12},
		{name: "two batches", b: append(append([]byte(nil), two...), testBatch(12, `{}`)...), from: 10, records: 3, next: 13},
		{name: "a batch cut short at the end waits for the next fetch", b: append(append([]byte(nil), two...), testBatch(12, `{}`)[:30]...), from: 10, records: 2, next: 12},
		{name: "a crc mismatch is an error", b: badCRC, from: 10, errorHas: "crc32 checksum mismatch"},
		{name: "a record longer than its batch ends the batch", b: cutRecord, from: 10, records: 1, next: 11},
		{name: "an older record format goes to kafka-go", b: oldMagic, from: 10, notRaw: true},
		{name: "a header shorter than 61 bytes is an error", b: append(binary.BigEndian.AppendUint32(make([]byte, 8), 20), append([]byte{0, 0, 0, 0, 2}, make([]byte, 15)...)...), from: 0, errorHas: "shorter than its header"},
		{name: "a negative batch length waits", b: append(binary.BigEndian.AppendUint32(make([]byte, 8), 0xffffffff), make([]byte, 60)...), from: 0, records: 0, next: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs, next, _, err := decodeBatches(nil, tc.b, "t", 0, tc.from, 100, 1<<20, 64)
			switch {
			case tc.notRaw:
				if err != errNotRaw {
					t.Fatalf("err %v, want errNotRaw", err)
				}
				return
			case tc.errorHas != "":
				if err == nil || !strings.Contains(err.Error(), tc.errorHas) {
					t.Fatalf("err %v, want one saying %q", err, tc.errorHas)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if len(msgs) != tc.records || next != tc.next {
				t.Fatalf("%d records, next %d; want %d, next %d", len(msgs), next, tc.records, tc.next)
			}
			for i, m := range msgs {
				if m.Offset < tc.from || (i > 0 && m.Offset <= msgs[i-1].Offset) {
					t.Errorf("record %d at offset %d (from %d)", i, m.Offset, tc.from)
				}
				if m.Key != nil {
					t.Errorf("record %d: key %q, want null", i, m.Key)
				}
			}
		})
	}
}

// FuzzDecodeBatches holds that no response bytes make decodeBatches panic
// or return a record before the offset asked for, or out of order.
func FuzzDecodeBatches(f *testing.F) {
	f.Add(testBatch(0, `{"a":1}`, ``, `x`), int64(0))
	f.Add(append(testBatch(5, `{}`), testBatch(6, `[]`, `1`)...), int64(6))
	f.Fuzz(func(t *testing.T, b []byte, from int64) {
		msgs, next, _, err := decodeBatches(nil, b, "t", 0, from, from+1000, 1<<20, 64)
		if err != nil {
			return
		}
		for i, m := range msgs {
			if m.Offset < from || (i > 0 && m.Offset <= msgs[i-1].Offset) {
				t.Fatalf("record %d at offset %d (from %d)", i, m.Offset, from)
			}
		}
		if len(msgs) > 0 && next != msgs[len(msgs)-1].Offset+1 {
			t.Fatalf("next %d after a last record at %d", next, msgs[len(msgs)-1].Offset)
		}
	})
}

// BenchmarkDecodeBatches reads 1,000 order-sized records in record
// batches of about 16 KiB (what a producer's default batch.size writes)
// out of a fetch response's bytes: CRC-32C checked, keys and values
// slices of the response.
func BenchmarkDecodeBatches(b *testing.B) {
	value := `{"order_id":"o-1","customer":{"email":"a@b.co"},"amount":"19.99","currency":"EUR","state":"PAID","note":"` + strings.Repeat("x", 480) + `"}`
	var resp []byte
	const n, perBatch = 1000, 26
	for base := 0; base < n; base += perBatch {
		values := make([]string, min(perBatch, n-base))
		for i := range values {
			values[i] = value
		}
		resp = append(resp, testBatch(int64(base), values...)...)
	}
	b.Run("own", func(b *testing.B) {
		b.SetBytes(int64(len(resp)))
		b.ReportAllocs()
		for b.Loop() {
			msgs, _, _, err := decodeBatches(nil, resp, "t", 0, 0, n, 1<<20, 600)
			if err != nil || len(msgs) != n {
				b.Fatalf("%d records, %v", len(msgs), err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	})
	// Into the records of the fetch before, as the worker reads a fetch
	// once every batch of the one before is acknowledged.
	b.Run("own-into", func(b *testing.B) {
		b.SetBytes(int64(len(resp)))
		b.ReportAllocs()
		var mem []kafka.Message
		for b.Loop() {
			msgs, _, _, err := decodeBatches(mem, resp, "t", 0, 0, n, 1<<20, 600)
			if err != nil || len(msgs) != n {
				b.Fatalf("%d records, %v", len(msgs), err)
			}
			mem = msgs
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	})
	// kafka-go's decoding of the same bytes, each record copied out as
	// the kafka-go path of fetch does.
	b.Run("kafka-go", func(b *testing.B) {
		set := binary.BigEndian.AppendUint32(nil, uint32(len(resp)))
		set = append(set, resp...)
		b.SetBytes(int64(len(resp)))
		b.ReportAllocs()
		for b.Loop() {
			var rs protocol.RecordSet
			if _, err := rs.ReadFrom(bytes.NewReader(set)); err != nil {
				b.Fatal(err)
			}
			var a arena
			got := 0
			for {
				r, err := rs.Records.ReadRecord()
				if err != nil {
					break
				}
				k, _ := a.read(r.Key)
				v, _ := a.read(r.Value)
				closeBytes(r.Key)
				closeBytes(r.Value)
				_ = kafka.Message{Offset: r.Offset, Key: k, Value: v, Time: r.Time}
				got++
			}
			if got != n {
				b.Fatalf("%d records", got)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	})
}

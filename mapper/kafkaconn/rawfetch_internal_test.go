package kafkaconn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
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
	// The whole fetch response as RawExchange reads it from a connection
	// that hands out 64 KiB at a time: each batch checked and decoded as
	// soon as it is in.
	b.Run("own-pieces", func(b *testing.B) {
		body := testResponse(11, 0, n, resp)
		buf := make([]byte, len(body))
		var mem []kafka.Message
		b.SetBytes(int64(len(resp)))
		b.ReportAllocs()
		for b.Loop() {
			f := fetchReading{version: 11, size: len(body), dec: batchDecoder{dst: mem, topic: "t", maxBytes: 1 << 20, perRecord: 600}}
			if err := f.from(&pieceReader{bytes.NewReader(body), 64 << 10}, buf); err != nil || f.err != nil {
				b.Fatal(err, f.err)
			}
			msgs, _, _ := f.dec.result()
			if len(msgs) != n {
				b.Fatalf("%d records", len(msgs))
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

// testResponse is a fetch response of version v, after its size field, for
// one partition: its error code, high watermark and record batches.
func testResponse(v, code int16, hw int64, records []byte) []byte {
	be := binary.BigEndian
	b := be.AppendUint32(nil, rawCorrelationID)
	b = be.AppendUint32(b, 0) // throttle time
	if v >= 7 {
		b = be.AppendUint16(b, 0) // error code
		b = be.AppendUint32(b, 0) // session ID
	}
	b = be.AppendUint32(b, 1) // topics
	b = be.AppendUint16(b, 5)
	b = append(b, "topic"...)
	b = be.AppendUint32(b, 1) // partitions
	b = be.AppendUint32(b, 0)
	b = be.AppendUint16(b, uint16(code))
	b = be.AppendUint64(b, uint64(hw))
	b = be.AppendUint64(b, uint64(hw)) // last stable offset
	if v >= 5 {
		b = be.AppendUint64(b, 0) // log start offset
	}
	b = be.AppendUint32(b, 1) // one aborted transaction
	b = append(b, make([]byte, 16)...)
	if v >= 11 {
		b = be.AppendUint32(b, 0xffffffff) // preferred read replica
	}
	b = be.AppendUint32(b, uint32(len(records)))
	return append(b, records...)
}

// pieceReader reads r at most n bytes at a time, as a connection hands
// out what has arrived.
type pieceReader struct {
	r io.Reader
	n int
}

func (p *pieceReader) Read(b []byte) (int, error) { return p.r.Read(b[:min(len(b), p.n)]) }

// fetchOutcome is what a fetch response decodes to.
type fetchOutcome struct {
	msgs    []kafka.Message
	next    int64
	batches int
	err     error
	hdrErr  bool
}

// decodeBatches reads the records of v2 record batches b, all in hand, from
// offset on, as batchDecoder does, batch after batch (the tests' whole-buffer
// counterpart of fetchReading): a batch cut short at the end
// (the broker fills up to the bytes asked for) is left for the next fetch.
// It returns the records, the offset to fetch next and the number of
// batches read.
func decodeBatches(dst []kafka.Message, b []byte, topic string, partition int, offset, hw, maxBytes, perRecord int64) ([]kafka.Message, int64, int, error) {
	d := batchDecoder{dst: dst, topic: topic, partition: partition, offset: offset, maxBytes: maxBytes, perRecord: perRecord}
	d.ready(hw)
	for len(b) >= batchHead {
		n := batchSize(b)
		if n < 0 || n > len(b) {
			break // cut short: the rest comes with the next fetch
		}
		if err := d.batch(b[:n]); err != nil {
			return nil, offset, 0, err
		}
		b = b[n:]
	}
	msgs, next, batches := d.result()
	return msgs, next, batches, nil
}

// partition reads a whole response to a fetch of one partition (after
// the correlation ID): its record batches and high watermark, or the error
// the broker gave. It is what a response read in pieces is held to.
func (d *responseDecoder) partition(version int16) (records []byte, hw int64, err error) {
	n, hw, code, err := d.partitionHeader(version)
	if err != nil {
		return nil, 0, err
	}
	if n > 0 {
		records = d.take(int(n))
	}
	if d.err != nil {
		return nil, 0, d.err
	}
	if code != 0 {
		return nil, hw, kafka.Error(code)
	}
	return records, hw, nil
}

// decodeWhole decodes a whole response at once: the header, then the
// batches.
func decodeWhole(body []byte, v int16, from int64) fetchOutcome {
	d := responseDecoder{b: body[4:]}
	recs, hw, err := d.partition(v)
	if err != nil {
		var kerr kafka.Error
		return fetchOutcome{err: err, hdrErr: !errors.As(err, &kerr)}
	}
	msgs, next, n, err := decodeBatches(nil, recs, "t", 0, from, hw, 1<<20, 64)
	return fetchOutcome{msgs: msgs, next: next, batches: n, err: err}
}

// decodePieces reads body from a connection that hands it out piece bytes
// at a time, followed by more bytes: it must read the response and no
// more.
func decodePieces(t *testing.T, body []byte, v int16, from int64, piece int) fetchOutcome {
	t.Helper()
	const after = "the next response"
	conn := bytes.NewReader(append(append([]byte(nil), body...), after...))
	f := fetchReading{version: v, size: len(body), dec: batchDecoder{topic: "t", offset: from, maxBytes: 1 << 20, perRecord: 64}}
	buf := make([]byte, len(body))
	if err := f.from(&pieceReader{conn, piece}, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	if rest, _ := io.ReadAll(conn); string(rest) != after {
		t.Fatalf("%d bytes left after the response, want %d", len(rest), len(after))
	}
	if !bytes.Equal(buf, body) {
		t.Fatal("the response read differs from the one sent")
	}
	if f.err != nil {
		return fetchOutcome{err: f.err, hdrErr: f.hdrErr}
	}
	msgs, next, n := f.dec.result()
	return fetchOutcome{msgs: msgs, next: next, batches: n}
}

// sameOutcome reports how two outcomes differ ("" when they do not).
func sameOutcome(got, want fetchOutcome) string {
	var gk, wk kafka.Error
	switch {
	case (got.err == nil) != (want.err == nil):
		return fmt.Sprintf("error %v, want %v", got.err, want.err)
	case got.err != nil && got.hdrErr != want.hdrErr:
		return fmt.Sprintf("error %v in the header: %v, want %v", got.err, got.hdrErr, want.hdrErr)
	case got.err != nil && errors.Is(got.err, errNotRaw) != errors.Is(want.err, errNotRaw):
		return fmt.Sprintf("error %v, want %v", got.err, want.err)
	case got.err != nil && (errors.As(got.err, &gk) != errors.As(want.err, &wk) || gk != wk):
		return fmt.Sprintf("error %v, want %v", got.err, want.err)
	case got.err != nil:
		return ""
	case got.next != want.next || got.batches != want.batches || len(got.msgs) != len(want.msgs):
		return fmt.Sprintf("%d records in %d batches, next %d; want %d in %d, next %d",
			len(got.msgs), got.batches, got.next, len(want.msgs), want.batches, want.next)
	}
	for i := range got.msgs {
		g, w := got.msgs[i], want.msgs[i]
		if g.Offset != w.Offset || !bytes.Equal(g.Key, w.Key) || (g.Key == nil) != (w.Key == nil) ||
			!bytes.Equal(g.Value, w.Value) || (g.Value == nil) != (w.Value == nil) || !g.Time.Equal(w.Time) ||
			len(g.Headers) != len(w.Headers) || g.HighWaterMark != w.HighWaterMark {
			return fmt.Sprintf("record %d: %+v, want %+v", i, g, w)
		}
	}
	return ""
}

// TestFetchResponseReadInPiecesDecodesAsWhole reads responses as a
// connection hands them out, a few bytes or many at a time: each record
// batch is checked and decoded as soon as it is in, and the outcome is the
// one of decoding the whole response at once. The response is read to its
// end whatever is wrong in it, so that the connection stays in step.
func TestFetchResponseReadInPiecesDecodesAsWhole(t *testing.T) {
	two := testBatch(10, `{"a":1}`, `{"b":2}`)
	three := testBatch(12, `{"c":3}`, ``, `{"d":[4]}`)
	badCRC := append([]byte(nil), three...)
	badCRC[len(badCRC)-1] ^= 1
	oldMagic := append([]byte(nil), three...)
	oldMagic[16] = 1
	join := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	for _, tc := range []struct {
		name    string
		code    int16
		batches []byte
		from    int64
		records int
		err     string
		cut     int // the response ends this many bytes early (its size says so)
	}{
		{name: "two batches", batches: join(two, three), from: 10, records: 5},
		{name: "records before the offset asked for are passed over", batches: join(two, three), from: 13, records: 2},
		{name: "a batch cut short at the end is left", batches: join(two, three[:40]), from: 10, records: 2},
		{name: "a batch cut short after its length", batches: join(two, three[:len(three)-1]), from: 10, records: 2},
		{name: "no batch", batches: nil, from: 10},
		{name: "a crc mismatch in the second batch", batches: join(two, badCRC), from: 10, err: "crc32 checksum mismatch"},
		{name: "an older format in the second batch", batches: join(two, oldMagic), from: 10, err: errNotRaw.Error()},
		{name: "the partition's error", code: 1, batches: two, from: 10, err: kafka.OffsetOutOfRange.Error()},
		{name: "records longer than the response", batches: join(two, three), from: 10, cut: 5, err: errShort.Error()},
		{name: "a header cut short", batches: nil, from: 10, cut: 30, err: errShort.Error()},
	} {
		for _, v := range []int16{4, 5, 7, 11} {
			body := testResponse(v, tc.code, 100, tc.batches)
			body = body[:len(body)-tc.cut]
			want := decodeWhole(body, v, tc.from)
			if tc.err == "" && (want.err != nil || len(want.msgs) != tc.records) {
				t.Fatalf("%s, v%d: decoded whole: %d records, %v; want %d", tc.name, v, len(want.msgs), want.err, tc.records)
			}
			if tc.err != "" && (want.err == nil || !strings.Contains(want.err.Error(), tc.err)) {
				t.Fatalf("%s, v%d: decoded whole: %v, want an error saying %q", tc.name, v, want.err, tc.err)
			}
			for _, piece := range []int{1, 3, 16, 17, 61, 100, 4096, len(body)} {
				t.Run(fmt.Sprintf("%s/v%d/%d", tc.name, v, piece), func(t *testing.T) {
					if diff := sameOutcome(decodePieces(t, body, v, tc.from, piece), want); diff != "" {
						t.Error(diff)
					}
				})
			}
		}
	}
}

// FuzzFetchResponseReadInPieces holds that a response read in pieces of
// any size decodes as it does whole, whatever its bytes, and is read to
// its end and no further.
func FuzzFetchResponseReadInPieces(f *testing.F) {
	f.Add(testResponse(11, 0, 20, append(testBatch(10, `{"a":1}`), testBatch(11, `[]`, ``)...)), uint16(7), int64(10), int16(11))
	f.Add(testResponse(4, 0, 20, testBatch(0, `x`)[:40]), uint16(1), int64(0), int16(4))
	f.Add(testResponse(7, 3, 20, nil), uint16(64), int64(0), int16(7))
	f.Fuzz(func(t *testing.T, body []byte, piece uint16, from int64, v int16) {
		if len(body) < 4 || v < rawMinVersion || v > rawMaxVersion {
			return
		}
		binary.BigEndian.PutUint32(body, rawCorrelationID)
		want := decodeWhole(body, v, from)
		if diff := sameOutcome(decodePieces(t, body, v, from, max(int(piece), 1)), want); diff != "" {
			t.Fatal(diff)
		}
	})
}

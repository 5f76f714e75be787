package stream

import (
	"encoding/binary"

	"github.com/segmentio/kafka-go"
)

// encoded is a built record as a produce request carries it, encoded by
// the mapping goroutine that built it, while the record is still in that
// core's cache: the part of a v2 record after its offset delta (nullable
// key, nullable value, header count, headers), and the record's
// recordSize. The writer then copies it as it is, one sequential read per
// record, instead of walking the record's headers again from another
// core. The record's Message points at it (WriterData) until answered; pw
// is the pending write it belongs to once enqueued.
//
// A dead letter's value, the original record's, is not copied where the
// record is built: the encoding is then body (up to the value's length),
// value (the fetched bytes, held until the record is answered) and tail
// (the header count and headers), and the writer copies the three.
type encoded struct {
	body []byte
	// value is the value set apart (nil: none, the encoding is all in
	// body), tail the encoding after it.
	value, tail []byte
	size        int64
	pw          *pendingWrite
}

// bodyLen is the length of the encoding.
func (e *encoded) bodyLen() int {
	return len(e.body) + len(e.value) + len(e.tail)
}

// headers reads the encoding's headers: values are slices of it.
func (e *encoded) headers() []kafka.Header {
	if e.value == nil {
		return decodeHeaders(e.body)
	}
	r := bodyReader{b: e.tail, ok: true}
	return r.headers()
}

// pendingOf returns the pending write m belongs to: WriterData is the
// *pendingWrite itself, or the record's *encoded carrying it (nil: none).
func pendingOf(m *kafka.Message) *pendingWrite {
	switch d := m.WriterData.(type) {
	case *encoded:
		return d.pw
	case *pendingWrite:
		return d
	}
	return nil
}

// setPending makes pw the pending write of m, keeping its encoding.
func setPending(m *kafka.Message, pw *pendingWrite) {
	if e, ok := m.WriterData.(*encoded); ok {
		e.pw = pw
		return
	}
	m.WriterData = pw
}

// sizeOf is recordSize(m), read from its encoding when it has one.
func sizeOf(m *kafka.Message) int64 {
	if e, ok := m.WriterData.(*encoded); ok {
		return e.size
	}
	return recordSize(m)
}

// headersOf returns m's headers: m.Headers, or for a record built without
// them, those of its encoding (values are slices of it).
func headersOf(m *kafka.Message) []kafka.Header {
	if e, ok := m.WriterData.(*encoded); ok && m.Headers == nil {
		return e.headers()
	}
	return m.Headers
}

// plainRecord returns m with its headers (headersOf) and without its
// encoding: what a writer other than the produceWriter (the retry path,
// a record held as too large) is given.
func plainRecord(m kafka.Message) kafka.Message {
	m.Headers = headersOf(&m)
	m.WriterData = nil
	return m
}

// decodeHeaders reads the headers of a record encoding (see encoded);
// on a malformed one it returns those read up to the fault (the encodings
// are the worker's own).
func decodeHeaders(b []byte) []kafka.Header {
	r := bodyReader{b: b, ok: true}
	r.bytes() // key
	r.bytes() // value
	return r.headers()
}

// headerKey is k as a string: the worker's own header names without a
// copy.
func headerKey(k []byte) string {
	for _, w := range workerHeaders {
		if string(k) == w {
			return w
		}
	}
	return string(k)
}

// bodyReader reads the varints and nullable bytes of a record encoding;
// ok turns false at the first read past its end.
type bodyReader struct {
	b  []byte
	ok bool
}

// headers reads a header count and that many headers; on a malformed
// encoding, those read up to the fault.
func (r *bodyReader) headers() []kafka.Header {
	n := r.varint()
	if !r.ok || n < 0 || n > int64(len(r.b)) {
		return nil
	}
	h := make([]kafka.Header, 0, n)
	for range n {
		k := r.bytes()
		v := r.bytes()
		if !r.ok {
			break
		}
		h = append(h, kafka.Header{Key: headerKey(k), Value: v})
	}
	return h
}

func (r *bodyReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.ok, r.b = false, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes reads nullable bytes: nil for null, else a slice of the encoding.
func (r *bodyReader) bytes() []byte {
	n := r.varint()
	if n < 0 || !r.ok {
		return nil
	}
	if n > int64(len(r.b)) {
		r.ok, r.b = false, nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

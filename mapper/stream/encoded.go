package stream

import "github.com/segmentio/kafka-go"

// encoded is a built record as a produce request carries it, encoded by
// the mapping goroutine that built it, while the record is still in that
// core's cache: the part of a v2 record after its offset delta (nullable
// key, nullable value, header count, headers), and the record's
// recordSize. The writer then copies body as it is, one sequential read
// per record, instead of walking the record's headers again from another
// core. The record's Message points at it (WriterData) until answered; pw
// is the pending write it belongs to once enqueued.
type encoded struct {
	body []byte
	size int64
	pw   *pendingWrite
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

package stream

import (
	"context"
	"errors"
	"math/bits"
	"time"

	"github.com/segmentio/kafka-go"
)

// MessageWriter is what delivery needs of a producer. *kafka.Writer (not
// Async) satisfies it. WriteMessages returns once every message is
// acknowledged or with an error; a kafka.WriteErrors, as long as msgs, tells
// which messages failed (the others were acknowledged).
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// closingWriter is a MessageWriter its user closes.
type closingWriter interface {
	MessageWriter
	Close() error
}

// Retry says how WriteAcked retries. The zero value retries every error,
// forever (until the context ends), with a backoff from 100ms to 5s.
type Retry struct {
	// Min and Max bound the exponential backoff between attempts. Zero
	// means 100ms and 5s.
	Min, Max time.Duration
	// Attempts bounds the attempts; zero means no bound.
	Attempts int
	// Retryable says whether an error is worth another attempt; nil means
	// every error is.
	Retryable func(error) bool
	// OnRetry, when non-nil, is called before each backoff with the attempt
	// that failed, how many messages are still unacknowledged and why.
	OnRetry func(attempt, failed int, err error)
}

// WriteAcked writes msgs with wr until every one is acknowledged: after a
// partial failure only the messages not acknowledged are written again. It
// returns nil once all are acknowledged, or the last write error when ctx
// ends, the attempts run out or an error is not retryable. A message may be
// written more than once (a write whose acknowledgement was lost); none is
// dropped without an error. It is the one acknowledged-write loop of the
// worker and of redrive.
func WriteAcked(ctx context.Context, wr MessageWriter, msgs []kafka.Message, r Retry) error {
	if r.Min == 0 {
		r.Min = 100 * time.Millisecond
	}
	if r.Max == 0 {
		r.Max = 5 * time.Second
	}
	bo := backoff{min: r.Min, max: r.Max}
	for attempt := 1; len(msgs) > 0; attempt++ {
		err := wr.WriteMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		var werrs kafka.WriteErrors
		if errors.As(err, &werrs) && len(werrs) == len(msgs) {
			var failed []kafka.Message
			for i, e := range werrs {
				if e != nil {
					failed = append(failed, msgs[i])
				}
			}
			msgs = failed
			if len(msgs) == 0 {
				return nil
			}
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		if (r.Attempts > 0 && attempt >= r.Attempts) || (r.Retryable != nil && !r.Retryable(err)) {
			return err
		}
		if r.OnRetry != nil {
			r.OnRetry(attempt, len(msgs), err)
		}
		if !bo.wait(ctx) {
			return errors.Join(err, ctx.Err())
		}
	}
	return nil
}

// recordBatchOverhead is what a produce request adds to a lone record on
// top of recordSize: the v2 record batch header (61 bytes) and the varints
// of the record itself, with room to spare. A record fits a topic when
// recordSize + recordBatchOverhead <= max.message.bytes.
const recordBatchOverhead = 128

// recordFixed is recordSize's fixed per-record allowance, with the key's
// and the value's lengths.
const recordFixed = 4 + 1 + 1 + 8 + 4 + 4

// recordSize is the size kafka-go's Writer counts for m against its
// BatchBytes: key, value, headers and a fixed per-record allowance.
func recordSize(m *kafka.Message) int64 {
	n := recordFixed + int64(len(m.Key)) + int64(len(m.Value))
	n += varintLen(int64(len(m.Headers)))
	for i := range m.Headers {
		h := &m.Headers[i]
		n += varintLen(int64(len(h.Key))) + int64(len(h.Key))
		n += varintLen(int64(len(h.Value))) + int64(len(h.Value))
	}
	return n
}

// varintLen is the size of v as a zig-zag varint: seven bits a byte.
func varintLen(v int64) int64 {
	u := uint64((v << 1) ^ (v >> 63))
	return int64(bits.Len64(u|1)+6) / 7
}

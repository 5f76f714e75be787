package kafkaconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
)

// Fetch reads the records of topic/partition from offset on (never one
// before it) with one Fetch request through client: about maxBytes of them
// at most, but at least one when there is one, waiting up to maxWait when
// there is none. offset may be kafka.FirstOffset or kafka.LastOffset. It
// returns the records and the offset to fetch next (offset itself when none
// came). It is how mapper reads records: kafka-go's protocol package keeps
// a null key, value or header value (nil here) apart from an empty one
// (non-nil, length zero), which kafka-go's Reader does not. Safe for
// concurrent use.
func Fetch(ctx context.Context, client *kafka.Client, topic string, partition int, offset, maxBytes int64, maxWait time.Duration) ([]kafka.Message, int64, error) {
	resp, err := client.Fetch(ctx, &kafka.FetchRequest{
		Topic: topic, Partition: partition, Offset: offset,
		MinBytes: 1, MaxBytes: maxBytes, MaxWait: maxWait,
	})
	if err != nil {
		return nil, offset, err
	}
	if resp.Error != nil {
		return nil, offset, resp.Error
	}
	next := offset
	// Sized once for the records this fetch can hold: no more than the
	// partition has past offset, nor than maxBytes of records of
	// minRecordGuess bytes (smaller records grow the slice as usual).
	var msgs []kafka.Message
	if offset >= 0 && resp.HighWatermark > offset && maxBytes > 0 {
		msgs = make([]kafka.Message, 0, min(resp.HighWatermark-offset, maxBytes/minRecordGuess+1))
	}
	var a arena
	for {
		r, err := resp.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if len(msgs) > 0 {
				break // a truncated last batch: take the whole records
			}
			return nil, offset, fmt.Errorf("decode records of %s/%d at %d: %w", topic, partition, offset, err)
		}
		if offset >= 0 && r.Offset < offset {
			closeBytes(r.Key)
			closeBytes(r.Value)
			continue
		}
		m := kafka.Message{Topic: topic, Partition: partition, Offset: r.Offset, Time: r.Time, HighWaterMark: resp.HighWatermark}
		if m.Key, err = a.read(r.Key); err == nil {
			m.Value, err = a.read(r.Value)
		}
		// Copied: give the fetch's pages back to kafka-go's pool, or every
		// fetch allocates (and zeroes) new 64 KiB pages.
		closeBytes(r.Key)
		closeBytes(r.Value)
		if err != nil {
			return nil, offset, fmt.Errorf("read record %s/%d@%d: %w", topic, partition, r.Offset, err)
		}
		if len(r.Headers) > 0 {
			m.Headers = make([]kafka.Header, len(r.Headers))
			for i, h := range r.Headers {
				m.Headers[i] = kafka.Header{Key: h.Key, Value: h.Value}
			}
		}
		msgs = append(msgs, m)
		next = r.Offset + 1
	}
	return msgs, next, nil
}

func closeBytes(b kafka.Bytes) {
	if b != nil {
		b.Close()
	}
}

// minRecordGuess is the record size Fetch sizes its result for.
const minRecordGuess = 256

// arena hands out the keys and values of one fetch from shared chunks: two
// allocations a record fewer. A record kept alone keeps its chunk alive;
// the records of a fetch travel and are released together.
type arena struct{ buf []byte }

const arenaChunk = 64 << 10

// read copies b into the arena: nil for a null b, a non-nil empty slice
// for an empty one.
func (a *arena) read(b kafka.Bytes) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	n := b.Len()
	if n == 0 {
		return []byte{}, nil
	}
	var out []byte
	if n > arenaChunk/4 {
		out = make([]byte, n)
	} else {
		if cap(a.buf)-len(a.buf) < n {
			a.buf = make([]byte, 0, arenaChunk)
		}
		l := len(a.buf)
		a.buf = a.buf[:l+n]
		out = a.buf[l : l+n : l+n]
	}
	if _, err := io.ReadFull(b, out); err != nil {
		return nil, err
	}
	return out, nil
}

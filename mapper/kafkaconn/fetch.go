package kafkaconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
)

// Fetch reads the records of topic/partition from offset on (never one
// before it) with one Fetch request through client: about maxBytes of them
// at most, but at least one when there is one, waiting up to maxWait when
// there is none. offset may be kafka.FirstOffset or kafka.LastOffset. It
// returns the records and the offset to fetch next (offset itself when none
// came). It is how mapper reads records: it reads the fetch response into
// one buffer itself, checking and decoding each record batch as soon as its
// bytes are in, and returns records whose keys, values and header
// values are slices of it (no copy a record), a null one nil and an empty
// one non-nil of length zero (kafka-go's Reader makes both nil). Records
// older than the v2 record batch, and a first or last offset, go through
// kafka-go's own decoding. Safe for concurrent use.
func Fetch(ctx context.Context, client *kafka.Client, topic string, partition int, offset, maxBytes int64, maxWait time.Duration) ([]kafka.Message, int64, error) {
	msgs, next, _, err := fetch(ctx, client, topic, partition, offset, maxBytes, maxWait, minRecordGuess)
	return msgs, next, err
}

// fetch is Fetch that also tells how many record batches the records came
// in; it sizes the slice of records for records of perRecord bytes.
func fetch(ctx context.Context, client *kafka.Client, topic string, partition int, offset, maxBytes int64, maxWait time.Duration, perRecord int64) ([]kafka.Message, int64, int, error) {
	if offset >= 0 {
		msgs, next, n, err := fetchRaw(ctx, client, &Memory{}, topic, partition, offset, maxBytes, maxWait, perRecord)
		if !errors.Is(err, errNotRaw) {
			return msgs, next, n, err
		}
	}
	return fetchDecoded(ctx, client, topic, partition, offset, maxBytes, maxWait, perRecord)
}

// fetchDecoded is fetch through kafka-go's Client.Fetch, which decodes the
// response itself: for a first or last offset, and for records older than
// the v2 record batch.
func fetchDecoded(ctx context.Context, client *kafka.Client, topic string, partition int, offset, maxBytes int64, maxWait time.Duration, perRecord int64) ([]kafka.Message, int64, int, error) {
	resp, err := client.Fetch(ctx, &kafka.FetchRequest{
		Topic: topic, Partition: partition, Offset: offset,
		MinBytes: 1, MaxBytes: maxBytes, MaxWait: maxWait,
	})
	if err != nil {
		return nil, offset, 0, err
	}
	if resp.Error != nil {
		return nil, offset, 0, resp.Error
	}
	next := offset
	// Sized once for the records this fetch can hold: no more than the
	// partition has past offset, nor than maxBytes of records of
	// perRecord bytes (smaller records grow the slice as usual).
	var msgs []kafka.Message
	if offset >= 0 && resp.HighWatermark > offset && maxBytes > 0 {
		msgs = make([]kafka.Message, 0, min(resp.HighWatermark-offset, maxBytes/max(perRecord, 1)+1))
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
			return nil, offset, 0, fmt.Errorf("decode records of %s/%d at %d: %w", topic, partition, offset, err)
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
			return nil, offset, 0, fmt.Errorf("read record %s/%d@%d: %w", topic, partition, r.Offset, err)
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
	return msgs, next, batches(resp.Records), nil
}

func closeBytes(b kafka.Bytes) {
	if b != nil {
		b.Close()
	}
}

// minRecordGuess is the record size Fetch sizes its result for (Fetcher:
// until it has seen the partition's records).
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

// batches is how many record batches a fetch's records came in (kafka-go
// decodes each into pages of its own).
func batches(r kafka.RecordReader) int {
	if s, ok := r.(*protocol.RecordStream); ok {
		return len(s.Records)
	}
	return 1
}

// pageBytes is the size of the pages kafka-go decodes fetched records
// into: each record batch of a fetch takes at least one, however small
// the batch.
const pageBytes = 64 << 10

// Fetcher fetches like Fetch, bounding the memory kafka-go takes to decode
// a fetch when it decodes it (records older than the v2 record batch, a
// first or last offset); a fetch Fetch reads itself takes the bytes it
// asks for. kafka-go reads every record batch of a fetch response into
// pages of 64 KiB of its own before the first record can be read, and
// keeps the pages for reuse; so a fetch of small batches (a producer that
// sends one record at a time writes batches of one record) would take 100
// times the records' size: a 4 MiB fetch of 600-byte records, 400 MiB.
// Fetcher learns, partition by partition, how many bytes of records a
// batch holds and asks for no more than fill MaxPageBytes of pages. Safe
// for concurrent use.
type Fetcher struct {
	Client  *kafka.Client
	MaxWait time.Duration
	// MaxPageBytes bounds the pages one fetch may take (zero:
	// DefaultMaxPageBytes).
	MaxPageBytes int64

	// decoded has every fetch decoded by kafka-go (tests).
	decoded bool

	mu sync.Mutex
	// seen is, by partition, the sizes of the last fetch that returned
	// records.
	seen map[partitionKey]seen
}

// seen are the average sizes of the records of one fetch: bytes of
// records a batch held, and a record.
type seen struct{ perBatch, perRecord int64 }

// DefaultMaxPageBytes is Fetcher's default bound on the pages of one fetch.
const DefaultMaxPageBytes = 8 << 20

type partitionKey struct {
	topic     string
	partition int
}

// firstBatchGuess is the batch size assumed before a partition's first
// fetch: small, so that the first fetch is bounded too.
const firstBatchGuess = 512

// Fetch reads records as the package's Fetch does, asking for at most
// maxBytes and at most what fills MaxPageBytes of pages.
func (f *Fetcher) Fetch(ctx context.Context, topic string, partition int, offset, maxBytes int64) ([]kafka.Message, int64, error) {
	return f.FetchInto(ctx, &Memory{}, topic, partition, offset, maxBytes)
}

// Memory is what a fetch's records are read into: the records (Msgs) and
// the response whose bytes their keys, values and header values are
// slices of (Body). Fetcher.FetchInto reads into it where it has room and
// leaves in it what the fetch used, so that a caller done with every
// record of a fetch (and every slice of their bytes) can read the next
// fetch into the same memory.
type Memory struct {
	Msgs []kafka.Message
	Body []byte
}

// FetchInto is Fetch that reads into mem (what it held is overwritten)
// and leaves in mem the memory the records are in. A fetch kafka-go
// decodes (records older than the v2 batch) reads into neither; records of
// a compressed batch are slices of their decompressed bytes, not of Body.
func (f *Fetcher) FetchInto(ctx context.Context, mem *Memory, topic string, partition int, offset, maxBytes int64) ([]kafka.Message, int64, error) {
	k := partitionKey{topic, partition}
	f.mu.Lock()
	last, ok := f.seen[k]
	f.mu.Unlock()
	if !ok {
		last.perRecord = minRecordGuess
	}
	var msgs []kafka.Message
	var next int64
	var n int
	var err error
	// Read into one buffer (fetchRaw), a fetch takes the bytes it asks
	// for and no pages: only kafka-go's decoding needs the bound.
	raw := offset >= 0 && !f.decoded
	if raw {
		msgs, next, n, err = fetchRaw(ctx, f.Client, mem, topic, partition, offset, maxBytes, f.MaxWait, last.perRecord)
		raw = !errors.Is(err, errNotRaw)
	}
	if !raw {
		msgs, next, n, err = fetchDecoded(ctx, f.Client, topic, partition, offset, f.Limit(topic, partition, maxBytes), f.MaxWait, last.perRecord)
	}
	if err != nil || len(msgs) == 0 || n == 0 {
		return msgs, next, err
	}
	var size int64
	for i := range msgs {
		size += int64(len(msgs[i].Key) + len(msgs[i].Value) + recordOverhead)
		for _, h := range msgs[i].Headers {
			size += int64(len(h.Key) + len(h.Value) + 2)
		}
	}
	f.mu.Lock()
	if f.seen == nil {
		f.seen = map[partitionKey]seen{}
	}
	// A little under the average, so that a fetch of the same records
	// rarely outgrows its slice.
	f.seen[k] = seen{perBatch: max(size/int64(n), 1), perRecord: max(size/int64(len(msgs))*7/8, 1)}
	f.mu.Unlock()
	return msgs, next, nil
}

// recordOverhead is what a record takes in a batch besides its key,
// value and headers (lengths, deltas and attributes as varints).
const recordOverhead = 8

// Limit is the most bytes of records a fetch of topic/partition asks
// for, given that the caller allows maxBytes: no more than fill
// MaxPageBytes of pages at the batch size last seen.
func (f *Fetcher) Limit(topic string, partition int, maxBytes int64) int64 {
	pages := f.MaxPageBytes
	if pages <= 0 {
		pages = DefaultMaxPageBytes
	}
	f.mu.Lock()
	last, ok := f.seen[partitionKey{topic, partition}]
	f.mu.Unlock()
	per := last.perBatch
	if !ok {
		per = firstBatchGuess
	}
	// A batch of per bytes takes ceil(per/pageBytes) pages; bound the
	// bytes by the pages their batches take.
	pagesPerBatch := (per + pageBytes - 1) / pageBytes
	limit := pages / (pagesPerBatch * pageBytes) * per
	return max(min(maxBytes, limit), 1)
}

package stream

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
)

// produceWriter is the asyncWriter of the output and dead-letter topics:
// it produces through kafka.Client.Produce. Each record gets its partition
// from the balancer (by key, as kafka-go's Writer with kafkaconn's settings
// does) and joins its partition's queue; one goroutine per partition with
// records queued sends them, one request at a time (so in order), each
// request carrying as many queued records as fit batchBytes. Records that
// arrive while a request is out go together in the next: batching needs no
// timer, and the per-record work of kafka-go's Writer (a metadata look-up
// and a copy into its own batches per record) is not done. Safe for
// concurrent use.
type produceWriter struct {
	client     *kafka.Client
	topic      string
	acks       kafka.RequiredAcks
	balancer   kafka.Balancer
	batchBytes int64
	maxRecords int
	// attempts bounds the tries of one request on a temporary error,
	// minBackoff and maxBackoff the waits between them; timeout bounds one
	// request.
	attempts               int
	minBackoff, maxBackoff time.Duration
	timeout                time.Duration
	// complete is told the outcome of every record enqueued (err nil:
	// acknowledged), once.
	complete func(msgs []*kafka.Message, err error)

	mu     sync.Mutex
	closed bool
	ids    []int // the topic's partitions
	// part, at and order are WriteAsync's scratch (w.mu held): each
	// record's partition, where each partition's records start, and the
	// records in partition order.
	part, at, order []int32
	read            time.Time
	queues          map[int]*partitionQueue
	senders         sync.WaitGroup
}

// partitionQueue is one partition's records waiting to be sent. It holds
// them by pointer: the caller of WriteAsync keeps them unchanged until
// answered.
type partitionQueue struct {
	mu sync.Mutex
	// msgs[head:] are the records waiting; the sender moves them down (or
	// empties msgs) between requests, so that the queue's memory serves
	// request after request.
	msgs    []*kafka.Message
	head    int
	sending bool
	// buf is the record batch of the request being sent, reused from
	// request to request (only the one sender of the queue touches it).
	buf []byte
}

// partitionsTTL is how long the topic's partition count is used before it
// is read again.
const partitionsTTL = 30 * time.Second

func newProduceWriter(client *kafka.Client, topic string, batchBytes int64, maxRecords int, backoffMin, backoffMax time.Duration) *produceWriter {
	return &produceWriter{
		client: client, topic: topic, acks: kafka.RequireAll, balancer: &kafka.Murmur2Balancer{},
		batchBytes: batchBytes, maxRecords: max(maxRecords, 1), attempts: 3,
		minBackoff: backoffMin, maxBackoff: backoffMax, timeout: 10 * time.Second,
		complete: settleWrites, queues: map[int]*partitionQueue{},
	}
}

// settleWrites settles each run of records of one pendingWrite at once: a
// produce request may mix records of several batches.
func settleWrites(msgs []*kafka.Message, err error) {
	for i := 0; i < len(msgs); {
		pw := pendingOf(msgs[i])
		j := i + 1
		for j < len(msgs) && pendingOf(msgs[j]) == pw {
			j++
		}
		if pw != nil {
			var failed []kafka.Message
			if err != nil {
				failed = make([]kafka.Message, j-i)
				for k := range failed {
					failed[k] = *msgs[i+k]
				}
			}
			pw.answer(j-i, failed, err)
		}
		i = j
	}
}

// WriteAsync queues msgs by partition, in call order, and returns; an
// error (the writer is closed, or the topic's partitions cannot be read)
// means none was queued. msgs must stay unchanged until answered.
func (w *produceWriter) WriteAsync(msgs []kafka.Message) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return io.ErrClosedPipe
	}
	if err := w.partitions(); err != nil {
		return err
	}
	// Sort the records by partition (stable: in call order within each),
	// then queue each partition's at once.
	part := w.part[:0]
	for i := range msgs {
		part = append(part, int32(w.balancer.Balance(msgs[i], w.ids...)))
	}
	at := append(w.at[:0], make([]int32, len(w.ids)+1)...)
	for _, id := range part {
		at[id+1]++
	}
	for id := range w.ids {
		at[id+1] += at[id]
	}
	order := append(w.order[:0], make([]int32, len(msgs))...)
	for i, id := range part {
		order[at[id]] = int32(i)
		at[id]++
	}
	w.part, w.at, w.order = part, at, order
	for lo := 0; lo < len(order); {
		id := int(part[order[lo]])
		hi := lo + 1
		for hi < len(order) && int(part[order[hi]]) == id {
			hi++
		}
		q := w.queues[id]
		if q == nil {
			q = &partitionQueue{}
			w.queues[id] = q
		}
		q.mu.Lock()
		for _, i := range order[lo:hi] {
			q.msgs = append(q.msgs, &msgs[i])
		}
		start := !q.sending
		q.sending = true
		q.mu.Unlock()
		if start {
			w.senders.Add(1)
			go w.send(id, q)
		}
		lo = hi
	}
	return nil
}

// partitions reads the topic's partitions when they were never read or
// are older than partitionsTTL; a failed re-read keeps the ones known.
// w.mu is held.
func (w *produceWriter) partitions() error {
	if w.ids != nil && time.Since(w.read) < partitionsTTL {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	resp, err := w.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{w.topic}})
	if err == nil {
		err = fmt.Errorf("topic %s not in the metadata", w.topic)
		for _, t := range resp.Topics {
			if t.Name != w.topic {
				continue
			}
			err = t.Error
			if err == nil && len(t.Partitions) == 0 {
				err = fmt.Errorf("topic %s has no partitions", w.topic)
			}
			if err == nil {
				w.ids = make([]int, len(t.Partitions))
				for i := range w.ids {
					w.ids[i] = i
				}
				w.read = time.Now()
			}
		}
	}
	if err != nil && w.ids == nil {
		return fmt.Errorf("read partitions of %s: %w", w.topic, err)
	}
	return nil
}

// send sends q's records until it is empty.
func (w *produceWriter) send(id int, q *partitionQueue) {
	defer w.senders.Done()
	for {
		q.mu.Lock()
		// No request holds records of msgs now: what was sent can go.
		if q.head == len(q.msgs) {
			clear(q.msgs)
			q.msgs, q.head, q.sending = q.msgs[:0], 0, false
			q.mu.Unlock()
			return
		}
		if q.head > len(q.msgs)/2 {
			k := copy(q.msgs, q.msgs[q.head:])
			clear(q.msgs[k:])
			q.msgs, q.head = q.msgs[:k], 0
		}
		// The queue's first records stay as they are while it is unlocked:
		// WriteAsync only appends, and only this sender takes records off.
		next := q.msgs[q.head:min(len(q.msgs), q.head+w.maxRecords)]
		q.mu.Unlock()
		var n int
		q.buf, n = appendRecordBatchUpTo(q.buf[:0], next, time.Now(), w.batchBytes)
		batch := next[:n:n]
		q.mu.Lock()
		q.head += n
		q.mu.Unlock()
		w.complete(batch, w.produce(id, len(batch), q.buf))
	}
}

// produce writes a record batch of n records (encoded by
// appendRecordBatch) to one partition in one request, tried again on a
// temporary error. The batch is encoded once, whatever the attempts.
func (w *produceWriter) produce(id, n int, records []byte) error {
	bo := backoff{min: w.minBackoff, max: w.maxBackoff}
	var r bytes.Reader
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
		r.Reset(records)
		res, err := w.client.RawProduce(ctx, &kafka.RawProduceRequest{
			Topic: w.topic, Partition: id, RequiredAcks: w.acks, RawRecords: protocol.RawRecordSet{Reader: &r},
		})
		cancel()
		if err == nil && res.Error != nil {
			err = res.Error
		}
		if err == nil {
			return nil
		}
		if attempt >= w.attempts || !temporary(err) {
			return fmt.Errorf("produce %d records to %s/%d: %w", n, w.topic, id, err)
		}
		bo.wait(context.Background())
	}
}

// temporary reports whether err is worth another attempt: a Kafka error
// that says so, or a network error.
func temporary(err error) bool {
	var ke kafka.Error
	if errors.As(err, &ke) {
		return ke.Temporary()
	}
	return !errors.Is(err, context.Canceled)
}

// Close sends what is queued and waits until every record is answered.
func (w *produceWriter) Close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.senders.Wait()
	return nil
}

// appendRecordBatch appends to b a record set as a produce request carries
// it: its size, then one record batch (message format v2, no compression)
// of msgs, in order, with offset deltas from 0. A nil key, value or header
// value stays null and an empty one stays empty; a record without a time
// gets now. It is the produce encoding done once, in one pass, into a
// buffer the caller reuses.
func appendRecordBatch(b []byte, msgs []*kafka.Message, now time.Time) []byte {
	b, _ = appendRecordBatchUpTo(b, msgs, now, math.MaxInt64)
	return b
}

// appendRecordBatchUpTo is appendRecordBatch of the first of msgs whose
// recordSize add up to at most maxBytes (the first one whatever its size),
// counted as they are encoded; it returns how many it took.
func appendRecordBatchUpTo(b []byte, msgs []*kafka.Message, now time.Time, maxBytes int64) ([]byte, int) {
	start := len(b)
	b = append(b, make([]byte, 4+recordBatchHeader)...)
	nowMs := now.UnixMilli()
	first, maxTs := int64(0), int64(0)
	var size int64 // the records' recordSize
	n := len(msgs)
	for i, m := range msgs {
		e, _ := m.WriterData.(*encoded)
		var hdrs, s int64
		if e != nil {
			s = e.size
		} else {
			for _, h := range m.Headers {
				hdrs += varintLen(int64(len(h.Key))) + int64(len(h.Key)) + nullBytesLen(h.Value)
			}
			// recordSize, with each header's size counted once for both.
			s = recordFixed + int64(len(m.Key)+len(m.Value)) + varintLen(int64(len(m.Headers))) + hdrs
		}
		if i > 0 && size+s > maxBytes {
			n = i
			break
		}
		size += s
		ts := nowMs
		if !m.Time.IsZero() {
			ts = m.Time.UnixMilli()
		}
		if i == 0 {
			first = ts
		}
		maxTs = max(maxTs, ts)
		delta := ts - first
		if e != nil {
			// Encoded where it was built: only the length, attributes and
			// deltas are written here.
			b = binary.AppendVarint(b, 1+varintLen(delta)+varintLen(int64(i))+int64(e.bodyLen()))
			b = append(b, 0)
			b = binary.AppendVarint(b, delta)
			b = binary.AppendVarint(b, int64(i))
			b = append(b, e.body...)
			if e.value != nil {
				b = append(append(b, e.value...), e.tail...)
			}
			continue
		}
		length := 1 + varintLen(delta) + varintLen(int64(i)) + nullBytesLen(m.Key) + nullBytesLen(m.Value) +
			varintLen(int64(len(m.Headers))) + hdrs
		b = binary.AppendVarint(b, length)
		b = append(b, 0) // record attributes
		b = binary.AppendVarint(b, delta)
		b = binary.AppendVarint(b, int64(i))
		b = appendNullBytes(b, m.Key)
		b = appendNullBytes(b, m.Value)
		b = binary.AppendVarint(b, int64(len(m.Headers)))
		for _, h := range m.Headers {
			b = binary.AppendVarint(b, int64(len(h.Key)))
			b = append(b, h.Key...)
			b = appendNullBytes(b, h.Value)
		}
	}
	hdr := b[start+4:]
	be := binary.BigEndian
	be.PutUint32(b[start:], uint32(len(hdr)))   // record set size
	be.PutUint64(hdr[0:], 0)                    // base offset
	be.PutUint32(hdr[8:], uint32(len(hdr)-12))  // batch length
	be.PutUint32(hdr[12:], 0xffffffff)          // partition leader epoch: -1
	hdr[16] = 2                                 // magic
	be.PutUint16(hdr[21:], 0)                   // attributes: no compression
	be.PutUint32(hdr[23:], uint32(max(n-1, 0))) // last offset delta
	be.PutUint64(hdr[27:], uint64(first))
	be.PutUint64(hdr[35:], uint64(maxTs))
	be.PutUint64(hdr[43:], 0xffffffffffffffff) // producer id: -1
	be.PutUint16(hdr[51:], 0xffff)             // producer epoch: -1
	be.PutUint32(hdr[53:], 0xffffffff)         // base sequence: -1
	be.PutUint32(hdr[57:], uint32(n))
	be.PutUint32(hdr[17:], crc32.Checksum(hdr[21:], castagnoli))
	return b, n
}

// recordBatchHeader is the size of a v2 record batch's header.
const recordBatchHeader = 61

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// nullBytesLen is the encoded size of nullable bytes: a varint length (-1
// for nil) and the bytes.
func nullBytesLen(v []byte) int64 {
	if v == nil {
		return 1
	}
	return varintLen(int64(len(v))) + int64(len(v))
}

func appendNullBytes(b, v []byte) []byte {
	if v == nil {
		return binary.AppendVarint(b, -1)
	}
	return append(binary.AppendVarint(b, int64(len(v))), v...)
}

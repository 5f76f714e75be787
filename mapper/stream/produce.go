package stream

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/mapper/kafkaconn"
)

// produceWriter is the asyncWriter of the output and dead-letter topics:
// it produces through the kafka.Client's transport. Each record gets its
// partition from the balancer (by key, as kafka-go's Writer with
// kafkaconn's settings does) and joins its partition's queue. One
// goroutine sends what is queued, round after round (so each partition's
// records in order): each round, one request per leader broker carrying,
// for each of its partitions with records queued, as many as fit
// batchBytes. Records that arrive while a round is out go together in the
// next: batching needs no timer, a round is one request for all the
// partitions of a broker rather than one per partition, and the per-record
// work of kafka-go's Writer (a metadata look-up and a copy into its own
// batches per record) is not done. Safe for concurrent use.
type produceWriter struct {
	client     *kafka.Client
	topic      string
	acks       kafka.RequiredAcks
	balancer   kafka.Balancer
	batchBytes int64
	maxRecords int
	// attempts bounds the tries of one partition's records on a temporary
	// error, minBackoff and maxBackoff the waits between them; timeout
	// bounds one request.
	attempts               int
	minBackoff, maxBackoff time.Duration
	timeout                time.Duration
	// complete is told the outcome of every record enqueued (err nil:
	// acknowledged), once.
	complete func(msgs []queued, err error)

	mu      sync.Mutex
	closed  bool
	ids     []int // the topic's partitions
	leaders []int // each partition's leader broker (-1: none known)
	// part, at and order are WriteAsync's scratch (w.mu held): each
	// record's partition, where each partition's records start, and the
	// records in partition order.
	part, at, order []int32
	read            time.Time
	queues          map[int]*partitionQueue
	sending         bool // the sender runs
	senders         sync.WaitGroup
	// rounds is the sender's scratch: a round's partitions.
	rounds []partitionSend
}

// partitionSend is one partition's part of a round: its records, their
// record set and the outcome.
type partitionSend struct {
	id     int
	q      *partitionQueue
	leader int
	batch  []queued
	err    error
}

// partitionQueue is one partition's records waiting to be sent. It holds
// them by pointer: the caller of WriteAsync keeps them unchanged until
// answered.
type partitionQueue struct {
	mu sync.Mutex
	// msgs[head:] are the records waiting; the sender moves them down (or
	// empties msgs) between rounds, so that the queue's memory serves
	// round after round.
	msgs []queued
	head int
	// buf is the partition's record set in the round being sent, after
	// room for the request's framing (kafkaconn.ProduceRoom), reused from
	// round to round (only the sender touches it).
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

// queued is a record in a partition's queue: the record, and what the
// sender reads of it, taken when it was queued (by the goroutine that
// built it, while the record is in its cache), so that the sender, on
// another core as a rule, reads the encoding and no more: its encoding
// (nil: none, the record is encoded from m) and its time in milliseconds
// (when timed; else the time of the request).
type queued struct {
	m     *kafka.Message
	e     *encoded
	ts    int64
	timed bool
}

// queueEntry is m as queued.
func queueEntry(m *kafka.Message) queued {
	q := queued{m: m}
	q.e, _ = m.WriterData.(*encoded)
	if !m.Time.IsZero() {
		q.ts, q.timed = m.Time.UnixMilli(), true
	}
	return q
}

// pending is the pending write of the record queued.
func (q *queued) pending() *pendingWrite {
	if q.e != nil {
		return q.e.pw
	}
	return pendingOf(q.m)
}

// settleWrites settles each run of records of one pendingWrite at once: a
// produce request may mix records of several batches.
func settleWrites(msgs []queued, err error) {
	for i := 0; i < len(msgs); {
		pw := msgs[i].pending()
		j := i + 1
		for j < len(msgs) && msgs[j].pending() == pw {
			j++
		}
		if pw != nil {
			var failed []kafka.Message
			if err != nil {
				failed = make([]kafka.Message, j-i)
				for k := range failed {
					failed[k] = *msgs[i+k].m
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
			q.msgs = append(q.msgs, queueEntry(&msgs[i]))
		}
		q.mu.Unlock()
		lo = hi
	}
	if !w.sending && len(msgs) > 0 {
		w.sending = true
		w.senders.Add(1)
		go w.send()
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
				leaders := make([]int, len(t.Partitions))
				for i := range w.ids {
					w.ids[i], leaders[i] = i, -1
				}
				for _, p := range t.Partitions {
					if p.ID >= 0 && p.ID < len(leaders) {
						leaders[p.ID] = p.Leader.ID
					}
				}
				w.leaders, w.read = leaders, time.Now()
			}
		}
	}
	if err != nil && w.ids == nil {
		return fmt.Errorf("read partitions of %s: %w", w.topic, err)
	}
	return nil
}

// send sends the queued records, round after round, until none is left.
func (w *produceWriter) send() {
	defer w.senders.Done()
	for {
		w.mu.Lock()
		round := w.rounds[:0]
		for _, id := range w.ids {
			q := w.queues[id]
			if q == nil {
				continue
			}
			q.mu.Lock()
			// No request holds records of msgs now: what was sent can go.
			if q.head == len(q.msgs) {
				clear(q.msgs)
				q.msgs, q.head = q.msgs[:0], 0
				q.mu.Unlock()
				continue
			}
			if q.head > len(q.msgs)/2 {
				k := copy(q.msgs, q.msgs[q.head:])
				clear(q.msgs[k:])
				q.msgs, q.head = q.msgs[:k], 0
			}
			// The queue's first records stay as they are while it is
			// unlocked: WriteAsync only appends, and only this sender takes
			// records off.
			next := q.msgs[q.head:min(len(q.msgs), q.head+w.maxRecords)]
			q.mu.Unlock()
			round = append(round, partitionSend{id: id, q: q, leader: leaderOf(w.leaders, id), batch: next})
		}
		w.rounds = round
		if len(round) == 0 {
			w.sending = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		now := time.Now()
		room := kafkaconn.ProduceRoom(w.client, w.topic)
		for i := range round {
			ps := &round[i]
			var n int
			// The request's framing goes in the room before the record set.
			ps.q.buf, n = appendQueuedUpTo(append(ps.q.buf[:0], make([]byte, room)...), ps.batch, now, w.batchBytes)
			ps.batch = ps.batch[:n:n]
			ps.q.mu.Lock()
			ps.q.head += n
			ps.q.mu.Unlock()
		}
		w.produce(round)
		clear(round)
	}
}

// produce writes the record sets of a round (each built by
// appendQueuedUpTo), one request per leader broker, at once when there
// are several, and tries a partition's records again on a temporary error
// (with the partitions' leaders read again). The record sets are built
// once, whatever the attempts. Each partition's records are answered
// (w.complete) as soon as their outcome is known: those acknowledged, or
// failed for good, are not held while others wait to be tried again.
func (w *produceWriter) produce(round []partitionSend) {
	bo := backoff{min: w.minBackoff, max: w.maxBackoff}
	todo := make([]int, len(round))
	for i := range round {
		todo[i], round[i].err = i, nil
	}
	for attempt := 1; ; attempt++ {
		// The partitions of one leader make one request.
		slices.SortStableFunc(todo, func(a, b int) int { return cmp.Compare(round[a].leader, round[b].leader) })
		var wg sync.WaitGroup
		for lo := 0; lo < len(todo); {
			hi := lo + 1
			for hi < len(todo) && round[todo[hi]].leader == round[todo[lo]].leader {
				hi++
			}
			if group := todo[lo:hi]; len(group) == len(todo) {
				w.request(round, group)
			} else {
				wg.Go(func() { w.request(round, group) })
			}
			lo = hi
		}
		wg.Wait()
		var again []int
		for _, i := range todo {
			ps := &round[i]
			if ps.err != nil && attempt < w.attempts && temporary(ps.err) {
				again = append(again, i)
				continue
			}
			if ps.err != nil {
				ps.err = fmt.Errorf("produce %d records to %s/%d: %w", len(ps.batch), w.topic, ps.id, ps.err)
			}
			w.complete(ps.batch, ps.err)
		}
		if len(again) == 0 {
			return
		}
		bo.wait(context.Background())
		leaders := w.leadersNow()
		for _, i := range again {
			round[i].leader = leaderOf(leaders, round[i].id)
		}
		todo = again
	}
}

// leaderOf is partition id's leader in leaders (-1: none known).
func leaderOf(leaders []int, id int) int {
	if id < len(leaders) {
		return leaders[id]
	}
	return -1
}

// leadersNow reads the topic's partitions and leaders again and returns
// the leaders (those known before if the read fails).
func (w *produceWriter) leadersNow() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.read = time.Time{}
	_ = w.partitions() // on failure the leaders known stay
	return w.leaders
}

// request writes the record sets of the partitions round[idx] (of one
// leader) in one request and sets each one's err from the answer.
func (w *produceWriter) request(round []partitionSend, idx []int) {
	parts := make([]kafkaconn.ProducePartition, len(idx))
	for k, i := range idx {
		parts[k] = kafkaconn.ProducePartition{Partition: round[i].id, Buf: round[i].q.buf}
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	err := kafkaconn.Produce(ctx, w.client, w.topic, w.acks, w.timeout, parts)
	if err != nil {
		// No answer: when the request's context ended, kafka-go's
		// transport returned while the connection may still be writing
		// the request from the record sets' buffers. Those are left to
		// it; the partitions' next attempts and rounds use copies.
		for _, i := range idx {
			round[i].q.buf = bytes.Clone(round[i].q.buf)
		}
	}
	for k, i := range idx {
		round[i].err = err
		if err == nil {
			round[i].err = parts[k].Err
		}
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

// appendQueuedUpTo appends to b a record set as a produce request carries
// it: its size, then one record batch (message format v2, no compression)
// of the first of msgs whose recordSize add up to at most maxBytes (the
// first one whatever its size, counted as they are encoded), in order,
// with offset deltas from 0; it returns how many it took. A record with an
// encoding is read from it alone; one without is encoded from its message,
// where a nil key, value or header value stays null and an empty one stays
// empty. A record without a time gets now. It is the produce encoding done
// once, in one pass, into a buffer the caller reuses.
func appendQueuedUpTo(b []byte, msgs []queued, now time.Time, maxBytes int64) ([]byte, int) {
	start := len(b)
	b = append(b, make([]byte, 4+recordBatchHeader)...)
	nowMs := now.UnixMilli()
	first, maxTs := int64(0), int64(0)
	var size int64 // the records' recordSize
	n := len(msgs)
	for i := range msgs {
		e, m := msgs[i].e, msgs[i].m
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
		if msgs[i].timed {
			ts = msgs[i].ts
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

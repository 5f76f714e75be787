package kafkaconn

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"github.com/segmentio/kafka-go/protocol"
	fetchAPI "github.com/segmentio/kafka-go/protocol/fetch"
)

// rawFetch is a Fetch request that reads its own response. kafka-go
// decodes a fetch response's record batches into pages of its own and
// each record into a Record of its own, which the caller then copies out;
// rawFetch reads the whole response into one buffer and hands out the
// records' keys and values as slices of it. It goes through kafka-go's
// transport (its connections, TLS, SASL and routing to the partition's
// leader) as a protocol.RawExchanger.
type rawFetch struct {
	req      fetchAPI.Request
	clientID string
	// version is the Fetch version the connection negotiated.
	version int16
	// body is the response after its size field: read into body's memory
	// when it has room.
	body []byte
	// maxBody bounds body.
	maxBody int64
	// read decodes the response as it is read; dec is its decoder as
	// fetchRaw makes it, copied afresh for each exchange.
	read fetchReading
	dec  batchDecoder
}

// errNotRaw says that rawFetch cannot read this response (a Fetch version
// or a record format older than the v2 record batch): the caller fetches
// through kafka-go instead.
var errNotRaw = errors.New("fetch response not in the v2 record batch format")

// Fetch versions rawFetch reads: 4 (the first to carry v2 record batches)
// up to 11 (kafka-go's highest; 12 on are flexible versions).
const (
	rawMinVersion = 4
	rawMaxVersion = 11
)

// rawCorrelationID is the correlation ID of a raw fetch: the connection
// carries one request at a time.
const rawCorrelationID = 0x6d6170

func (r *rawFetch) ApiKey() protocol.ApiKey { return protocol.Fetch }

// Broker routes the request to the partition's leader, as kafka-go's
// fetch request does.
func (r *rawFetch) Broker(c protocol.Cluster) (protocol.Broker, error) { return r.req.Broker(c) }

// Required notes the negotiated version; the exchange is always raw.
func (r *rawFetch) Required(versions map[protocol.ApiKey]int16) bool {
	r.version = versions[protocol.Fetch]
	return true
}

// RawExchange writes the request and reads the response into r.body.
func (r *rawFetch) RawExchange(rw io.ReadWriter) (protocol.Message, error) {
	if r.version < rawMinVersion || r.version > rawMaxVersion {
		return nil, errNotRaw
	}
	if err := protocol.WriteRequest(rw, r.version, rawCorrelationID, r.clientID, &r.req); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(rw, size[:]); err != nil {
		return nil, err
	}
	n := int64(int32(binary.BigEndian.Uint32(size[:])))
	if n < 4 || n > r.maxBody {
		return nil, fmt.Errorf("fetch response of %d bytes: want 4 to %d", n, r.maxBody)
	}
	if int64(cap(r.body)) >= n {
		r.body = r.body[:n]
	} else {
		r.body = make([]byte, n)
	}
	r.read = fetchReading{version: r.version, size: int(n), dec: r.dec}
	if err := r.read.from(rw, r.body); err != nil {
		return nil, err
	}
	if id := int32(binary.BigEndian.Uint32(r.body)); id != rawCorrelationID {
		return nil, fmt.Errorf("fetch response: correlation id %d, want %d", id, rawCorrelationID)
	}
	return r, nil
}

// readPiece is the most a fetch response is read at once: each piece's
// record batches are checked and decoded right after it is read, while
// its bytes are in this core's cache, rather than once the whole response
// (a megabyte as a rule) is in, when its first batches have left it.
const readPiece = 256 << 10

// fetchReading reads a fetch response in pieces and decodes it as it
// comes: its header once it is in whole, then each record batch (CRC-32C
// checked, records read out) once its last byte is in. What it finds wrong
// (the broker's error, a malformed header, a refused batch) ends the
// decoding, not the reading: the response is read to its end all the
// same, so that the connection stays in step.
type fetchReading struct {
	version int16
	// size is the response's length.
	size int
	// hdr tells whether the header is read: then body[cur:end] are the
	// record batches not decoded yet. Until it is, tried is how many bytes
	// were in at the last try: it is tried again once there are twice as
	// many (or all), so that a long header read in small pieces is not
	// read again and again.
	hdr      bool
	end, cur int
	tried    int
	// done: nothing more to decode (the rest is a batch cut short at the
	// end, or err).
	done bool
	// err is why the decoding ended early, and hdrErr whether it was in
	// the header.
	err    error
	hdrErr bool
	dec    batchDecoder
}

// from reads body (the whole response) from r, decoding as it goes; an
// error is a failure to read.
func (f *fetchReading) from(r io.Reader, body []byte) error {
	idle := 0
	for off := 0; off < len(body); {
		n, err := r.Read(body[off:min(len(body), off+readPiece)])
		off += n
		if err != nil && off < len(body) {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if n == 0 {
			if idle++; idle > 100 {
				return io.ErrNoProgress
			}
			continue
		}
		idle = 0
		// A response to another request is read to its end, not decoded
		// (RawExchange refuses it).
		if off >= 4 && binary.BigEndian.Uint32(body) == rawCorrelationID {
			f.feed(body[:off])
		}
	}
	return nil
}

// feed decodes what in (the response's first bytes, more of them at each
// call) completes: the header, then whole record batches.
func (f *fetchReading) feed(in []byte) {
	if f.done {
		return
	}
	all := len(in) == f.size
	if !f.hdr {
		if len(in) < 4 || (len(in) < 2*f.tried && !all) {
			return
		}
		f.tried = len(in)
		d := responseDecoder{b: in[4:]} // after the correlation ID
		n, hw, code, err := d.partitionHeader(f.version)
		if err != nil && errors.Is(err, errShort) && !all {
			return // the rest of the header is still to come
		}
		if err == nil {
			f.cur = len(in) - len(d.b)
			f.end = f.cur + int(max(n, 0))
			if f.end > f.size {
				err = errShort
			}
		}
		var kerr kafka.Error
		if err == nil && code != 0 {
			err = kafka.Error(code) // the broker's answer for the partition
		}
		if err != nil {
			f.err, f.hdrErr, f.done = err, !errors.As(err, &kerr), true
			return
		}
		f.hdr = true
		f.dec.ready(hw)
	}
	for {
		if f.end-f.cur < batchHead {
			f.done = true // nothing left, or a batch cut short
			return
		}
		rest := in[f.cur:min(len(in), f.end)]
		if len(rest) < batchHead {
			return
		}
		n := batchSize(rest)
		if n < 0 || f.cur+n > f.end {
			f.done = true // cut short at the end: the rest comes with the next fetch
			return
		}
		if n > len(rest) {
			return
		}
		if err := f.dec.batch(rest[:n]); err != nil {
			f.err, f.done = err, true
			return
		}
		f.cur += n
	}
}

// maxResponseSlack is how much larger than the bytes it asked for a fetch
// response may be: Kafka returns the first record batch whole however
// large, up to the topic's max.message.bytes.
const maxResponseSlack = 64 << 20

// fetchRaw is fetch through rawFetch; errNotRaw when the broker's answer
// is in an older format. offset is not negative.
func fetchRaw(ctx context.Context, client *kafka.Client, mem *Memory, topic string, partition int, offset, maxBytes int64, maxWait time.Duration, perRecord int64) ([]kafka.Message, int64, int, error) {
	tr := client.Transport
	if tr == nil {
		tr = kafka.DefaultTransport
	}
	r := &rawFetch{
		body:    mem.Body,
		maxBody: min(maxBytes, math.MaxInt32) + maxResponseSlack,
		req: fetchAPI.Request{
			ReplicaID:    -1,
			MaxWaitTime:  waitMillis(ctx, client, maxWait),
			MinBytes:     1,
			MaxBytes:     int32(min(maxBytes, math.MaxInt32)),
			SessionID:    -1,
			SessionEpoch: -1,
			Topics: []fetchAPI.RequestTopic{{
				Topic: topic,
				Partitions: []fetchAPI.RequestPartition{{
					Partition:          int32(partition),
					CurrentLeaderEpoch: -1,
					FetchOffset:        offset,
					LogStartOffset:     -1,
					PartitionMaxBytes:  int32(min(maxBytes, math.MaxInt32)),
				}},
			}},
		},
	}
	if t, ok := tr.(*kafka.Transport); ok {
		r.clientID = t.ClientID
	}
	r.dec = batchDecoder{dst: mem.Msgs, topic: topic, partition: partition, offset: offset, maxBytes: maxBytes, perRecord: perRecord}
	if _, err := tr.RoundTrip(ctx, client.Addr, r); err != nil {
		if errors.Is(err, errNotRaw) {
			return nil, offset, 0, errNotRaw
		}
		// kafka-go's transport returns when ctx ends, while the connection
		// still reads the response when it comes, into r.body and the
		// records into r.dec.dst: mem's memory. It is left to that
		// exchange; the next fetch into mem makes its own.
		mem.Body, mem.Msgs = nil, nil
		return nil, offset, 0, fmt.Errorf("kafka.(*Client).Fetch: %w", err)
	}
	mem.Body = r.body
	f := &r.read
	if f.err != nil {
		if f.hdrErr {
			return nil, offset, 0, fmt.Errorf("decode fetch response of %s/%d at %d: %w", topic, partition, offset, f.err)
		}
		// The broker's answer, as kafka-go's Fetch returns it, or a record
		// batch refused.
		return nil, offset, 0, f.err
	}
	msgs, next, n := f.dec.result()
	if len(msgs) > 0 {
		mem.Msgs = msgs
	}
	return msgs, next, n, nil
}

// waitMillis is the fetch's max wait as kafka-go's Client sets it: maxWait,
// or half of what is left of the client's timeout or ctx's deadline if
// that is shorter.
func waitMillis(ctx context.Context, client *kafka.Client, maxWait time.Duration) int32 {
	timeout := client.Timeout
	if deadline, ok := ctx.Deadline(); ok {
		if remain := time.Until(deadline); remain < timeout {
			timeout = remain
		}
	}
	if timeout > 0 {
		timeout /= 2
	} else {
		timeout = math.MaxInt64
	}
	if maxWait <= 0 {
		maxWait = 500 * time.Millisecond
	}
	return int32(min(maxWait, timeout) / time.Millisecond)
}

// responseDecoder reads a fetch response's fields in order.
type responseDecoder struct {
	b   []byte
	err error
}

var errShort = errors.New("response cut short")

func (d *responseDecoder) take(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.b) {
		d.err = errShort
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *responseDecoder) int16() int16 {
	if v := d.take(2); v != nil {
		return int16(binary.BigEndian.Uint16(v))
	}
	return 0
}

func (d *responseDecoder) int32() int32 {
	if v := d.take(4); v != nil {
		return int32(binary.BigEndian.Uint32(v))
	}
	return 0
}

func (d *responseDecoder) int64() int64 {
	if v := d.take(8); v != nil {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

// partitionHeader reads a response to a fetch of one partition up to its
// record batches, leaving d.b at them: their length, the high watermark
// and the partition's error code. An error wrapping errShort means the
// bytes end before the header does.
func (d *responseDecoder) partitionHeader(version int16) (records int32, hw int64, code int16, err error) {
	d.int32() // throttle time (v1 on)
	if version >= 7 {
		code := d.int16()
		d.int32() // session ID
		if d.err == nil && code != 0 {
			return 0, 0, 0, kafka.Error(code)
		}
	}
	if d.int32() < 1 {
		return 0, 0, 0, errors.Join(d.err, fmt.Errorf("kafka.(*Client).Fetch: %w", protocol.ErrNoTopic))
	}
	d.take(int(d.int16())) // topic name
	if d.int32() < 1 {
		return 0, 0, 0, errors.Join(d.err, fmt.Errorf("kafka.(*Client).Fetch: %w", protocol.ErrNoPartition))
	}
	d.int32() // partition
	code = d.int16()
	hw = d.int64()
	d.int64() // last stable offset (v4 on)
	if version >= 5 {
		d.int64() // log start offset
	}
	if n := d.int32(); n > 0 { // aborted transactions (v4 on)
		d.take(int(n) * 16)
	}
	if version >= 11 {
		d.int32() // preferred read replica
	}
	records = d.int32()
	if d.err != nil {
		return 0, 0, 0, d.err
	}
	return records, hw, code, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// batchHead is the least of a record batch that tells its length and
// format: its base offset, length, leader epoch and magic.
const batchHead = 17

// batchSize is the length of the record batch b starts with (b holds at
// least batchHead bytes), or -1 when it says it is shorter than nothing.
func batchSize(b []byte) int {
	length := int64(int32(binary.BigEndian.Uint32(b[8:])))
	if length < 0 {
		return -1
	}
	return int(12 + length)
}

// batchDecoder reads the records of v2 record batches, one whole batch at
// a time, from offset on, as kafka.Messages whose keys, values and header
// values are slices of the batches (or of a batch's decompressed records):
// nil for a null one, non-nil and empty for an empty one. A record cut
// short inside a batch ends the batch, as kafka-go does; a record not after
// the one before it is passed over.
type batchDecoder struct {
	// dst is memory for the records, used when it has room for as many as
	// the fetch can return.
	dst                         []kafka.Message
	topic                       string
	partition                   int
	offset, maxBytes, perRecord int64

	hw      int64
	msgs    []kafka.Message
	next    int64
	batches int
}

// ready readies d for the batches of a partition whose high watermark is
// hw.
func (d *batchDecoder) ready(hw int64) {
	d.hw, d.next, d.batches, d.msgs = hw, d.offset, 0, nil
	if hw > d.offset && d.maxBytes > 0 {
		if want := min(hw-d.offset, d.maxBytes/max(d.perRecord, 1)+1); int64(cap(d.dst)) >= want {
			d.msgs = d.dst[:0]
		} else {
			d.msgs = make([]kafka.Message, 0, want)
		}
	}
}

// result is the records read, the offset to fetch next and the number of
// batches read.
func (d *batchDecoder) result() ([]kafka.Message, int64, int) {
	return d.msgs, d.next, d.batches
}

// batch reads the records of one whole record batch: errNotRaw when it is
// in an older format, an error when it is malformed or its CRC-32C is
// wrong.
func (d *batchDecoder) batch(batch []byte) error {
	baseOffset := int64(binary.BigEndian.Uint64(batch))
	const header = 61
	if len(batch) > 16 && batch[16] != 2 {
		return errNotRaw // magic 0 or 1
	}
	if len(batch) < header {
		return fmt.Errorf("record batch at %d of %d bytes: shorter than its header", baseOffset, len(batch))
	}
	if sum, want := crc32.Checksum(batch[21:], castagnoli), binary.BigEndian.Uint32(batch[17:]); sum != want {
		return fmt.Errorf("record batch at %d: crc32 checksum mismatch (computed=%d found=%d)", baseOffset, sum, want)
	}
	attributes := protocol.Attributes(binary.BigEndian.Uint16(batch[21:]))
	firstTimestamp := int64(binary.BigEndian.Uint64(batch[27:]))
	count := int(int32(binary.BigEndian.Uint32(batch[57:])))
	recs := batch[header:]
	if c := attributes.Compression(); c != 0 {
		var err error
		if recs, err = decompress(c, recs, d.maxBytes+maxResponseSlack); err != nil {
			return fmt.Errorf("record batch at %d: %w", baseOffset, err)
		}
	}
	d.batches++
	r := recordDecoder{b: recs}
	for range count {
		// Each record is read into the slot after the last one, which
		// becomes one of d.msgs only when the record is kept.
		n := len(d.msgs)
		if n == cap(d.msgs) {
			d.msgs = slices.Grow(d.msgs, 1)
		}
		m := &d.msgs[:n+1][n]
		if !r.record(m, baseOffset, firstTimestamp) {
			break
		}
		if m.Offset < d.next {
			continue // before the offset asked for (or, from a broker in error, out of order)
		}
		m.Topic, m.Partition, m.HighWaterMark = d.topic, d.partition, d.hw
		d.msgs = d.msgs[:n+1]
		d.next = m.Offset + 1
	}
	return nil
}

// decompress reads a compressed batch's records, up to limit bytes.
func decompress(c compress.Compression, b []byte, limit int64) ([]byte, error) {
	codec := c.Codec()
	if codec == nil {
		return nil, fmt.Errorf("unsupported compression codec (%d)", c)
	}
	r := codec.NewReader(bytes.NewReader(b))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("decompress (%s): %w", codec.Name(), err)
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("decompress (%s): more than %d bytes", codec.Name(), limit)
	}
	return out, nil
}

// recordDecoder reads the records of a v2 record batch.
type recordDecoder struct{ b []byte }

// varint reads a zig-zag varint; false if b holds none.
func (d *recordDecoder) varint() (int64, bool) {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		return 0, false
	}
	d.b = d.b[n:]
	return v, true
}

// bytes reads n bytes: nil for n < 0 (null), a non-nil slice of d.b
// otherwise; false if d.b holds fewer.
func (d *recordDecoder) bytes(n int64) ([]byte, bool) {
	if n < 0 {
		return nil, true
	}
	if n > int64(len(d.b)) {
		return nil, false
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v, true
}

// record reads one record into m, all of it written (in place: no record
// is built elsewhere and copied there); false if the batch ends or is
// malformed there, when m holds nothing of use.
func (d *recordDecoder) record(m *kafka.Message, baseOffset, firstTimestamp int64) bool {
	length, ok := d.varint()
	if !ok || length < 1 || length > int64(len(d.b)) {
		return false
	}
	r := recordDecoder{b: d.b[1:length]} // after the attributes
	d.b = d.b[length:]
	ts, ok1 := r.varint()
	delta, ok2 := r.varint()
	kn, ok3 := r.varint()
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	key, ok := r.bytes(kn)
	if !ok {
		return false
	}
	vn, ok := r.varint()
	if !ok {
		return false
	}
	value, ok := r.bytes(vn)
	if !ok {
		return false
	}
	hn, ok := r.varint()
	if !ok || hn < 0 || hn > int64(len(r.b)) {
		return false
	}
	var headers []kafka.Header
	if hn > 0 {
		headers = make([]kafka.Header, hn)
		for i := range headers {
			kn, ok := r.varint()
			if !ok || kn < 0 {
				return false
			}
			k, ok := r.bytes(kn)
			if !ok {
				return false
			}
			vn, ok := r.varint()
			if !ok {
				return false
			}
			v, ok := r.bytes(vn)
			if !ok {
				return false
			}
			headers[i] = kafka.Header{Key: string(k), Value: v}
		}
	}
	t := firstTimestamp + ts
	*m = kafka.Message{}
	m.Offset = baseOffset + delta
	m.Key, m.Value, m.Headers = key, value, headers
	m.Time = time.Unix(t/1000, (t%1000)*int64(time.Millisecond))
	return true
}

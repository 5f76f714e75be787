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
	if _, err := io.ReadFull(rw, r.body); err != nil {
		return nil, err
	}
	if id := int32(binary.BigEndian.Uint32(r.body)); id != rawCorrelationID {
		return nil, fmt.Errorf("fetch response: correlation id %d, want %d", id, rawCorrelationID)
	}
	return r, nil
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
	if _, err := tr.RoundTrip(ctx, client.Addr, r); err != nil {
		if errors.Is(err, errNotRaw) {
			return nil, offset, 0, errNotRaw
		}
		return nil, offset, 0, fmt.Errorf("kafka.(*Client).Fetch: %w", err)
	}
	mem.Body = r.body
	d := responseDecoder{b: r.body[4:]}
	recs, hw, err := d.partition(r.version)
	var kerr kafka.Error
	if errors.As(err, &kerr) {
		return nil, offset, 0, err // the broker's answer, as kafka-go's Fetch returns it
	}
	if err != nil {
		return nil, offset, 0, fmt.Errorf("decode fetch response of %s/%d at %d: %w", topic, partition, offset, err)
	}
	msgs, next, n, err := decodeBatches(mem.Msgs, recs, topic, partition, offset, hw, maxBytes, perRecord)
	if err == nil && len(msgs) > 0 {
		mem.Msgs = msgs
	}
	return msgs, next, n, err
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

// partition reads a response to a fetch of one partition (after the
// correlation ID): its record batches and high watermark, or the error
// the broker gave.
func (d *responseDecoder) partition(version int16) (records []byte, hw int64, err error) {
	d.int32() // throttle time (v1 on)
	if version >= 7 {
		code := d.int16()
		d.int32() // session ID
		if d.err == nil && code != 0 {
			return nil, 0, kafka.Error(code)
		}
	}
	if d.int32() < 1 {
		return nil, 0, errors.Join(d.err, fmt.Errorf("kafka.(*Client).Fetch: %w", protocol.ErrNoTopic))
	}
	d.take(int(d.int16())) // topic name
	if d.int32() < 1 {
		return nil, 0, errors.Join(d.err, fmt.Errorf("kafka.(*Client).Fetch: %w", protocol.ErrNoPartition))
	}
	d.int32() // partition
	code := d.int16()
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
	n := d.int32()
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

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// decodeBatches reads the records of v2 record batches b, from offset on,
// as kafka.Messages whose keys, values and header values are slices of b
// (or of a batch's decompressed records): nil for a null one, non-nil and
// empty for an empty one. A batch cut short at the end (the broker fills
// up to the bytes asked for) is left for the next fetch; a record cut
// short inside a batch ends the batch, as kafka-go does; a record not after
// the one before it is passed over. It returns the
// records, the offset to fetch next and the number of batches read.
func decodeBatches(dst []kafka.Message, b []byte, topic string, partition int, offset, hw, maxBytes, perRecord int64) ([]kafka.Message, int64, int, error) {
	next := offset
	var msgs []kafka.Message
	if hw > offset && maxBytes > 0 {
		if want := min(hw-offset, maxBytes/max(perRecord, 1)+1); int64(cap(dst)) >= want {
			msgs = dst[:0]
		} else {
			msgs = make([]kafka.Message, 0, want)
		}
	}
	batches := 0
	for len(b) >= 17 {
		baseOffset := int64(binary.BigEndian.Uint64(b))
		length := int64(int32(binary.BigEndian.Uint32(b[8:])))
		if length < 0 || 12+length > int64(len(b)) {
			break // cut short: the rest comes with the next fetch
		}
		batch := b[:12+length]
		b = b[12+length:]
		const header = 61
		if len(batch) > 16 && batch[16] != 2 {
			return nil, offset, 0, errNotRaw // magic 0 or 1
		}
		if len(batch) < header {
			return nil, offset, 0, fmt.Errorf("record batch at %d of %d bytes: shorter than its header", baseOffset, len(batch))
		}
		if sum, want := crc32.Checksum(batch[21:], castagnoli), binary.BigEndian.Uint32(batch[17:]); sum != want {
			return nil, offset, 0, fmt.Errorf("record batch at %d: crc32 checksum mismatch (computed=%d found=%d)", baseOffset, sum, want)
		}
		attributes := protocol.Attributes(binary.BigEndian.Uint16(batch[21:]))
		firstTimestamp := int64(binary.BigEndian.Uint64(batch[27:]))
		count := int(int32(binary.BigEndian.Uint32(batch[57:])))
		recs := batch[header:]
		if c := attributes.Compression(); c != 0 {
			var err error
			if recs, err = decompress(c, recs, maxBytes+maxResponseSlack); err != nil {
				return nil, offset, 0, fmt.Errorf("record batch at %d: %w", baseOffset, err)
			}
		}
		batches++
		d := recordDecoder{b: recs}
		for range count {
			m, ok := d.record(baseOffset, firstTimestamp)
			if !ok {
				break
			}
			if m.Offset < next {
				continue // before the offset asked for (or, from a broker in error, out of order)
			}
			m.Topic, m.Partition, m.HighWaterMark = topic, partition, hw
			msgs = append(msgs, m)
			next = m.Offset + 1
		}
	}
	return msgs, next, batches, nil
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

// record reads one record; false if the batch ends or is malformed there.
func (d *recordDecoder) record(baseOffset, firstTimestamp int64) (m kafka.Message, ok bool) {
	length, ok := d.varint()
	if !ok || length < 1 || length > int64(len(d.b)) {
		return m, false
	}
	r := recordDecoder{b: d.b[1:length]} // after the attributes
	d.b = d.b[length:]
	ts, ok1 := r.varint()
	delta, ok2 := r.varint()
	kn, ok3 := r.varint()
	if !ok1 || !ok2 || !ok3 {
		return m, false
	}
	if m.Key, ok = r.bytes(kn); !ok {
		return m, false
	}
	vn, ok := r.varint()
	if !ok {
		return m, false
	}
	if m.Value, ok = r.bytes(vn); !ok {
		return m, false
	}
	hn, ok := r.varint()
	if !ok || hn < 0 || hn > int64(len(r.b)) {
		return m, false
	}
	if hn > 0 {
		m.Headers = make([]kafka.Header, hn)
		for i := range m.Headers {
			kn, ok := r.varint()
			if !ok || kn < 0 {
				return m, false
			}
			k, ok := r.bytes(kn)
			if !ok {
				return m, false
			}
			vn, ok := r.varint()
			if !ok {
				return m, false
			}
			v, ok := r.bytes(vn)
			if !ok {
				return m, false
			}
			m.Headers[i] = kafka.Header{Key: string(k), Value: v}
		}
	}
	m.Offset = baseOffset + delta
	t := firstTimestamp + ts
	m.Time = time.Unix(t/1000, (t%1000)*int64(time.Millisecond))
	return m, true
}

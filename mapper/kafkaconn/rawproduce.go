package kafkaconn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/rawproduce"
)

// ProducePartition is one partition's part of a Produce request: its
// record set, encoded by the caller, and the broker's answer.
type ProducePartition struct {
	Partition int
	// Buf is the record set as a produce request carries it (its int32
	// size, then the record batch) from ProduceRoom on; Produce writes the
	// request's framing into the room before it, so that each record set
	// goes to the connection as it is, not copied into a request.
	Buf []byte
	// Err is the broker's answer for the partition: nil when acknowledged.
	Err error
}

// ProduceRoom is how many bytes each ProducePartition's Buf keeps free
// before its record set in a Produce of topic through client.
func ProduceRoom(client *kafka.Client, topic string) int {
	// The request's size, its header (API key, version, correlation ID,
	// client ID), the transactional ID, acks, timeout, the topic array's
	// count, the topic's name, the partition array's count and the
	// partition: what comes before the first record set.
	return 4 + 2 + 2 + 4 + 2 + len(clientIDOf(client)) + 2 + 2 + 4 + 4 + 2 + len(topic) + 4 + 4
}

// clientIDOf is the client ID client's transport sends.
func clientIDOf(client *kafka.Client) string {
	if t, ok := client.Transport.(*kafka.Transport); ok {
		return t.ClientID
	}
	return ""
}

// Produce writes the record sets of parts (partitions of topic with one
// leader) in one Produce request with acks, and sets each part's Err from
// the answer. An error is returned, and no Err set, when the request got
// no answer. The connection, its TLS and SASL and the routing to the
// partitions' leader are kafka-go's transport's; the request is written
// from the record sets as they are and its answer read without
// reflection. A broker older than Kafka 0.11 (Produce v3, the first to
// carry v2 record batches) is refused with an error that says so.
func Produce(ctx context.Context, client *kafka.Client, topic string, acks kafka.RequiredAcks, timeout time.Duration, parts []ProducePartition) error {
	if len(parts) == 0 {
		return nil // nothing to write, and no answer would come
	}
	tr := client.Transport
	if tr == nil {
		tr = kafka.DefaultTransport
	}
	room := ProduceRoom(client, topic)
	r := &rawProduce{topic: topic, clientID: clientIDOf(client), acks: int16(acks), timeout: int32(timeout.Milliseconds()), parts: parts, room: room}
	r.route.Topics = []rawproduce.RequestTopic{{Topic: topic, Partitions: make([]rawproduce.RequestPartition, len(parts))}}
	for i := range parts {
		if len(parts[i].Buf) < room+4 {
			return fmt.Errorf("produce to %s/%d: record set without room for the request's framing", topic, parts[i].Partition)
		}
		r.route.Topics[0].Partitions[i].Partition = int32(parts[i].Partition)
	}
	_, err := tr.RoundTrip(ctx, client.Addr, r)
	return err
}

// rawProduce is a Produce request that writes itself and reads its own
// answer, as a protocol.RawExchanger through kafka-go's transport.
type rawProduce struct {
	// route is the request without its record sets, for its Broker.
	route    rawproduce.Request
	topic    string
	clientID string
	acks     int16
	timeout  int32
	parts    []ProducePartition
	room     int
	// version is the Produce version the connection negotiated.
	version int16
}

// ErrProduceVersion is the error of a Produce to a broker that speaks no
// Produce version mapper writes.
var ErrProduceVersion = errors.New("unsupported Produce version")

// Produce versions rawProduce writes: 3 (the first to carry v2 record
// batches) up to 8 (kafka-go's highest; 9 on are flexible versions).
const (
	rawProduceMinVersion = 3
	rawProduceMaxVersion = 8
)

func (r *rawProduce) ApiKey() protocol.ApiKey { return protocol.Produce }

// Broker routes the request to the partitions' leader, as kafka-go's
// produce request does.
func (r *rawProduce) Broker(c protocol.Cluster) (protocol.Broker, error) { return r.route.Broker(c) }

// Partitions are the partitions the request carries, for a transport
// that looks at the requests it carries.
func (r *rawProduce) Partitions() []int {
	ids := make([]int, len(r.parts))
	for i := range r.parts {
		ids[i] = r.parts[i].Partition
	}
	return ids
}

// Required notes the negotiated version; the exchange is always raw.
func (r *rawProduce) Required(versions map[protocol.ApiKey]int16) bool {
	r.version = versions[protocol.Produce]
	return true
}

// RawExchange writes the request, each record set from its own buffer
// with the framing before it written into its room, and reads the answer.
func (r *rawProduce) RawExchange(rw io.ReadWriter) (protocol.Message, error) {
	if r.version < rawProduceMinVersion || r.version > rawProduceMaxVersion {
		return nil, fmt.Errorf("%w: the broker speaks Produce v%d; mapper writes v%d to v%d (Kafka 0.11 and later)",
			ErrProduceVersion, r.version, rawProduceMinVersion, rawProduceMaxVersion)
	}
	be := binary.BigEndian
	// The size of the request after its size field: the first record
	// set's framing (less the size field), and each partition's ID and
	// record set.
	size := r.room - 4 - 4
	for i := range r.parts {
		size += 4 + len(r.parts[i].Buf) - r.room
	}
	for i := range r.parts {
		b := r.parts[i].Buf
		// Each record set is written after its partition's ID; the first
		// after the whole framing.
		start := r.room - 4
		be.PutUint32(b[start:], uint32(r.parts[i].Partition))
		if i == 0 {
			start = 0
			be.PutUint32(b, uint32(size))
			be.PutUint16(b[4:], uint16(protocol.Produce))
			be.PutUint16(b[6:], uint16(r.version))
			be.PutUint32(b[8:], rawCorrelationID)
			at := putString(b, 12, r.clientID)
			be.PutUint16(b[at:], 0xffff) // transactional ID: null
			be.PutUint16(b[at+2:], uint16(r.acks))
			be.PutUint32(b[at+4:], uint32(r.timeout))
			be.PutUint32(b[at+8:], 1) // one topic
			at = putString(b, at+12, r.topic)
			be.PutUint32(b[at:], uint32(len(r.parts)))
			if at+8 != r.room {
				return nil, fmt.Errorf("produce request framing of %d bytes, want %d", at+8, r.room)
			}
		}
		if _, err := rw.Write(b[start:]); err != nil {
			return nil, err
		}
	}
	if r.acks == 0 {
		return r, nil // no answer comes
	}
	var head [8]byte
	if _, err := io.ReadFull(rw, head[:]); err != nil {
		return nil, err
	}
	n := int64(int32(be.Uint32(head[:]))) - 4
	if n < 0 || n > maxProduceAnswer {
		return nil, fmt.Errorf("produce response of %d bytes: want 4 to %d", n+4, maxProduceAnswer+4)
	}
	if id := int32(be.Uint32(head[4:])); id != rawCorrelationID {
		return nil, fmt.Errorf("produce response: correlation id %d, want %d", id, rawCorrelationID)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(rw, body); err != nil {
		return nil, err
	}
	return r, r.read(body)
}

// maxProduceAnswer bounds a produce response: a few dozen bytes a
// partition, and the error messages.
const maxProduceAnswer = 16 << 20

// putString writes s as a Kafka string at b[at:] and returns where it
// ends.
func putString(b []byte, at int, s string) int {
	binary.BigEndian.PutUint16(b[at:], uint16(len(s)))
	return at + 2 + copy(b[at+2:], s)
}

// read sets each partition's Err from a produce response (after the
// correlation ID).
func (r *rawProduce) read(body []byte) error {
	for i := range r.parts {
		r.parts[i].Err = errUnanswered
	}
	defer func() {
		for i := range r.parts {
			if r.parts[i].Err == errUnanswered {
				r.parts[i].Err = fmt.Errorf("no answer for partition %d of %s: %w", r.parts[i].Partition, r.topic, protocol.ErrNoPartition)
			}
		}
	}()
	d := responseDecoder{b: body}
	// Every count is checked against the bytes left, so that a count no
	// response could hold ends the read rather than looping.
	for topics := d.count(); topics > 0 && d.err == nil; topics-- {
		topic := d.take(int(d.int16()))
		for partitions := d.count(); partitions > 0 && d.err == nil; partitions-- {
			id := d.int32()
			code := d.int16()
			d.int64() // base offset
			d.int64() // log append time (v2 on)
			if r.version >= 5 {
				d.int64() // log start offset
			}
			var msg string
			if r.version >= 8 {
				for errs := d.count(); errs > 0 && d.err == nil; errs-- { // record errors
					d.int32()    // batch index
					d.nullable() // its message
				}
				msg = d.nullable()
			}
			if d.err == nil && string(topic) == r.topic {
				r.answer(int(id), code, msg)
			}
		}
	}
	d.int32() // throttle time
	if d.err != nil {
		return fmt.Errorf("decode produce response: %w", d.err)
	}
	return nil
}

// errUnanswered marks a partition the answer has not named yet.
var errUnanswered = errors.New("unanswered")

// answer sets the Err of partition id from its error code and message.
func (r *rawProduce) answer(id int, code int16, msg string) {
	for i := range r.parts {
		if r.parts[i].Partition != id {
			continue
		}
		switch {
		case code == 0:
			r.parts[i].Err = nil
		case msg == "":
			r.parts[i].Err = kafka.Error(code)
		default:
			r.parts[i].Err = fmt.Errorf("%w: %s", kafka.Error(code), msg)
		}
	}
}

// nullable reads a nullable string ("" when null).
func (d *responseDecoder) nullable() string {
	n := d.int16()
	if n < 0 {
		return ""
	}
	return string(d.take(int(n)))
}

// count reads an array's count: an error when it is more than the bytes
// left could hold (each element takes a byte at least).
func (d *responseDecoder) count() int {
	n := d.int32()
	if d.err == nil && int(n) > len(d.b) {
		d.err = errShort
	}
	return int(max(n, 0))
}

package kafkaconn

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/rawproduce"
)

// produceAnswer is a produce response body (after the correlation ID) of
// version v for topic, answering partitions 0 (acknowledged) and 1 (error
// code 6 with message msg).
func produceAnswer(v int16, topic, msg string) []byte {
	be := binary.BigEndian
	b := be.AppendUint32(nil, 1)
	b = be.AppendUint16(b, uint16(len(topic)))
	b = append(b, topic...)
	b = be.AppendUint32(b, 2)
	for p, code := range []int16{0, 6} {
		b = be.AppendUint32(b, uint32(p))
		b = be.AppendUint16(b, uint16(code))
		b = be.AppendUint64(b, 42) // base offset
		b = be.AppendUint64(b, 0)  // log append time
		if v >= 5 {
			b = be.AppendUint64(b, 0) // log start offset
		}
		if v >= 8 {
			b = be.AppendUint32(b, 1) // one record error
			b = be.AppendUint32(b, 0)
			b = be.AppendUint16(b, 0xffff)
			if code == 0 {
				b = be.AppendUint16(b, 0xffff)
			} else {
				b = be.AppendUint16(b, uint16(len(msg)))
				b = append(b, msg...)
			}
		}
	}
	return be.AppendUint32(b, 0) // throttle time
}

// TestProduceAnswerCutShortIsAnError reads produce responses of versions
// 3, 5 and 8 whole and cut at every length: whole, each partition gets its
// answer; cut, the read is an error, never a read past the bytes.
func TestProduceAnswerCutShortIsAnError(t *testing.T) {
	for _, v := range []int16{3, 5, 8} {
		body := produceAnswer(v, "orders", "not the leader")
		r := &rawProduce{topic: "orders", version: v, parts: []ProducePartition{{Partition: 0}, {Partition: 1}}}
		if err := r.read(body); err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		if r.parts[0].Err != nil || r.parts[1].Err == nil {
			t.Fatalf("v%d: answers %v, %v; want nil, an error", v, r.parts[0].Err, r.parts[1].Err)
		}
		if want := "not the leader"; v >= 8 && !containsText(r.parts[1].Err.Error(), want) {
			t.Errorf("v%d: %v, want the broker's message %q", v, r.parts[1].Err, want)
		}
		for n := range len(body) {
			r := &rawProduce{topic: "orders", version: v, parts: []ProducePartition{{Partition: 0}, {Partition: 1}}}
			if err := r.read(body[:n]); err == nil {
				t.Fatalf("v%d: a response cut at %d of %d bytes read without error", v, n, len(body))
			}
		}
	}
}

func containsText(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// FuzzProduceAnswer holds that no response bytes make reading a produce
// answer panic, whatever counts and lengths they claim.
func FuzzProduceAnswer(f *testing.F) {
	for _, v := range []int16{3, 5, 8} {
		f.Add(v, produceAnswer(v, "orders", "msg"))
	}
	f.Add(int16(8), []byte{0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, v int16, body []byte) {
		r := &rawProduce{topic: "orders", version: v, parts: []ProducePartition{{Partition: 0}, {Partition: 1}}}
		_ = r.read(body)
	})
}

// exchangeConn takes what is written and answers with resp, again and
// again.
type exchangeConn struct {
	written int64
	resp    []byte
	r       bytes.Reader
}

func (c *exchangeConn) Write(b []byte) (int, error) { c.written += int64(len(b)); return len(b), nil }

func (c *exchangeConn) Read(b []byte) (int, error) {
	if c.r.Len() == 0 {
		c.r.Reset(c.resp)
	}
	return c.r.Read(b)
}

// BenchmarkProduceExchange writes a produce request of four partitions'
// record sets (256 KiB each) and reads its answer: rawProduce, which
// writes each record set from its own buffer, against kafka-go's encoding
// of the same request (rawproduce.Request through protocol.WriteRequest,
// which copies the record sets into its pages), writing only.
func BenchmarkProduceExchange(b *testing.B) {
	room := ProduceRoom(&kafka.Client{}, "orders.out")
	sets := make([][]byte, 4)
	for i := range sets {
		batch := testBatch(0, strings.Repeat("v", 256<<10-200))
		sets[i] = append(binary.BigEndian.AppendUint32(make([]byte, room), uint32(len(batch))), batch...)
	}
	answer := produceAnswer(8, "orders.out", "")
	resp := binary.BigEndian.AppendUint32(nil, uint32(4+len(answer)))
	resp = binary.BigEndian.AppendUint32(resp, rawCorrelationID)
	resp = append(resp, answer...)
	b.Run("raw", func(b *testing.B) {
		conn := &exchangeConn{resp: resp}
		parts := make([]ProducePartition, len(sets))
		r := &rawProduce{topic: "orders.out", acks: -1, timeout: 10000, room: room, version: 8, parts: parts}
		b.SetBytes(int64(4 * len(sets[0])))
		b.ReportAllocs()
		for b.Loop() {
			for i := range parts {
				parts[i] = ProducePartition{Partition: i, Buf: sets[i]}
			}
			if _, err := r.RawExchange(conn); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kafka-go", func(b *testing.B) {
		conn := &exchangeConn{}
		readers := make([]bytes.Reader, len(sets))
		b.SetBytes(int64(4 * len(sets[0])))
		b.ReportAllocs()
		for b.Loop() {
			req := &rawproduce.Request{Acks: -1, Timeout: 10000, Topics: []rawproduce.RequestTopic{{Topic: "orders.out"}}}
			for i := range sets {
				readers[i].Reset(sets[i][room:])
				req.Topics[0].Partitions = append(req.Topics[0].Partitions, rawproduce.RequestPartition{Partition: int32(i), RecordSet: protocol.RawRecordSet{Reader: &readers[i]}})
			}
			if err := protocol.WriteRequest(conn, 8, rawCorrelationID, "", req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

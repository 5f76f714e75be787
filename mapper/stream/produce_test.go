package stream

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
)

// TestProduceWriterDeliversEveryRecordInOrderToItsKeysPartition writes 500
// records in five calls through the produceWriter to a topic of three
// partitions, on the embedded broker (one broker, and three, each leading
// a partition) and on the real one when there is one, and reads them back:
// every record on its key's partition, in the order written, byte for
// byte, each request within the size limits, several partitions in one
// request and only partitions of one leader.
func TestProduceWriterDeliversEveryRecordInOrderToItsKeysPartition(t *testing.T) {
	targets := append(kafkatest.Targets(), kafkatest.Target{Name: "kfake, three brokers", Start: func(t testing.TB) *kafkatest.Broker {
		return kafkatest.StartKfake(t, kfake.NumBrokers(3))
	}})
	for _, target := range targets {
		t.Run(target.Name, func(t *testing.T) {
			broker := target.Start(t)
			topic := broker.Topic(t, "produce", 3)
			const batchBytes, maxRecords = 2048, 7
			client := broker.Conn().Client(broker.Transport, 0)
			reqLog := &requestLog{RoundTripper: client.Transport}
			client.Transport = reqLog
			w := newProduceWriter(client, topic, batchBytes, maxRecords, 10*time.Millisecond, 250*time.Millisecond)
			// A new topic's leaders may not be elected yet on a real broker.
			w.attempts = 60
			var mu sync.Mutex
			var requests, multi int
			var sizeErr error
			w.complete = func(msgs []queued, err error) {
				mu.Lock()
				requests++
				if len(msgs) > 1 {
					multi++
				}
				var n int64
				for i := range msgs {
					n += recordSize(msgs[i].m)
				}
				if (len(msgs) > maxRecords || n > batchBytes) && sizeErr == nil {
					sizeErr = fmt.Errorf("a request of %d records, %d bytes: want at most %d, %d", len(msgs), n, maxRecords, batchBytes)
				}
				mu.Unlock()
				settleWrites(msgs, err)
			}

			// Five calls of 100 records: keys cycle over 10, values are
			// numbered; every 25th value is empty, every 50th null, and
			// headers are null, empty and non-empty.
			var sent []kafka.Message
			var pws []*pendingWrite
			for call := range 5 {
				msgs := make([]kafka.Message, 100)
				pw := &pendingWrite{left: len(msgs), done: make(chan struct{})}
				for i := range msgs {
					n := call*100 + i
					m := kafka.Message{Key: fmt.Appendf(nil, "key-%d", n%10), Value: fmt.Appendf(nil, "value %d %s", n, bytes.Repeat([]byte("x"), n%200))}
					switch {
					case n%50 == 0:
						m.Value = nil
					case n%25 == 0:
						m.Value = []byte{}
					}
					m.Headers = []kafka.Header{{Key: "null"}, {Key: "empty", Value: []byte{}}, {Key: "n", Value: fmt.Appendf(nil, "%d", n)}}
					m.WriterData = pw
					msgs[i] = m
				}
				sent = append(sent, msgs...)
				pws = append(pws, pw)
				if err := w.WriteAsync(msgs); err != nil {
					t.Fatal(err)
				}
			}
			for _, pw := range pws {
				select {
				case <-pw.done:
				case <-time.After(60 * time.Second):
					t.Fatal("records not answered within 60s")
				}
				if len(pw.failed) > 0 {
					t.Fatalf("%d records failed: %v", len(pw.failed), pw.lastErr)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteAsync(sent[:1]); err == nil {
				t.Error("a closed writer took a record")
			}
			mu.Lock()
			if sizeErr != nil {
				t.Error(sizeErr)
			}
			if multi == 0 {
				t.Errorf("%d requests, none with more than one record", requests)
			}
			mu.Unlock()
			// Several partitions of one leader share a request; none mixes
			// leaders.
			leaders := map[int]int{}
			for _, p := range metadataOf(t, client, topic).Partitions {
				leaders[p.ID] = p.Leader.ID
			}
			distinct := map[int]bool{}
			for _, l := range leaders {
				distinct[l] = true
			}
			shared, mixed := reqLog.partitions(leaders)
			if reqLog.count() == 0 {
				t.Error("the transport carried no produce request")
			}
			if len(distinct) < len(leaders) && shared == 0 {
				t.Errorf("no request carried several partitions of one leader (leaders %v)", leaders)
			}
			if mixed > 0 {
				t.Errorf("%d requests carried partitions of different leaders (leaders %v)", mixed, leaders)
			}
			t.Logf("leaders %v; %d requests with several partitions", leaders, shared)

			// Per partition, the records of the keys it owns, in the order
			// written, byte for byte.
			want := map[int][]kafka.Message{}
			var bal kafka.Murmur2Balancer
			for _, m := range sent {
				p := bal.Balance(m, 0, 1, 2)
				want[p] = append(want[p], m)
			}
			got := map[int][]kafka.Message{}
			for _, m := range broker.ReadAll(t, topic) {
				got[m.Partition] = append(got[m.Partition], m)
			}
			for p := range 3 {
				if len(got[p]) != len(want[p]) {
					t.Fatalf("partition %d holds %d records, want %d", p, len(got[p]), len(want[p]))
				}
				for i, g := range got[p] {
					wm := want[p][i]
					if !sameBytes(g.Key, wm.Key) || !sameBytes(g.Value, wm.Value) || len(g.Headers) != len(wm.Headers) {
						t.Fatalf("partition %d record %d: key %q value %q, want key %q value %q", p, i, g.Key, g.Value, wm.Key, wm.Value)
					}
					for j := range g.Headers {
						if g.Headers[j].Key != wm.Headers[j].Key || !sameBytes(g.Headers[j].Value, wm.Headers[j].Value) {
							t.Fatalf("partition %d record %d header %d: %q=%q, want %q=%q", p, i, j,
								g.Headers[j].Key, g.Headers[j].Value, wm.Headers[j].Key, wm.Headers[j].Value)
						}
					}
				}
			}
		})
	}
}

// requestLog is a transport that keeps the partitions of each produce
// request it carries.
type requestLog struct {
	kafka.RoundTripper
	mu   sync.Mutex
	reqs [][]int
}

func (l *requestLog) RoundTrip(ctx context.Context, addr net.Addr, req kafka.Request) (kafka.Response, error) {
	if r, ok := req.(interface{ Partitions() []int }); ok && req.ApiKey() == protocol.Produce {
		ids := r.Partitions()
		l.mu.Lock()
		l.reqs = append(l.reqs, ids)
		l.mu.Unlock()
	}
	rt := l.RoundTripper
	if rt == nil {
		rt = kafka.DefaultTransport
	}
	return rt.RoundTrip(ctx, addr, req)
}

// count is how many produce requests the transport carried.
func (l *requestLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// partitions counts the requests that carried several partitions, and
// those whose partitions had different leaders.
func (l *requestLog) partitions(leaders map[int]int) (shared, mixed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ids := range l.reqs {
		if len(ids) > 1 {
			shared++
		}
		for _, id := range ids[1:] {
			if leaders[id] != leaders[ids[0]] {
				mixed++
				break
			}
		}
	}
	return shared, mixed
}

// metadataOf reads topic's metadata.
func metadataOf(t *testing.T, c *kafka.Client, topic string) kafka.Topic {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range res.Topics {
		if tm.Name == topic {
			return tm
		}
	}
	t.Fatalf("topic %s not in the metadata", topic)
	return kafka.Topic{}
}

// appendRecordBatch is appendQueuedUpTo of all of msgs.
func appendRecordBatch(b []byte, msgs []*kafka.Message, now time.Time) []byte {
	b, _ = appendRecordBatchUpTo(b, msgs, now, math.MaxInt64)
	return b
}

// appendRecordBatchUpTo is appendQueuedUpTo of msgs queued.
func appendRecordBatchUpTo(b []byte, msgs []*kafka.Message, now time.Time, maxBytes int64) ([]byte, int) {
	return appendQueuedUpTo(b, queuedOf(msgs), now, maxBytes)
}

// queuedOf returns msgs as WriteAsync queues them.
func queuedOf(msgs []*kafka.Message) []queued {
	qs := make([]queued, len(msgs))
	for i, m := range msgs {
		qs[i] = queueEntry(m)
	}
	return qs
}

// sameBytes tells null (nil) from empty.
func sameBytes(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}

// variedRecords returns n records of varied sizes: values of 0 to 299
// bytes, 0 to 8 headers of growing values, every seventh with a null one.
func variedRecords(n int) []*kafka.Message {
	msgs := make([]*kafka.Message, n)
	for i := range msgs {
		m := &kafka.Message{Key: fmt.Appendf(nil, "k%d", i), Value: bytes.Repeat([]byte("v"), i*37%300)}
		for j := range i % 9 {
			m.Headers = append(m.Headers, kafka.Header{Key: fmt.Sprint("h", j), Value: bytes.Repeat([]byte("x"), j*j)})
		}
		if i%7 == 0 {
			m.Headers = append(m.Headers, kafka.Header{Key: "null"})
		}
		msgs[i] = m
	}
	return msgs
}

// oddRecords returns records at the edges of the encoding: null and empty
// keys, values and header values, an empty header key, times of their own
// and a 70,000-byte value.
func oddRecords() []*kafka.Message {
	at := time.UnixMilli(1_600_000_000_456)
	return []*kafka.Message{
		{Key: nil, Value: []byte(`{"a":1}`)},
		{Key: []byte{}, Value: []byte{}, Time: at, Headers: []kafka.Header{{Key: "null", Value: nil}, {Key: "empty", Value: []byte{}}}},
		{Key: []byte("k"), Value: nil, Headers: []kafka.Header{{Key: "", Value: []byte{0, 0xff}}, {Key: HeaderOriginOffset, Value: []byte("123456")}}},
		{Key: []byte("big"), Value: bytes.Repeat([]byte("x"), 70000), Time: at.Add(time.Second)},
	}
}

// TestRecordBatchUpToTakesWhatRecordSizeAllows holds that a produce
// request takes the records the recordSize rule allows (their recordSize
// adding up to at most the limit, the first one always) and encodes them
// as appendRecordBatch does.
func TestRecordBatchUpToTakesWhatRecordSizeAllows(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_123)
	msgs := variedRecords(40)
	for _, limit := range []int64{0, 1, 100, 500, 2048, 5000, 1 << 20} {
		want, size := 0, int64(0)
		for want < len(msgs) {
			s := recordSize(msgs[want])
			if want > 0 && size+s > limit {
				break
			}
			size += s
			want++
		}
		b, n := appendRecordBatchUpTo(nil, msgs, now, limit)
		if n != want {
			t.Errorf("limit %d: took %d records, the recordSize rule allows %d", limit, n, want)
		}
		if whole := appendRecordBatch(nil, msgs[:want], now); !bytes.Equal(b, whole) {
			t.Errorf("limit %d: the batch of %d records differs from appendRecordBatch's", limit, n)
		}
	}
}

// TestEncodedRecordsMakeTheSameBatch encodes records where they are built
// (encodeRecord) and checks that the writer's batch of them is byte for
// byte the batch of the same records encoded by the writer, whatever the
// limit, with encoded and plain records mixed; that the size read from an
// encoding is recordSize; and that the pending write set on an encoded
// record is the one read back, its encoding kept.
func TestEncodedRecordsMakeTheSameBatch(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_123)
	plain := append(oddRecords(), variedRecords(40)...)
	var a recordArena
	encs := make([]encoded, len(plain))
	all := make([]*kafka.Message, len(plain))   // every record encoded
	mixed := make([]*kafka.Message, len(plain)) // every other one
	for i, m := range plain {
		c := *m
		encodeRecord(&a, &c, &encs[i], i%3 == 0)
		all[i] = &c
		mixed[i] = m
		if i%2 == 1 {
			mixed[i] = &c
		}
		if got, want := sizeOf(&c), recordSize(m); got != want {
			t.Errorf("record %d: size %d from its encoding, recordSize %d", i, got, want)
		}
	}
	for _, limit := range []int64{0, 1, 100, 500, 2048, 5000, 1 << 20, math.MaxInt64} {
		want, wn := appendRecordBatchUpTo(nil, plain, now, limit)
		for name, msgs := range map[string][]*kafka.Message{"encoded": all, "mixed": mixed} {
			got, n := appendRecordBatchUpTo(nil, msgs, now, limit)
			if n != wn || !bytes.Equal(got, want) {
				t.Errorf("limit %d, %s: %d records in %d bytes, want the same %d records in %d bytes", limit, name, n, len(got), wn, len(want))
			}
		}
	}
	pw := newPendingWrite(1)
	for _, m := range []*kafka.Message{all[5], plain[5]} {
		setPending(m, pw)
		if pendingOf(m) != pw {
			t.Errorf("pendingOf after setPending: not the pending write set")
		}
	}
	if e, ok := all[5].WriterData.(*encoded); !ok || e != &encs[5] {
		t.Errorf("setPending dropped the record's encoding")
	}
}

// TestRecordBatchReadsBackAsWritten encodes records with appendRecordBatch
// and reads them back with kafka-go's own decoder: keys, values and header
// values null, empty or not come back as they went (null stays null, empty
// stays empty), with their headers in order, their times (a record without
// one gets now) and offset deltas 0, 1, 2…; the checksum is checked by the
// decoder's reader as well.
func TestRecordBatchReadsBackAsWritten(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_123)
	msgs := oddRecords()
	prefix := []byte("left alone")
	b := appendRecordBatch(append([]byte(nil), prefix...), msgs, now)
	if !bytes.Equal(b[:len(prefix)], prefix) {
		t.Fatalf("the bytes before the batch were changed")
	}
	var rs protocol.RecordSet
	if _, err := rs.ReadFrom(bytes.NewReader(b[len(prefix):])); err != nil {
		t.Fatalf("kafka-go cannot read the batch: %v", err)
	}
	if rs.Version != 2 {
		t.Errorf("message format version %d, want 2", rs.Version)
	}
	for i := 0; ; i++ {
		r, err := rs.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			if i != len(msgs) {
				t.Fatalf("read %d records back, wrote %d", i, len(msgs))
			}
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		m := msgs[i]
		if r.Offset != int64(i) {
			t.Errorf("record %d: offset delta %d", i, r.Offset)
		}
		want := now
		if !m.Time.IsZero() {
			want = m.Time
		}
		if !r.Time.Equal(want) {
			t.Errorf("record %d: time %v, want %v", i, r.Time, want)
		}
		for _, kv := range []struct {
			name string
			got  protocol.Bytes
			want []byte
		}{{"key", r.Key, m.Key}, {"value", r.Value, m.Value}} {
			var got []byte
			if kv.got != nil {
				got, _ = protocol.ReadAll(kv.got)
				if got == nil {
					got = []byte{}
				}
			}
			if (got == nil) != (kv.want == nil) || !bytes.Equal(got, kv.want) {
				t.Errorf("record %d: %s %q (null %t), want %q (null %t)", i, kv.name, got, got == nil, kv.want, kv.want == nil)
			}
		}
		if len(r.Headers) != len(m.Headers) {
			t.Fatalf("record %d: %d headers, want %d", i, len(r.Headers), len(m.Headers))
		}
		for j, h := range r.Headers {
			w := m.Headers[j]
			if h.Key != w.Key || (h.Value == nil) != (w.Value == nil) || !bytes.Equal(h.Value, w.Value) {
				t.Errorf("record %d header %d: %q=%q (null %t), want %q=%q (null %t)", i, j, h.Key, h.Value, h.Value == nil, w.Key, w.Value, w.Value == nil)
			}
		}
	}
}

// BenchmarkRecordBatch encodes a produce request's record batch of 500
// output-like records (a ~400-byte value, seven headers): the worker's
// appendRecordBatch into a reused buffer, against kafka-go's own encoder
// (protocol.RecordSet.WriteTo, which Client.Produce uses) on the same
// records.
func BenchmarkRecordBatch(b *testing.B) {
	msgs := make([]*kafka.Message, 500)
	recs := make([]protocol.Record, len(msgs))
	for i := range msgs {
		m := &kafka.Message{Key: fmt.Appendf(nil, "k%d", i), Value: bytes.Repeat([]byte("v"), 400), Headers: []kafka.Header{
			{Key: HeaderSource, Value: []byte("orders")}, {Key: HeaderRulesVersion, Value: []byte("3")},
			{Key: HeaderOutcome, Value: []byte("mapped")}, {Key: HeaderOriginTopic, Value: []byte("partner.orders.raw")},
			{Key: HeaderOriginPartition, Value: []byte("2")}, {Key: HeaderOriginOffset, Value: fmt.Appendf(nil, "%d", 1000000+i)},
			{Key: "trace", Value: []byte("t-1")},
		}}
		msgs[i] = m
		hs := make([]protocol.Header, len(m.Headers))
		for j, h := range m.Headers {
			hs[j] = protocol.Header{Key: h.Key, Value: h.Value}
		}
		recs[i] = protocol.Record{Key: protocol.NewBytes(m.Key), Value: protocol.NewBytes(m.Value), Headers: hs}
	}
	now := time.Now()
	batch := func(b *testing.B, msgs []*kafka.Message) {
		qs := queuedOf(msgs)
		var buf []byte
		b.ReportAllocs()
		for range b.N {
			buf, _ = appendQueuedUpTo(buf[:0], qs, now, math.MaxInt64)
		}
		b.SetBytes(int64(len(buf)))
	}
	b.Run("worker", func(b *testing.B) { batch(b, msgs) })
	b.Run("encoded", func(b *testing.B) {
		// The same records encoded where they were built: the writer's
		// part only.
		var a recordArena
		encs := make([]encoded, len(msgs))
		enc := make([]*kafka.Message, len(msgs))
		for i, m := range msgs {
			c := *m
			encodeRecord(&a, &c, &encs[i], false)
			enc[i] = &c
		}
		batch(b, enc)
	})
	b.Run("kafka-go", func(b *testing.B) {
		var out bytes.Buffer
		b.ReportAllocs()
		for range b.N {
			for i := range recs {
				recs[i].Key.(io.Seeker).Seek(0, io.SeekStart)
				recs[i].Value.(io.Seeker).Seek(0, io.SeekStart)
			}
			out.Reset()
			rs := protocol.RecordSet{Version: 2, Records: protocol.NewRecordReader(recs...)}
			if _, err := rs.WriteTo(&out); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(out.Len()))
	})
}

// TestVarintLenIsTheEncodedSize checks varintLen against encoding/binary's
// zig-zag varints at every size boundary.
func TestVarintLenIsTheEncodedSize(t *testing.T) {
	var buf [binary.MaxVarintLen64]byte
	for _, base := range []int64{0, 1, 63, 64, 127, 128, 8191, 8192, 1 << 20, 1 << 27, 1 << 34, 1 << 41, 1 << 48, 1 << 55, 1 << 62, math.MaxInt64} {
		for _, v := range []int64{base - 1, base, base + 1, -base - 1, -base, -base + 1} {
			if got, want := varintLen(v), int64(binary.PutVarint(buf[:], v)); got != want {
				t.Errorf("varintLen(%d) = %d, want %d", v, got, want)
			}
		}
	}
	if got := varintLen(math.MinInt64); got != binary.MaxVarintLen64 {
		t.Errorf("varintLen(MinInt64) = %d, want %d", got, binary.MaxVarintLen64)
	}
}

// encodeRecord encodes any m into e, cut from a, with the builder
// outputMessage and deadLetterMessage use, and points m's WriterData at e;
// apart sets a non-empty value apart, as dead letters do.
func encodeRecord(a *recordArena, m *kafka.Message, e *encoded, apart bool) {
	n := len(m.Key) + len(m.Value) + headerRoom*(len(m.Headers)+3)
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value)
	}
	r := newRecordBuilder(a, n)
	key := r.nullBytes(m.Key)
	var value []byte
	var at int
	if apart {
		value, at = r.valueApart(m.Value)
	} else {
		value = r.nullBytes(m.Value)
	}
	r.b = binary.AppendVarint(r.b, int64(len(m.Headers)))
	for _, h := range m.Headers {
		r.header(h.Key, h.Value)
	}
	var built kafka.Message
	r.message(&built, key, value, at, e)
	m.WriterData = built.WriterData
}

// TestBuiltRecordsEncodeAsTheirMessages builds output and dead-letter
// records in one pass (value and headers written once, into the encoding,
// no header list) and checks each against itself as a plain record (its
// headers read back from the encoding) encoded by the writer's general
// path: the same batch byte for byte, recordSize from the encoding, the
// headers in order with their values, each a slice of the encoding. The cases cover null and
// empty keys, values and header values, no source, many failures, and
// header values of 63, 64 and thousands of bytes (a length varint of one,
// two and more bytes).
func TestBuiltRecordsEncodeAsTheirMessages(t *testing.T) {
	const topic = "in"
	src := testEngine(t, topic).SourceForTopic(topic)
	long := func(n int) string { return strings.Repeat("f", n) }
	now := time.Date(2026, 12, 6, 12, 0, 0, 123456789, time.UTC)
	for _, tc := range []struct {
		name string
		in   kafka.Message
		src  *mapper.Source
		res  mapper.Result
	}{
		{"mapped", kafka.Message{Topic: topic, Partition: 3, Offset: 12345, Key: []byte("k1"), Value: []byte(`{"a":1}`)},
			src, mapper.Result{Outcome: mapper.OutcomeMapped, Output: []byte(`{"id":"o-1"}`)}},
		{"null key, empty output", kafka.Message{Topic: topic, Offset: 1},
			src, mapper.Result{Outcome: mapper.OutcomeMapped}},
		{"degraded, long field", kafka.Message{Topic: topic, Key: []byte{}, Value: []byte(`{}`)},
			src, mapper.Result{Outcome: mapper.OutcomeDegraded, Output: []byte(`{}`), Failures: []mapper.Failure{
				{Reason: "missing_field", Field: long(63 - len("missing_field:"))},
				{Reason: "missing_field", Field: long(64 - len("missing_field:"))},
				{Reason: "type_mismatch", Field: long(5000)},
			}}},
		{"rejected with headers", kafka.Message{Topic: topic, Partition: 1, Offset: 99, Key: []byte("k"), Value: []byte(`{"bad":`),
			Time: now.Add(-time.Hour), Headers: []kafka.Header{{Key: "trace", Value: []byte("t-1")}, {Key: "null"}, {Key: "empty", Value: []byte{}}, {Key: long(70), Value: []byte(long(300))}}},
			src, mapper.Result{Outcome: mapper.OutcomeRejected, Output: []byte("null"), Failures: []mapper.Failure{
				{Reason: "malformed_payload", Detail: "unexpected end of JSON input"},
				{Reason: "missing_field", Field: "amount", Detail: long(64)},
				{Reason: "invalid_format", Field: "created", Detail: ""},
			}}},
		{"no source", kafka.Message{Topic: "elsewhere", Value: nil},
			nil, mapper.Result{Outcome: mapper.OutcomeRejected, Failures: []mapper.Failure{{Reason: "unknown_source", Detail: "no source for topic elsewhere"}}}},
	} {
		for _, dead := range []bool{false, true} {
			var a recordArena
			var e encoded
			var ht headerTexts
			var m kafka.Message
			if dead {
				deadLetterMessage(&m, &a, &tc.in, tc.src, &tc.res, now, &ht, &e)
			} else {
				outputMessage(&m, &a, &tc.in, tc.src, &tc.res, nil, &ht, &e)
			}
			if m.Headers != nil {
				t.Errorf("%s (dead letter %v): headers built; want them read from the encoding when asked for", tc.name, dead)
			}
			plain := plainRecord(m)
			if plain.WriterData != nil {
				t.Errorf("%s (dead letter %v): a plain record keeps its encoding", tc.name, dead)
			}
			// The headers read back, in order: the original ones (dead
			// letters), the worker's, each with its value.
			var wantKeys []string
			if dead {
				for _, h := range tc.in.Headers {
					wantKeys = append(wantKeys, h.Key)
				}
			}
			if tc.src != nil {
				wantKeys = append(wantKeys, HeaderSource, HeaderRulesVersion)
			}
			wantKeys = append(wantKeys, HeaderOutcome)
			for range tc.res.Failures {
				wantKeys = append(wantKeys, HeaderFailure)
			}
			wantKeys = append(wantKeys, HeaderOriginTopic, HeaderOriginPartition, HeaderOriginOffset)
			if dead {
				for range tc.res.Failures {
					wantKeys = append(wantKeys, HeaderFailureDetail)
				}
				wantKeys = append(wantKeys, HeaderOriginTime, HeaderDeadLetteredAt)
			}
			var gotKeys []string
			for _, h := range plain.Headers {
				gotKeys = append(gotKeys, h.Key)
			}
			if !slices.Equal(gotKeys, wantKeys) {
				t.Errorf("%s (dead letter %v): headers %q, want %q", tc.name, dead, gotKeys, wantKeys)
			}
			if got := originOffset(&plain); got != tc.in.Offset {
				t.Errorf("%s (dead letter %v): origin offset %d, want %d", tc.name, dead, got, tc.in.Offset)
			}
			for i, h := range plain.Headers {
				if dead && i < len(tc.in.Headers) {
					if w := tc.in.Headers[i].Value; (h.Value == nil) != (w == nil) || !bytes.Equal(h.Value, w) {
						t.Errorf("%s: original header %d is %q (null %v), want %q (null %v)", tc.name, i, h.Value, h.Value == nil, w, w == nil)
					}
				}
				if h.Key == HeaderDeadLetteredAt && string(h.Value) != now.Format(time.RFC3339Nano) {
					t.Errorf("%s: dead-lettered at %q, want %q", tc.name, h.Value, now.Format(time.RFC3339Nano))
				}
			}
			if got, want := appendRecordBatch(nil, []*kafka.Message{&m}, now), appendRecordBatch(nil, []*kafka.Message{&plain}, now); !bytes.Equal(got, want) {
				t.Errorf("%s (dead letter %v): the built encoding differs from its message's", tc.name, dead)
			}
			if got, want := sizeOf(&m), recordSize(&plain); got != want {
				t.Errorf("%s (dead letter %v): size %d from the encoding, recordSize %d", tc.name, dead, got, want)
			}
			within := func(v []byte) bool {
				if len(v) == 0 {
					return true
				}
				at := uintptr(unsafe.Pointer(&v[0]))
				for _, part := range [][]byte{e.body, e.tail} {
					if len(part) > 0 {
						lo := uintptr(unsafe.Pointer(&part[0]))
						if at >= lo && at+uintptr(len(v)) <= lo+uintptr(len(part)) {
							return true
						}
					}
				}
				return false
			}
			for _, h := range plain.Headers {
				if !within(h.Value) {
					t.Errorf("%s (dead letter %v): header %.20s is not a slice of the encoding", tc.name, dead, h.Key)
				}
			}
			if !within(m.Key) {
				t.Errorf("%s (dead letter %v): key is not a slice of the encoding", tc.name, dead)
			}
			switch {
			case dead && len(tc.in.Value) > 0:
				// Not copied: the original bytes, set apart.
				if &m.Value[0] != &tc.in.Value[0] || &e.value[0] != &tc.in.Value[0] {
					t.Errorf("%s: the dead letter's value is a copy; want the original bytes", tc.name)
				}
			case !within(m.Value):
				t.Errorf("%s (dead letter %v): value is not a slice of the encoding", tc.name, dead)
			}
			if dead && (!bytes.Equal(m.Value, tc.in.Value) || (m.Value == nil) != (tc.in.Value == nil)) {
				t.Errorf("%s: the dead letter's value changed", tc.name)
			}
			// An encoding cut anywhere reads as at most its headers, without
			// a panic.
			body := slices.Concat(e.body, e.value, e.tail)
			for cut := range len(body) {
				if n := len(decodeHeaders(body[:cut])); n > len(plain.Headers) {
					t.Fatalf("%s: an encoding cut at %d reads as %d headers, more than the %d whole", tc.name, cut, n, len(plain.Headers))
				}
			}
		}
	}
}

// TestHeaderTextsWriteWhatAFreshRecordWrites builds a run of output and
// dead-letter records with one headerTexts, as a mapping scratch does,
// while the source (another one, none), the outcome, the origin topic and
// partition and the times change between them, and checks each record's
// encoding against the same record built with fresh headerTexts.
func TestHeaderTextsWriteWhatAFreshRecordWrites(t *testing.T) {
	src := testEngine(t, "in").SourceForTopic("in")
	other := testEngine(t, "in").SourceForTopic("in") // the same rules loaded again: a reload
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	mapped := mapper.Result{Outcome: mapper.OutcomeMapped, Output: []byte(`{"id":1}`)}
	degraded := mapper.Result{Outcome: mapper.OutcomeDegraded, Output: []byte(`{}`), Failures: []mapper.Failure{{Reason: "missing_field", Field: "a"}}}
	rejected := mapper.Result{Outcome: mapper.OutcomeRejected, Failures: []mapper.Failure{{Reason: "malformed_payload", Detail: "bad"}}}
	steps := []struct {
		topic     string
		partition int
		src       *mapper.Source
		res       mapper.Result
		dead      bool
		at        time.Time
	}{
		{"in", 0, src, mapped, false, now},
		{"in", 0, src, mapped, false, now},
		{"in", 0, src, degraded, false, now},
		{"in", 0, src, rejected, true, now},
		{"in", 0, src, rejected, true, now.Add(time.Second)},
		{"in", 12, src, mapped, false, now},
		{"in", 123, src, mapped, false, now},
		{"other", 123, src, mapped, false, now},
		{"other", 123, other, mapped, false, now},
		{"other", 123, nil, rejected, true, now},
		{"other", 123, other, rejected, true, now},
		{"in", 0, src, mapped, false, now},
	}
	var shared headerTexts
	for i, st := range steps {
		in := kafka.Message{Topic: st.topic, Partition: st.partition, Offset: int64(1000 + i*997), Key: []byte("k"), Value: []byte(`{"a":1}`),
			Time: now.Add(-time.Duration(i) * time.Minute)}
		build := func(ht *headerTexts) []byte {
			var a recordArena
			var e encoded
			if st.dead {
				deadLetterMessage(new(kafka.Message), &a, &in, st.src, &st.res, st.at, ht, &e)
			} else {
				outputMessage(new(kafka.Message), &a, &in, st.src, &st.res, nil, ht, &e)
			}
			return slices.Concat(e.body, e.value, e.tail)
		}
		var fresh headerTexts
		if got, want := build(&shared), build(&fresh); !bytes.Equal(got, want) {
			t.Errorf("record %d (%s/%d, %v): encoded with the scratch's header texts\n%q\nwant\n%q", i, st.topic, st.partition, st.res.Outcome, got, want)
		}
	}
}

// TestArenaRecordsLieNextToEachOther builds output and dead-letter records
// one after another from one arena: each record's encoding starts where the
// one before it ended (the room it was cut with and did not use given
// back), unless it is too large for a chunk or starts a new one, and no
// record is changed by building the next ones.
func TestArenaRecordsLieNextToEachOther(t *testing.T) {
	src := testEngine(t, "in").SourceForTopic("in")
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var a recordArena
	var ht headerTexts
	type built struct {
		e    *encoded
		copy []byte
	}
	var recs []built
	adjacent := 0
	for i := range 300 {
		in := kafka.Message{Topic: "in", Partition: i % 3, Offset: int64(i), Key: fmt.Appendf(nil, "k%d", i), Value: []byte(`{"a":1}`)}
		res := mapper.Result{Outcome: mapper.OutcomeMapped, Output: bytes.Repeat([]byte("o"), i*7%400)}
		if i == 150 {
			res.Output = bytes.Repeat([]byte("L"), arenaBytes) // too large for a chunk
		}
		e := new(encoded)
		if i%4 == 3 {
			res = mapper.Result{Outcome: mapper.OutcomeRejected, Failures: []mapper.Failure{{Reason: "malformed_payload", Detail: strings.Repeat("d", i)}}}
			deadLetterMessage(new(kafka.Message), &a, &in, src, &res, now, &ht, e)
		} else {
			outputMessage(new(kafka.Message), &a, &in, src, &res, nil, &ht, e)
		}
		if n := len(recs); n > 0 {
			prev := recs[n-1].e
			end := prev.body
			if prev.tail != nil {
				end = prev.tail
			}
			if len(end) > 0 && uintptr(unsafe.Pointer(&end[len(end)-1]))+1 == uintptr(unsafe.Pointer(&e.body[0])) {
				adjacent++
			}
		}
		recs = append(recs, built{e, slices.Concat(e.body, e.value, e.tail)})
	}
	for i, r := range recs {
		if got := slices.Concat(r.e.body, r.e.value, r.e.tail); !bytes.Equal(got, r.copy) {
			t.Fatalf("record %d changed after the records built after it", i)
		}
	}
	// 299 neighbours, less one per chunk started and the two around the
	// large record: most lie next to each other.
	if adjacent < 250 {
		t.Errorf("%d of 299 records start where the one before ended; want nearly all", adjacent)
	}
}

// TestProduceWriterAnswersHealthyPartitionsBeforeRetrying has the broker
// refuse one partition's records with a temporary error twice, in a
// request that carries another partition too: the other partition's
// records are answered before the refused ones are tried again (not held
// through the back-off), and the refused ones are written on the third
// try.
func TestProduceWriterAnswersHealthyPartitionsBeforeRetrying(t *testing.T) {
	b := kafkatest.StartKfake(t, kfake.SeedTopics(2, "retry"))
	c := b.Cluster
	var mu sync.Mutex
	var refused int
	answered := map[int]bool{}
	var answeredAtRetry []bool // whether partition 0 was answered when a retry of partition 1 came
	c.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kreq.(*kmsg.ProduceRequest)
		mu.Lock()
		defer mu.Unlock()
		carries1 := false
		for _, rt := range req.Topics {
			for _, p := range rt.Partitions {
				carries1 = carries1 || p.Partition == 1
			}
		}
		if !carries1 {
			return nil, nil, false
		}
		if refused > 0 {
			answeredAtRetry = append(answeredAtRetry, answered[0])
		}
		if refused == 2 {
			return nil, nil, false // written by the broker
		}
		refused++
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			for _, p := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = p.Partition
				if p.Partition == 1 {
					sp.ErrorCode = int16(kafka.NotLeaderForPartition)
				}
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	client := b.Conn().Client(b.Transport, 0)
	w := newProduceWriter(client, "retry", 1<<20, 1000, 200*time.Millisecond, 400*time.Millisecond)
	var outcomes []error
	w.complete = func(msgs []queued, err error) {
		mu.Lock()
		answered[msgs[0].m.Partition] = true
		outcomes = append(outcomes, err)
		mu.Unlock()
		settleWrites(msgs, err)
	}
	// Keys that the balancer sends to partitions 0 and 1.
	var bal kafka.Murmur2Balancer
	var msgs []kafka.Message
	pw := &pendingWrite{done: make(chan struct{})}
	for i := 0; len(msgs) < 20; i++ {
		m := kafka.Message{Key: fmt.Appendf(nil, "k%d", i), Value: []byte(`{}`), WriterData: pw}
		m.Partition = bal.Balance(m, 0, 1)
		msgs = append(msgs, m)
	}
	pw.left = len(msgs)
	if err := w.WriteAsync(msgs); err != nil {
		t.Fatal(err)
	}
	select {
	case <-pw.done:
	case <-time.After(30 * time.Second):
		t.Fatal("records not answered within 30s")
	}
	w.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(pw.failed) > 0 {
		t.Fatalf("%d records failed: %v", len(pw.failed), pw.lastErr)
	}
	if len(answeredAtRetry) != 2 || !answeredAtRetry[0] || !answeredAtRetry[1] {
		t.Errorf("partition 0 answered when partition 1 was tried again: %v, want [true true]", answeredAtRetry)
	}
	if len(outcomes) != 2 {
		t.Errorf("%d answers, want one per partition", len(outcomes))
	}
}

// abandoningTransport fails the first produce request it carries the way
// a request whose context ends fails: at once, with the context's error,
// while (in kafka-go's transport) its connection may still be writing it.
// It keeps the request, for the test to write it later (lateWrite).
type abandoningTransport struct {
	kafka.RoundTripper
	mu   sync.Mutex
	kept protocol.RawExchanger
}

func (a *abandoningTransport) RoundTrip(ctx context.Context, addr net.Addr, req kafka.Request) (kafka.Response, error) {
	if raw, ok := req.(protocol.RawExchanger); ok && req.ApiKey() == protocol.Produce {
		a.mu.Lock()
		first := a.kept == nil
		if first {
			a.kept = raw
		}
		a.mu.Unlock()
		if first {
			return nil, context.DeadlineExceeded
		}
	}
	return a.RoundTripper.RoundTrip(ctx, addr, req)
}

// lateWrite writes the request kept as its connection would have, and
// returns the bytes written.
func (a *abandoningTransport) lateWrite() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	var w lateConn
	a.kept.Required(map[protocol.ApiKey]int16{protocol.Produce: 8})
	a.kept.RawExchange(&w) // no answer comes: it ends with io.EOF
	return w.wrote.Bytes()
}

// lateConn keeps what is written to it and has nothing to read.
type lateConn struct{ wrote bytes.Buffer }

func (c *lateConn) Write(b []byte) (int, error) { return c.wrote.Write(b) }
func (c *lateConn) Read([]byte) (int, error)    { return 0, io.EOF }

// TestProduceWriterLeavesAnUnansweredRequestItsRecordSets has the first
// produce request fail as one whose context ended: kafka-go's transport
// returns then, while the connection may still be writing the request
// from the partition's record-set buffer. The writer tries the records
// again and writes more records after them; the request written late must
// still carry the first records, byte for byte, not the bytes of later
// rounds built into the same memory.
func TestProduceWriterLeavesAnUnansweredRequestItsRecordSets(t *testing.T) {
	b := kafkatest.StartKfake(t, kfake.SeedTopics(1, "abandoned"))
	client := b.Conn().Client(b.Transport, 0)
	tr := &abandoningTransport{RoundTripper: client.Transport}
	client.Transport = tr
	w := newProduceWriter(client, "abandoned", 1<<20, 1000, 10*time.Millisecond, 50*time.Millisecond)
	defer w.Close()
	write := func(prefix string) {
		t.Helper()
		pw := &pendingWrite{done: make(chan struct{}), left: 10}
		var msgs []kafka.Message
		for i := range 10 {
			msgs = append(msgs, kafka.Message{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, `{"%s":%d}`, prefix, i), WriterData: pw})
		}
		if err := w.WriteAsync(msgs); err != nil {
			t.Fatal(err)
		}
		select {
		case <-pw.done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s records not answered within 30s", prefix)
		}
		if len(pw.failed) > 0 {
			t.Fatalf("%d %s records failed: %v", len(pw.failed), prefix, pw.lastErr)
		}
	}
	write("first")
	write("later")
	if tr.kept == nil {
		t.Fatal("no produce request was failed: the test needs one")
	}
	late := tr.lateWrite()
	if !bytes.Contains(late, []byte(`{"first":9}`)) || bytes.Contains(late, []byte(`"later"`)) {
		t.Errorf("the request written late (%d bytes) carries the first records: %v, later ones: %v; want the first records only",
			len(late), bytes.Contains(late, []byte(`{"first":9}`)), bytes.Contains(late, []byte(`"later"`)))
	}
}

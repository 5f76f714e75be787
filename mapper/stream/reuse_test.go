package stream

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/mapper/kafkaconn"
)

// heldTopic keeps every write unanswered until settle answers the ones it
// picks.
type heldTopic struct {
	stuckTopic
	mu      sync.Mutex
	pending []*kafka.Message
}

func (h *heldTopic) WriteAsync(msgs []kafka.Message) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range msgs {
		h.pending = append(h.pending, &msgs[i])
	}
	return nil
}

// settle acknowledges the pending records whose pendingWrite pick accepts.
func (h *heldTopic) settle(pick func(*pendingWrite) bool) {
	h.mu.Lock()
	var answer []queued
	kept := h.pending[:0]
	for _, m := range h.pending {
		if pick(pendingOf(m)) {
			answer = append(answer, queueEntry(m))
			continue
		}
		kept = append(kept, m)
	}
	h.pending = kept
	h.mu.Unlock()
	settleWrites(answer, nil)
}

// builtCopy is a deep copy of a built record.
type builtCopy struct {
	key, value []byte
	headers    []kafka.Header
}

func copyBuilt(msgs []kafka.Message) []builtCopy {
	var c []builtCopy
	for _, m := range msgs {
		bc := builtCopy{key: bytes.Clone(m.Key), value: bytes.Clone(m.Value)}
		for _, h := range m.Headers {
			bc.headers = append(bc.headers, kafka.Header{Key: h.Key, Value: bytes.Clone(h.Value)})
		}
		c = append(c, bc)
	}
	return c
}

func sameBuilt(t *testing.T, what string, got []kafka.Message, want []builtCopy) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", what, len(got), len(want))
	}
	for i, m := range got {
		w := want[i]
		if !bytes.Equal(m.Key, w.key) || !bytes.Equal(m.Value, w.value) || len(m.Headers) != len(w.headers) {
			t.Fatalf("%s: record %d changed: key %q value %q, want key %q value %q", what, i, m.Key, m.Value, w.key, w.value)
		}
		for j, h := range m.Headers {
			if h.Key != w.headers[j].Key || !bytes.Equal(h.Value, w.headers[j].Value) {
				t.Fatalf("%s: record %d header %d is %s=%q, want %s=%q", what, i, j, h.Key, h.Value, w.headers[j].Key, w.headers[j].Value)
			}
		}
	}
}

// TestBatchMemoryIsUsedAgainOnlyOnceAcknowledged maps a batch whose writes
// stay unanswered, then batch after batch that are acknowledged and give
// their memory back: later batches are built in that memory, and the
// records of the unanswered batch stay byte for byte as they were built
// until it is acknowledged too.
func TestBatchMemoryIsUsedAgainOnlyOnceAcknowledged(t *testing.T) {
	const topic, n = "in", 200
	batchOf := func(base int) []kafka.Message {
		msgs := make([]kafka.Message, n)
		for i := range msgs {
			o := base + i
			v := fmt.Appendf(nil, `{"order_id":"o-%d","customer":{"email":" Buyer%d@Example.com "},"amount":"%d.50","currency":"EUR","state":"PAID"}`, o, o, o)
			switch i % 10 {
			case 0:
				v = fmt.Appendf(nil, "not json %d", o)
			case 3:
				v = fmt.Appendf(nil, `{"order_id":"o-%d","customer":{"email":"a@b.co"},"amount":"1.00","state":"LOST%d"}`, o, o)
			}
			msgs[i] = kafka.Message{Topic: topic, Partition: 1, Offset: int64(o), Key: fmt.Appendf(nil, "k%d", o), Value: v,
				Headers: []kafka.Header{{Key: "trace", Value: fmt.Appendf(nil, "t-%d", o)}}}
		}
		return msgs
	}
	w, err := New(Config{Kafka: kafkaconn.Config{Brokers: []string{"127.0.0.1:1"}}, GroupID: "g", Topics: []string{topic},
		OutputTopic: "out", DeadLetterTopic: "dlq", Engine: testEngine(t, topic), Concurrency: 2, BatchSize: n})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, dlq := &heldTopic{}, &heldTopic{}
	p := newPipeline(w, ctx, byPartition(map[int]*sizedLog{}), fakeSink("out", out), fakeSink("dlq", dlq))
	defer p.close()
	mapped := func(base int) *batch {
		b := &batch{tp: topicPartition{topic, 1}, msgs: batchOf(base), next: int64(base + n), done: make(chan struct{})}
		if !p.mapBatch(ctx, b) {
			t.Fatal("batch held")
		}
		if len(b.out) == 0 || len(b.dlq) == 0 {
			t.Fatalf("batch at %d: %d output and %d dead-letter records, want some of each", base, len(b.out), len(b.dlq))
		}
		p.enqueue(b)
		return b
	}
	held := mapped(0)
	heldOut, heldDLQ := copyBuilt(held.out), copyBuilt(held.dlq)
	isHeld := func(pw *pendingWrite) bool { return pw == held.outW || pw == held.dlqW }

	reusedBatch := false
	var last *batchMem
	for k := 1; k <= 6; k++ {
		b := mapped(k * 1000)
		if b.mem == last {
			reusedBatch = true
		}
		if k > 1 && len(p.arenas.bufs) == arenaPoolChunks {
			t.Fatal("the arena pool is full: chunks given back are not taken again")
		}
		out.settle(func(pw *pendingWrite) bool { return !isHeld(pw) })
		dlq.settle(func(pw *pendingWrite) bool { return !isHeld(pw) })
		p.deliver(ctx, b)
		if !b.ok {
			t.Fatalf("batch %d not acknowledged", k)
		}
		p.acknowledged(b)
		last = b.mem
		p.reuse(b)
		if len(p.arenas.bufs) == 0 {
			t.Fatalf("batch %d gave no arena chunk back", k)
		}
		sameBuilt(t, fmt.Sprintf("unanswered output records after batch %d", k), held.out, heldOut)
		sameBuilt(t, fmt.Sprintf("unanswered dead letters after batch %d", k), held.dlq, heldDLQ)
	}
	if !reusedBatch {
		t.Error("no batch was built in the memory of one acknowledged before it")
	}
	for i := range held.out {
		if pw := pendingOf(&held.out[i]); pw != held.outW {
			t.Fatalf("unanswered output record %d belongs to another batch's write", i)
		}
	}
	out.settle(isHeld)
	dlq.settle(isHeld)
	p.deliver(ctx, held)
	if !held.ok {
		t.Fatal("the held batch was not acknowledged once answered")
	}
}

// intoLog is a partition log whose fetches read into the memory they are
// given, as kafkaconn.Fetcher.FetchInto does: the records into mem.Msgs,
// their keys and values copied into mem.Body. Given the memory of an
// earlier fetch, it checks that every record of that fetch was written.
type intoLog struct {
	msgs    []kafka.Message
	written func(origin string) bool
	mu      sync.Mutex
	owner   map[*kafka.Message][2]int64 // memory → the offsets it was read for
	reused  int
	early   []string
}

func (l *intoLog) Fetch(ctx context.Context, mem *kafkaconn.Memory, topic string, partition int, offset, _ int64) ([]kafka.Message, int64, error) {
	offset = max(offset, 0)
	if offset >= int64(len(l.msgs)) {
		return endOfLog(ctx, offset)
	}
	end := min(int64(len(l.msgs)), offset+20)
	l.mu.Lock()
	defer l.mu.Unlock()
	if cap(mem.Msgs) > 0 {
		if r, ok := l.owner[&mem.Msgs[:1][0]]; ok {
			l.reused++
			for o := r[0]; o < r[1]; o++ {
				if k := fmt.Sprintf("%s/%d@%d", topic, partition, o); !l.written(k) {
					l.early = append(l.early, k)
				}
			}
		}
	}
	size := 0
	for _, m := range l.msgs[offset:end] {
		size += len(m.Key) + len(m.Value)
	}
	if cap(mem.Msgs) < int(end-offset) {
		mem.Msgs = make([]kafka.Message, 0, end-offset)
	}
	if cap(mem.Body) < size {
		mem.Body = make([]byte, 0, size)
	}
	msgs, body := mem.Msgs[:0], mem.Body[:0]
	for _, m := range l.msgs[offset:end] {
		k := len(body)
		body = append(body, m.Key...)
		m.Key = body[k:len(body):len(body)]
		k = len(body)
		body = append(body, m.Value...)
		m.Value = body[k:len(body):len(body)]
		msgs = append(msgs, m)
	}
	mem.Msgs, mem.Body = msgs, body
	l.owner[&msgs[:1][0]] = [2]int64{offset, end}
	return msgs, end, nil
}

// checkedTopic is a fakeTopic that also checks, as each record is
// written, that its value is what its input made: the input byte for byte
// for a dead letter, an output holding the order's id for the others.
type checkedTopic struct {
	*fakeTopic
	inputs map[string][]byte // origin → input value
	mu     sync.Mutex
	wrong  []string
}

func (c *checkedTopic) WriteAsync(msgs []kafka.Message) error {
	for i := range msgs {
		m := &msgs[i]
		in := c.inputs[origin(m)]
		dead := false
		for _, h := range m.Headers {
			dead = dead || h.Key == HeaderFailureDetail
		}
		ok := bytes.Equal(m.Value, in)
		if !dead {
			// the id: `"o-P-I"`, as the input's order_id has it
			id := in[bytes.Index(in, []byte(`"o-`)):]
			ok = bytes.Contains(m.Value, id[:bytes.IndexByte(id[1:], '"')+2])
		}
		if !ok {
			c.mu.Lock()
			c.wrong = append(c.wrong, fmt.Sprintf("%s: %q from %q", origin(m), m.Value, in))
			c.mu.Unlock()
		}
	}
	return c.fakeTopic.WriteAsync(msgs)
}

// TestFetchMemoryIsReadIntoAgainOnlyOnceEveryBatchIsAcknowledged runs the
// pipeline over partitions whose fetches (20 records, four batches of 5)
// read into given memory, each response overwritten with nonsense when it
// is given back: later fetches are read into the memory of earlier ones,
// never before every record of the earlier fetch was written, and every
// record written holds what its input made.
func TestFetchMemoryIsReadIntoAgainOnlyOnceEveryBatchIsAcknowledged(t *testing.T) {
	const topic, n = "in", 400
	inputs := map[string][]byte{}
	out := &checkedTopic{fakeTopic: &fakeTopic{acked: map[string]int{}}, inputs: inputs}
	dlq := &checkedTopic{fakeTopic: &fakeTopic{acked: map[string]int{}}, inputs: inputs}
	written := func(k string) bool { return out.written(k)+dlq.written(k) > 0 }
	logs := map[int]*intoLog{}
	for part := range 2 {
		l := &intoLog{written: written, owner: map[*kafka.Message][2]int64{}}
		for i := range n {
			v := fmt.Appendf(nil, `{"order_id":"o-%d-%d","customer":{"email":"a@b.co"},"amount":"1.00","currency":"EUR","state":"PAID"}`, part, i)
			if i%4 == 0 {
				v = fmt.Appendf(nil, `not json {"order_id":"o-%d-%d"}`, part, i)
			}
			inputs[fmt.Sprintf("%s/%d@%d", topic, part, i)] = v
			l.msgs = append(l.msgs, kafka.Message{Topic: topic, Partition: part, Offset: int64(i), Key: []byte("k"), Value: v})
		}
		logs[part] = l
	}
	w, err := New(Config{
		Kafka: kafkaconn.Config{Brokers: []string{"127.0.0.1:1"}}, GroupID: "g", Topics: []string{topic},
		OutputTopic: "out", DeadLetterTopic: "dlq", Engine: testEngine(t, topic), Concurrency: 2, BatchSize: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := newPipeline(w, ctx, byPartition(logs), fakeSink("out", out), fakeSink("dlq", dlq))
	defer p.close()
	var poisoned atomic.Int64
	p.poison = func(b []byte) {
		for i := range b {
			b[i] = 0xEE
		}
		poisoned.Add(1)
	}
	gen := &fakeGen{committed: map[string]map[int]int64{}, check: func(string, int, int64) error { return nil }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.runGeneration(ctx, context.Background(), gen, map[string][]kafka.PartitionAssignment{topic: {{ID: 0, Offset: 0}, {ID: 1, Offset: 0}}})
	}()
	gen.waitCommitted(t, topic, 2, n)
	cancel()
	<-done
	reused := 0
	for part, l := range logs {
		l.mu.Lock()
		if len(l.early) > 0 {
			t.Errorf("partition %d: a fetch was read into the memory of records not yet written: %v", part, l.early)
		}
		reused += l.reused
		l.mu.Unlock()
		for i := range n {
			if k := fmt.Sprintf("%s/%d@%d", topic, part, i); !written(k) {
				t.Errorf("record %s was never written", k)
			}
		}
	}
	for _, c := range []*checkedTopic{out, dlq} {
		if len(c.wrong) > 0 {
			t.Errorf("%d records written with a value their input did not make, first: %s", len(c.wrong), c.wrong[0])
		}
	}
	if reused == 0 || poisoned.Load() == 0 {
		t.Errorf("%d fetches read into the memory of an earlier one, %d responses given back: want some of each", reused, poisoned.Load())
	}
}

// TestTimeTextIsTheTimeFormattedNow checks the dead-letter times kept as
// text: each call gives the text of the time asked for, whether the last
// one was the same instant (in any location), another, or none.
func TestTimeTextIsTheTimeFormattedNow(t *testing.T) {
	base := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	berlin := time.FixedZone("CET", 3600)
	var c timeText
	for i, at := range []time.Time{
		base, base, base.In(berlin), base.Add(time.Millisecond), base, {}, {}, base.Add(-time.Hour).In(berlin),
	} {
		want := at.UTC().Format(time.RFC3339Nano)
		if got := string(c.of(at)); got != want {
			t.Errorf("call %d: %q, want %q", i, got, want)
		}
	}
}

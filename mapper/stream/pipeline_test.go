package stream

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/release"
)

// These tests drive the pipeline through its small interfaces, with fakes
// that fail on purpose, and no broker.

var errInjected = errors.New("injected failure")

// fakeLog is one partition's records; Fetch fails on the calls listed.
type fakeLog struct {
	mu      sync.Mutex
	msgs    []kafka.Message
	calls   int
	failOn  map[int]bool
	fetched int
	per     int // records a fetch returns at most (0: 7)
}

func (f *fakeLog) Fetch(ctx context.Context, _ *kafkaconn.Memory, topic string, partition int, offset, maxBytes int64) ([]kafka.Message, int64, error) {
	f.mu.Lock()
	f.calls++
	fail := f.failOn[f.calls]
	f.mu.Unlock()
	if fail {
		return nil, offset, errInjected
	}
	if offset < 0 {
		offset = 0
	}
	if offset >= int64(len(f.msgs)) {
		select {
		case <-ctx.Done():
			return nil, offset, ctx.Err()
		case <-time.After(10 * time.Millisecond):
			return nil, offset, nil
		}
	}
	per := int64(7) // small fetches: several per run
	if f.per > 0 {
		per = int64(f.per)
	}
	end := min(int64(len(f.msgs)), offset+per)
	out := append([]kafka.Message(nil), f.msgs[offset:end]...)
	f.mu.Lock()
	f.fetched += len(out)
	f.mu.Unlock()
	return out, end, nil
}

// fakeTopic acknowledges writes; the async side fails every failEvery-th
// record, the retry side fails its first call partially.
type fakeTopic struct {
	mu        sync.Mutex
	acked     map[string]int // origin "topic/partition@offset" → times written
	failEvery int
	n         int
	retries   int
}

func origin(m *kafka.Message) string {
	var t, p, o string
	for _, h := range headersOf(m) {
		switch h.Key {
		case HeaderOriginTopic:
			t = string(h.Value)
		case HeaderOriginPartition:
			p = string(h.Value)
		case HeaderOriginOffset:
			o = string(h.Value)
		}
	}
	return t + "/" + p + "@" + o
}

func (f *fakeTopic) WriteAsync(msgs []kafka.Message) error {
	msgs = append([]kafka.Message(nil), msgs...)
	go func() {
		for i := range msgs {
			f.mu.Lock()
			f.n++
			fail := f.failEvery > 0 && f.n%f.failEvery == 0
			if !fail {
				f.acked[origin(&msgs[i])]++
			}
			f.mu.Unlock()
			var err error
			if fail {
				err = errInjected
			}
			pendingOf(&msgs[i]).settle(msgs[i:i+1], err)
		}
	}()
	return nil
}

func (f *fakeTopic) Close() error { return nil }

// WriteMessages is the retry path: its first call fails every other
// message (a partial write), later calls succeed.
func (f *fakeTopic) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retries++
	var werrs kafka.WriteErrors
	if f.retries == 1 && len(msgs) > 1 {
		werrs = make(kafka.WriteErrors, len(msgs))
	}
	for i := range msgs {
		if werrs != nil && i%2 == 0 {
			werrs[i] = errInjected
			continue
		}
		f.acked[origin(&msgs[i])]++
	}
	if werrs != nil {
		return werrs
	}
	return nil
}

func (f *fakeTopic) written(k string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.acked[k]
}

// fakeGen refuses its first refuse commits and checks that no commit
// passes a record not yet written.
type fakeGen struct {
	mu        sync.Mutex
	refuse    int
	calls     int
	committed map[string]map[int]int64
	check     func(topic string, partition int, offset int64) error
	bad       []error
}

func (g *fakeGen) CommitOffsets(offsets map[string]map[int]int64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	if g.calls <= g.refuse {
		return errInjected
	}
	for t, ps := range offsets {
		for p, off := range ps {
			if err := g.check(t, p, off); err != nil {
				g.bad = append(g.bad, err)
			}
			if g.committed[t] == nil {
				g.committed[t] = map[int]int64{}
			}
			if off < g.committed[t][p] {
				g.bad = append(g.bad, fmt.Errorf("%s/%d committed %d after %d", t, p, off, g.committed[t][p]))
			}
			g.committed[t][p] = off
		}
	}
	return nil
}

func (g *fakeGen) at(topic string, p int) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.committed[topic][p]
}

// waitCommitted waits up to 30 s for partitions 0 to parts-1 of topic to
// be committed up to n, and fails t if they are not.
func (g *fakeGen) waitCommitted(t *testing.T, topic string, parts, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for p := range parts {
		for g.at(topic, p) < int64(n) {
			if time.Now().After(deadline) {
				t.Fatalf("partition %d: committed %d of %d", p, g.at(topic, p), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func testEngine(t testing.TB, topic string) *mapper.Engine {
	t.Helper()
	tmpl, err := os.ReadFile("testdata/rules/orders.yaml.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "orders.yaml"), []byte(strings.ReplaceAll(string(tmpl), "{{TOPIC}}", topic)), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := mapper.Load(dir, "testdata/schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPipelineSurvivesInjectedFailures(t *testing.T) {
	const topic, n = "in", 300
	logs := map[int]*fakeLog{}
	for p := range 2 {
		l := &fakeLog{failOn: map[int]bool{2: true, 5: true}}
		for i := range n {
			v := fmt.Appendf(nil, `{"order_id":"o-%d","customer":{"email":"a@b.co"},"amount":"1.00","currency":"EUR","state":"PAID"}`, i)
			if i%4 == 0 {
				v = []byte("not json") // dead-lettered
			}
			l.msgs = append(l.msgs, kafka.Message{Topic: topic, Partition: p, Offset: int64(i), Key: []byte("k"), Value: v})
		}
		logs[p] = l
	}
	w, err := New(Config{
		Kafka: kafkaconn.Config{Brokers: []string{"127.0.0.1:1"}}, GroupID: "g", Topics: []string{topic},
		OutputTopic: "out", DeadLetterTopic: "dlq", Engine: testEngine(t, topic), Concurrency: 2, BatchSize: 5,
		RetryBackoffMin: time.Millisecond, RetryBackoffMax: 10 * time.Millisecond, MaxInflightBytes: 4096,
	})
	if err != nil {
		t.Fatal(err)
	}
	out, dlq := &fakeTopic{acked: map[string]int{}, failEvery: 13}, &fakeTopic{acked: map[string]int{}, failEvery: 7}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := newPipeline(w, ctx, byPartition(logs), fakeSink("out", out), fakeSink("dlq", dlq))
	defer p.close()
	gen := &fakeGen{refuse: 3, committed: map[string]map[int]int64{}}
	gen.check = func(topic string, part int, off int64) error {
		for i := int64(0); i < off; i++ {
			k := fmt.Sprintf("%s/%d@%d", topic, part, i)
			if out.written(k)+dlq.written(k) == 0 {
				return fmt.Errorf("committed %s/%d at %d before record %d was written", topic, part, off, i)
			}
		}
		return nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.runGeneration(ctx, context.Background(), gen, map[string][]kafka.PartitionAssignment{topic: {{ID: 0, Offset: kafka.FirstOffset}, {ID: 1, Offset: 0}}})
	}()
	gen.waitCommitted(t, topic, 2, n)
	cancel()
	<-done
	if len(gen.bad) > 0 {
		t.Errorf("commits out of order or past unwritten records: %v", gen.bad)
	}
	for part := range 2 {
		for i := range n {
			k := fmt.Sprintf("%s/%d@%d", topic, part, i)
			if out.written(k)+dlq.written(k) == 0 {
				t.Errorf("record %s was never written", k)
			}
		}
	}
	c := w.Counts(0)
	if c.FetchErrors != 4 || c.WriteErrors == 0 || c.CommitErrors != 3 || c.Committed != 2*n || c.Rejected != 2*n/4 {
		t.Errorf("counts %+v: want 4 fetch errors, some write errors, 3 commit errors, %d committed, %d rejected", c, 2*n, 2*n/4)
	}
	if used := p.budget.inUse(); used != 0 {
		t.Errorf("%d bytes still counted in flight", used)
	}
}

// fakeSink is a topic of 1 MiB records written by f.
func fakeSink(name string, f interface {
	asyncWriter
	MessageWriter
}) *topicSink {
	s := &topicSink{topic: name, enqueue: f, retry: f}
	s.limit.Store(1 << 20)
	return s
}

// byPartition fetches each partition from its own fetcher.
func byPartition[F partitionFetcher](logs map[int]F) partitionFetcher {
	return fetcherFunc(func(ctx context.Context, mem *kafkaconn.Memory, topic string, p int, off, max int64) ([]kafka.Message, int64, error) {
		return logs[p].Fetch(ctx, mem, topic, p, off, max)
	})
}

type fetcherFunc func(ctx context.Context, mem *kafkaconn.Memory, topic string, partition int, offset, maxBytes int64) ([]kafka.Message, int64, error)

func (f fetcherFunc) Fetch(ctx context.Context, mem *kafkaconn.Memory, topic string, partition int, offset, maxBytes int64) ([]kafka.Message, int64, error) {
	return f(ctx, mem, topic, partition, offset, maxBytes)
}

// stuckTopic never answers a write.
type stuckTopic struct{}

func (stuckTopic) WriteAsync([]kafka.Message) error { return nil }
func (stuckTopic) Close() error                     { return nil }
func (stuckTopic) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestUnacknowledgedWritesAreNeverCommitted stops a generation whose writes
// never come back: nothing is committed, and every fetched record is
// counted as left for the next consumer at the deadline.
func TestUnacknowledgedWritesAreNeverCommitted(t *testing.T) {
	const topic = "in"
	l := &fakeLog{}
	for i := range 40 {
		l.msgs = append(l.msgs, kafka.Message{Topic: topic, Offset: int64(i), Value: []byte("{}")})
	}
	w, err := New(Config{
		Kafka: kafkaconn.Config{Brokers: []string{"127.0.0.1:1"}}, GroupID: "g", Topics: []string{topic},
		OutputTopic: "out", DeadLetterTopic: "dlq", Engine: testEngine(t, topic), BatchSize: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := func(name string) *topicSink {
		s := &topicSink{topic: name, enqueue: stuckTopic{}, retry: stuckTopic{}}
		s.limit.Store(1 << 20)
		return s
	}
	hard, stopHard := context.WithCancel(context.Background())
	p := newPipeline(w, hard, l, s("out"), s("dlq"))
	defer p.close()
	ctx, cancel := context.WithCancel(context.Background())
	gen := &fakeGen{committed: map[string]map[int]int64{}, check: func(string, int, int64) error { return nil }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.runGeneration(ctx, context.Background(), gen, map[string][]kafka.PartitionAssignment{topic: {{ID: 0}}})
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		l.mu.Lock()
		fetched := l.fetched
		l.mu.Unlock()
		if fetched > 0 || time.Now().After(deadline) {
			break
		}
	}
	cancel()
	stopHard() // the shutdown deadline passes
	<-done
	l.mu.Lock()
	fetched := l.fetched
	l.mu.Unlock()
	if gen.calls != 0 || len(gen.committed) != 0 {
		t.Errorf("%d commits %v of records never acknowledged", gen.calls, gen.committed)
	}
	if left := p.left.Load(); left == 0 || left != int64(fetched) {
		t.Errorf("%d records counted as left, want the %d fetched", left, fetched)
	}
}

// BenchmarkMapOne measures the per-record step (route, map, observers,
// output or dead-letter record with its headers) on a clean and a
// rejected record.
func BenchmarkMapOne(b *testing.B) {
	tmpl, err := os.ReadFile("testdata/rules/orders.yaml.tmpl")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "orders.yaml"), []byte(strings.ReplaceAll(string(tmpl), "{{TOPIC}}", "in")), 0o644); err != nil {
		b.Fatal(err)
	}
	e, err := mapper.Load(dir, "testdata/schemas", mapper.Options{})
	if err != nil {
		b.Fatal(err)
	}
	w, err := New(Config{Kafka: kafkaconn.Config{Brokers: []string{"127.0.0.1:1"}}, GroupID: "g", OutputTopic: "out", DeadLetterTopic: "dlq", Engine: e})
	if err != nil {
		b.Fatal(err)
	}
	p := &pipeline{w: w, cfg: &w.cfg}
	for _, tt := range []struct{ name, value string }{
		{"clean", `{"order_id":"o-1","customer":{"email":" Buyer@Example.com "},"amount":"12.50","currency":"EUR","state":"PAID","created":"2024-05-01T10:00:00Z"}`},
		{"rejected", `{"order_id":"o-1","customer":{"email":"a@b.co"},"amount":"1.00","state":"LOST"}`},
	} {
		b.Run(tt.name, func(b *testing.B) {
			in := kafka.Message{Topic: "in", Partition: 3, Offset: 123456, Key: []byte("k"), Value: []byte(tt.value),
				Headers: []kafka.Header{{Key: "trace", Value: []byte("t")}}}
			var rules release.Rules
			var rec mapped
			var built kafka.Message
			s := newScratch(nil)
			now := time.Now()
			b.ReportAllocs()
			for range b.N {
				p.mapOne(s, &rules, &in, &rec, &built, now)
			}
		})
	}
}

// endOfLog is a fetch at a log's end: it waits a little, as a broker's
// long poll does, and returns no record.
func endOfLog(ctx context.Context, offset int64) ([]kafka.Message, int64, error) {
	select {
	case <-ctx.Done():
		return nil, offset, ctx.Err()
	case <-time.After(5 * time.Millisecond):
		return nil, offset, nil
	}
}

// sizedLog is one partition's records; Fetch honours maxBytes as a broker
// does (at least one record, however large).
type sizedLog struct{ msgs []kafka.Message }

func (l *sizedLog) Fetch(ctx context.Context, _ *kafkaconn.Memory, topic string, partition int, offset, maxBytes int64) ([]kafka.Message, int64, error) {
	offset = max(offset, 0)
	if offset >= int64(len(l.msgs)) {
		return endOfLog(ctx, offset)
	}
	end, size := offset, int64(0)
	for end < int64(len(l.msgs)) {
		s := recordSize(&l.msgs[end])
		if end > offset && size+s > maxBytes {
			break
		}
		size += s
		end++
	}
	return append([]kafka.Message(nil), l.msgs[offset:end]...), end, nil
}

// slowTopic acknowledges each write a little later, so that fetched
// records pile up against the budget.
type slowTopic struct{ stuckTopic }

func (slowTopic) WriteAsync(msgs []kafka.Message) error {
	go func() {
		time.Sleep(2 * time.Millisecond)
		for i := range msgs {
			pendingOf(&msgs[i]).settle(msgs[i:i+1], nil)
		}
	}()
	return nil
}

// TestInflightBytesStayUnderTheBound fetches four partitions at once
// against a small budget while writes lag: the bytes in flight never pass
// MaxInflightBytes by more than one record a partition (a fetch returns at
// least one, and partitions whose rooms are smaller than what is left, an
// idle one polling, may each get one more than their room at once), and
// every record is committed.
func TestInflightBytesStayUnderTheBound(t *testing.T) {
	const topic, n, parts, bound = "in", 400, 4, 8 << 10
	logs := map[int]*sizedLog{}
	var largest int64
	for p := range parts {
		l := &sizedLog{}
		for i := range n {
			v := fmt.Appendf(nil, `{"order_id":"o-%d-%d","customer":{"email":"a@b.co"},"amount":"1.00","currency":"EUR","state":"PAID","note":"%s"}`,
				p, i, strings.Repeat("x", i%300))
			m := kafka.Message{Topic: topic, Partition: p, Offset: int64(i), Value: v}
			largest = max(largest, recordSize(&m))
			l.msgs = append(l.msgs, m)
		}
		logs[p] = l
	}
	w, err := New(Config{
		Kafka: kafkaconn.Config{Brokers: []string{"127.0.0.1:1"}}, GroupID: "g", Topics: []string{topic},
		OutputTopic: "out", DeadLetterTopic: "dlq", Engine: testEngine(t, topic), Concurrency: 2, BatchSize: 10,
		MaxInflightBytes: bound, FetchMaxBytes: bound,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := newPipeline(w, ctx, byPartition(logs), fakeSink("out", slowTopic{}), fakeSink("dlq", slowTopic{}))
	defer p.close()
	gen := &fakeGen{committed: map[string]map[int]int64{}, check: func(string, int, int64) error { return nil }}
	assigned := map[string][]kafka.PartitionAssignment{}
	for i := range parts {
		assigned[topic] = append(assigned[topic], kafka.PartitionAssignment{ID: i, Offset: 0})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.runGeneration(ctx, context.Background(), gen, assigned)
	}()
	gen.waitCommitted(t, topic, parts, n)
	cancel()
	<-done
	if most := p.budget.most(); most > bound+parts*largest {
		t.Errorf("%d bytes in flight at once, past the bound %d plus one record of %d for each of %d partitions", most, bound, largest, parts)
	}
	if most := p.budget.most(); most < bound/2 {
		t.Errorf("at most %d bytes in flight: the budget of %d was never under pressure, the test proves nothing", most, bound)
	}
	if used := p.budget.inUse(); used != 0 {
		t.Errorf("%d bytes still counted in flight", used)
	}
}

// ackTopic acknowledges every write at once, in the caller's goroutine.
type ackTopic struct{ stuckTopic }

func (ackTopic) WriteAsync(msgs []kafka.Message) error {
	for i := range msgs {
		pendingOf(&msgs[i]).settle(msgs[i:i+1], nil)
	}
	return nil
}

// BenchmarkWorkerBatch measures the worker's own work on a batch of 500
// records without a broker (map with the pool, tell the observers, count,
// build the output and dead-letter records, enqueue, settle,
// acknowledge), against the engine alone on the same records: the
// difference is what the worker adds per record.
func BenchmarkWorkerBatch(b *testing.B) {
	const topic, n = "in", 500
	e := testEngine(b, topic)
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		v := fmt.Appendf(nil, `{"order_id":"o-%d","customer":{"email":" Buyer%d@Example.com "},"amount":"%d.50","currency":"EUR","state":"PAID"}`, i, i, i)
		switch i % 10 {
		case 0:
			v = []byte("not json")
		case 3:
			v = fmt.Appendf(nil, `{"order_id":"o-%d","customer":{"email":"a@b.co"},"amount":"1.00","state":"LOST"}`, i)
		case 6:
			v = fmt.Appendf(nil, `{"order_id":"o-%d","amount":{"v":1},"currency":"EUR","state":"OPEN"}`, i)
		}
		msgs[i] = kafka.Message{Topic: topic, Partition: 1, Offset: int64(i), Key: fmt.Appendf(nil, "k%d", i), Value: v,
			Headers: []kafka.Header{{Key: "trace", Value: []byte("t-1")}}}
	}
	b.Run("engine", func(b *testing.B) {
		src := e.SourceForTopic(topic)
		var m mapper.Mapper
		var res mapper.Result
		b.ReportAllocs()
		for range b.N {
			for i := range msgs {
				m.Map(src, msgs[i].Value, &res)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	})
	b.Run("worker", func(b *testing.B) {
		w, err := New(Config{Kafka: kafkaconn.Config{Brokers: []string{"127.0.0.1:1"}}, GroupID: "g", Topics: []string{topic},
			OutputTopic: "out", DeadLetterTopic: "dlq", Engine: e, Concurrency: 1, BatchSize: n})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		p := newPipeline(w, ctx, byPartition(map[int]*sizedLog{}), fakeSink("out", ackTopic{}), fakeSink("dlq", ackTopic{}))
		defer p.close()
		b.ReportAllocs()
		for range b.N {
			bt := &batch{tp: topicPartition{topic, 1}, msgs: msgs, next: n, done: make(chan struct{})}
			if !p.mapBatch(ctx, bt) {
				b.Fatal("batch held")
			}
			p.enqueue(bt)
			p.deliver(ctx, bt)
			if !bt.ok {
				b.Fatal("batch not acknowledged")
			}
			p.acknowledged(bt)
			p.reuse(bt)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	})
}

// untimedTally is a BatchTally that says it ignores took.
type untimedTally struct{ timedTally }

func (untimedTally) Untimed() {}

// timedTally records the took it is told.
type timedTally struct{ took *[]time.Duration }

func (t timedTally) Observe(_ *mapper.Origin, _ *mapper.Source, _ []byte, _ *mapper.Result, took time.Duration) {
	*t.took = append(*t.took, took)
}
func (timedTally) Flush() {}

type tallyObserver struct {
	timedTally
	untimed bool
}

func (o tallyObserver) NewBatchTally() BatchTally {
	if o.untimed {
		return untimedTally{o.timedTally}
	}
	return o.timedTally
}

// TestTheClockIsReadOnlyForObserversThatUseIt maps records for observers
// that ignore how long a record took (they say so with Untimed) and for
// one that does not: the clock is read, and took told, only when one
// needs it.
func TestTheClockIsReadOnlyForObserversThatUseIt(t *testing.T) {
	p := &pipeline{w: &Worker{cfg: Config{Engine: testEngine(t, "in")}, stats: newStats()}}
	in := kafka.Message{Topic: "in", Value: []byte(`{"order_id":"o-1"}`)}
	for _, tc := range []struct {
		name    string
		untimed []bool
		timed   bool
	}{
		{"one untimed", []bool{true}, false},
		{"two untimed", []bool{true, true}, false},
		{"one of two timed", []bool{true, false}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var obs []Observer
			var tooks []*[]time.Duration
			for _, u := range tc.untimed {
				took := new([]time.Duration)
				tooks = append(tooks, took)
				obs = append(obs, tallyObserver{timedTally{took}, u})
			}
			s := newScratch(obs)
			if s.timed != tc.timed {
				t.Fatalf("timed %t, want %t", s.timed, tc.timed)
			}
			var rules release.Rules
			var rec mapped
			var built kafka.Message
			for range 50 {
				p.mapOne(s, &rules, &in, &rec, &built, time.Now())
			}
			for i, took := range tooks {
				if len(*took) != 50 {
					t.Fatalf("observer %d told of %d records, want 50", i, len(*took))
				}
				var sum time.Duration
				for _, d := range *took {
					sum += d
				}
				if !tc.timed && sum != 0 {
					t.Errorf("observer %d: took %v in all with no observer timing records", i, sum)
				}
				if tc.timed && sum == 0 {
					t.Errorf("observer %d: took 0 for 50 records while one observer times them", i)
				}
			}
		})
	}
}

// jobTally records the jobs of one mapping scratch: the partition and
// offsets of the records between its Flushes, and how many scratches map
// at once.
type jobTally struct {
	o          *jobObserver
	part       int
	first, n   int64
	contiguous bool
}

type jobObserver struct {
	mu      sync.Mutex
	jobs    [][3]int64 // partition, first offset, records
	broken  int        // jobs whose records were not consecutive offsets of one partition
	now, hi atomic.Int32
}

func (o *jobObserver) Observe(*mapper.Origin, *mapper.Source, []byte, *mapper.Result, time.Duration) {
}

func (o *jobObserver) NewBatchTally() BatchTally { return &jobTally{o: o} }

func (t *jobTally) Observe(origin *mapper.Origin, _ *mapper.Source, _ []byte, _ *mapper.Result, _ time.Duration) {
	if t.n == 0 {
		n := t.o.now.Add(1)
		for h := t.o.hi.Load(); n > h && !t.o.hi.CompareAndSwap(h, n); h = t.o.hi.Load() {
		}
		t.part, t.first, t.contiguous = origin.Partition, origin.Offset, true
	} else if origin.Partition != t.part || origin.Offset != t.first+t.n {
		t.contiguous = false
	}
	t.n++
}

func (t *jobTally) Flush() {
	if t.n == 0 {
		return
	}
	t.o.now.Add(-1)
	t.o.mu.Lock()
	t.o.jobs = append(t.o.jobs, [3]int64{int64(t.part), t.first, t.n})
	if !t.contiguous {
		t.o.broken++
	}
	t.o.mu.Unlock()
	t.n = 0
}

// TestBatchesAreMappedWholeWhenPartitionsKeepTheCoresBusy maps batches of
// 40 records with two mapping goroutines: with fewer partitions than
// goroutines each batch is cut into jobs that both map; with as many
// partitions or more, each batch is mapped whole, by one goroutine. Either
// way no more scratches map at once than Concurrency, each job is a run of
// consecutive records of one partition, and every record is mapped once.
func TestBatchesAreMappedWholeWhenPartitionsKeepTheCoresBusy(t *testing.T) {
	const topic, n, size = "orders", 200, 40
	for _, tc := range []struct {
		partitions int
		whole      bool
	}{{1, false}, {2, true}, {3, true}} {
		t.Run(fmt.Sprintf("%d partitions", tc.partitions), func(t *testing.T) {
			logs := map[int]*fakeLog{}
			assigned := map[string][]kafka.PartitionAssignment{}
			for p := range tc.partitions {
				l := &fakeLog{per: size}
				for i := range n {
					v := fmt.Appendf(nil, `{"order_id":"o-%d","customer":{"email":"a@b.co"},"amount":"1.00","currency":"EUR","state":"PAID"}`, i)
					l.msgs = append(l.msgs, kafka.Message{Topic: topic, Partition: p, Offset: int64(i), Key: []byte("k"), Value: v})
				}
				logs[p] = l
				assigned[topic] = append(assigned[topic], kafka.PartitionAssignment{ID: p, Offset: 0})
			}
			o := &jobObserver{}
			w, err := New(Config{
				Kafka: kafkaconn.Config{Brokers: []string{"127.0.0.1:1"}}, GroupID: "g", Topics: []string{topic},
				OutputTopic: "out", DeadLetterTopic: "dlq", Engine: testEngine(t, topic), Concurrency: 2, BatchSize: size,
				Observers: []Observer{o},
			})
			if err != nil {
				t.Fatal(err)
			}
			out, dlq := &fakeTopic{acked: map[string]int{}}, &fakeTopic{acked: map[string]int{}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p := newPipeline(w, ctx, byPartition(logs), fakeSink("out", out), fakeSink("dlq", dlq))
			defer p.close()
			gen := &fakeGen{committed: map[string]map[int]int64{}, check: func(string, int, int64) error { return nil }}
			done := make(chan struct{})
			go func() {
				defer close(done)
				p.runGeneration(ctx, context.Background(), gen, assigned)
			}()
			gen.waitCommitted(t, topic, tc.partitions, n)
			cancel()
			<-done
			o.mu.Lock()
			defer o.mu.Unlock()
			if hi := o.hi.Load(); hi > 2 {
				t.Errorf("%d scratches mapped at once; want at most Concurrency (2)", hi)
			}
			if o.broken > 0 {
				t.Errorf("%d jobs were not runs of consecutive records of one partition", o.broken)
			}
			mapped := map[[2]int64]int{}
			cut := 0
			for _, j := range o.jobs {
				if j[1]%size != 0 || j[2] != size {
					cut++
				}
				for off := j[1]; off < j[1]+j[2]; off++ {
					mapped[[2]int64{j[0], off}]++
				}
			}
			for part := range tc.partitions {
				for off := range n {
					if c := mapped[[2]int64{int64(part), int64(off)}]; c != 1 {
						t.Fatalf("record %d/%d mapped %d times, want once", part, off, c)
					}
				}
			}
			if tc.whole && cut > 0 {
				t.Errorf("%d of %d jobs were parts of a batch; want every batch mapped whole with %d partitions", cut, len(o.jobs), tc.partitions)
			}
			if !tc.whole && cut == 0 {
				t.Errorf("every batch was mapped whole with %d partition; want them cut into jobs for both goroutines", tc.partitions)
			}
		})
	}
}

package stream_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/stream"
)

// gateObserver counts records and holds its first BeforeCommit until
// released.
type gateObserver struct {
	observed atomic.Int64
	calls    atomic.Int64
	atFirst  atomic.Int64 // records observed when first asked
	entered  chan struct{}
	release  chan struct{}
	once     sync.Once
	ctxLive  atomic.Bool
}

func (g *gateObserver) Observe(*mapper.Origin, *mapper.Source, []byte, *mapper.Result, time.Duration) {
	g.observed.Add(1)
}

func (g *gateObserver) BeforeCommit(ctx context.Context) {
	if g.calls.Add(1) == 1 {
		g.atFirst.Store(g.observed.Load())
		g.ctxLive.Store(ctx.Err() == nil)
		g.once.Do(func() { close(g.entered) })
		<-g.release
	}
}

var _ stream.CommitObserver = (*gateObserver)(nil)

func TestNoOffsetIsCommittedWhileACommitObserverHoldsIt(t *testing.T) {
	b := kafkatest.StartKfake(t)
	in := b.Topic(t, "orders", 2)
	out, dlq := b.Topic(t, "out", 2), b.Topic(t, "dlq", 1)
	e := loadEngine(t, in)
	b.Produce(t, in, mixed(90)...)
	g := &gateObserver{entered: make(chan struct{}), release: make(chan struct{})}
	cfg := testConfig(b, e, kafkatest.UniqueName("g"), []string{in}, out, dlq)
	cfg.Observers = []stream.Observer{g}
	r := start(t, cfg)
	select {
	case <-g.entered:
	case <-time.After(60 * time.Second):
		t.Fatal("BeforeCommit was never called")
	}
	if n := g.atFirst.Load(); n < 1 || !g.ctxLive.Load() {
		t.Errorf("first BeforeCommit saw %d records observed (ctx live %t); want at least one, and a live context", n, g.ctxLive.Load())
	}
	// While the observer holds the commit, nothing is committed.
	time.Sleep(300 * time.Millisecond)
	if c := r.w.Counts(0).Committed; c != 0 {
		t.Errorf("%d records committed while BeforeCommit had not returned", c)
	}
	close(g.release)
	waitLagZero(t, r.w, 60*time.Second)
	waitCommitted(r.w, 90, 10*time.Second)
	if c := r.w.Counts(0).Committed; c != 90 {
		t.Errorf("%d records committed after the release; want 90", c)
	}
	if g.calls.Load() < 1 {
		t.Error("BeforeCommit not called")
	}
}

// batchObserver counts records in tallies of its own, one per mapping
// goroutine, and adds them up on Flush.
type batchObserver struct {
	direct  atomic.Int64 // Observe calls on the observer itself
	flushed atomic.Int64
	tallies atomic.Int64
	// short is set when a commit was asked for with fewer records flushed
	// than already committed before it.
	short atomic.Bool
	w     func() *stream.Worker
}

func (o *batchObserver) Observe(*mapper.Origin, *mapper.Source, []byte, *mapper.Result, time.Duration) {
	o.direct.Add(1)
}

func (o *batchObserver) NewBatchTally() stream.BatchTally {
	o.tallies.Add(1)
	return &countTally{o: o}
}

func (o *batchObserver) BeforeCommit(context.Context) {
	if w := o.w(); w != nil && o.flushed.Load() < w.Counts(0).Committed {
		o.short.Store(true)
	}
}

type countTally struct {
	o *batchObserver
	n int64
}

func (t *countTally) Observe(*mapper.Origin, *mapper.Source, []byte, *mapper.Result, time.Duration) {
	t.n++
}

func (t *countTally) Flush() {
	t.o.flushed.Add(t.n)
	t.n = 0
}

// TestBatchObserversCountInTalliesFlushedBeforeCommit gives the worker a
// BatchObserver: its records are counted in the mapping goroutines'
// tallies, never through Observe, and every record is flushed by the time
// its offset is committed.
func TestBatchObserversCountInTalliesFlushedBeforeCommit(t *testing.T) {
	b := kafkatest.StartKfake(t)
	in := b.Topic(t, "orders", 2)
	out, dlq := b.Topic(t, "out", 2), b.Topic(t, "dlq", 1)
	e := loadEngine(t, in)
	b.Produce(t, in, mixed(120)...)
	var w atomic.Pointer[stream.Worker]
	o := &batchObserver{w: w.Load}
	cfg := testConfig(b, e, kafkatest.UniqueName("g"), []string{in}, out, dlq)
	cfg.Observers = []stream.Observer{o}
	cfg.BatchSize = 16
	r := start(t, cfg)
	w.Store(r.w)
	waitLagZero(t, r.w, 60*time.Second)
	waitCommitted(r.w, 120, 10*time.Second)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if n := o.direct.Load(); n != 0 {
		t.Errorf("Observe called %d times on a BatchObserver; want its tallies told instead", n)
	}
	if n := o.flushed.Load(); n != 120 {
		t.Errorf("%d records flushed by the tallies, want 120", n)
	}
	if n := o.tallies.Load(); n < 1 || n > int64(cfg.Concurrency) {
		t.Errorf("%d tallies made; want one per mapping goroutine (no record was held)", n)
	}
	if o.short.Load() {
		t.Error("an offset commit was asked for before its records were flushed")
	}
}

// commitCounter counts the commits asked for.
type commitCounter struct{ calls atomic.Int64 }

func (c *commitCounter) Observe(*mapper.Origin, *mapper.Source, []byte, *mapper.Result, time.Duration) {
}

func (c *commitCounter) BeforeCommit(context.Context) { c.calls.Add(1) }

// TestCommitsAreSpacedByTheCommitInterval delivers records in three waves
// and counts the commits: with an interval longer than the test, only the
// first wave's commit goes before the shutdown, which commits every
// record delivered; with no interval, each wave is committed as soon as it
// is delivered.
func TestCommitsAreSpacedByTheCommitInterval(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		// spaced: only the first commit goes before the shutdown.
		spaced bool
	}{
		{"an hour", time.Hour, true},
		{"none", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := kafkatest.StartKfake(t)
			in := b.Topic(t, "orders", 2)
			out, dlq := b.Topic(t, "out", 2), b.Topic(t, "dlq", 1)
			e := loadEngine(t, in)
			c := &commitCounter{}
			cfg := testConfig(b, e, kafkatest.UniqueName("g"), []string{in}, out, dlq)
			cfg.Observers = []stream.Observer{c}
			cfg.BatchSize = 10
			cfg.CommitInterval = tc.interval
			r := start(t, cfg)
			delivered := func() int64 { n := r.w.Counts(0); return n.Output + n.DeadLtr }
			var firstCommitted int64
			for wave := 1; wave <= 3; wave++ {
				b.Produce(t, in, mixed(40)...)
				waitUntil(t, func() bool { return delivered() == int64(40*wave) })
				if wave == 1 {
					waitUntil(t, func() bool { return r.w.Counts(0).Committed > 0 })
					firstCommitted = r.w.Counts(0).Committed
				} else if !tc.spaced {
					waitCommitted(r.w, int64(40*wave), 10*time.Second)
				}
			}
			time.Sleep(300 * time.Millisecond) // room for a commit that should not come
			committed, calls := r.w.Counts(0).Committed, c.calls.Load()
			if tc.spaced && (committed != firstCommitted || calls != 1) {
				t.Errorf("before the shutdown: %d records committed in %d commits; want only the first commit's %d",
					committed, calls, firstCommitted)
			}
			if !tc.spaced && (committed != 120 || calls < 3) {
				t.Errorf("before the shutdown: %d records committed in %d commits; want 120 in 3 or more", committed, calls)
			}
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			if n := r.w.Counts(0).Committed; n != 120 {
				t.Errorf("after the shutdown %d records committed, want 120", n)
			}
		})
	}
}

package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/release"
)

// defaultMaxMessageBytes is Kafka's default max.message.bytes, used when a
// topic's cannot be read.
const defaultMaxMessageBytes = 1048588

// topicPartition names one partition.
type topicPartition struct {
	topic     string
	partition int
}

func (tp topicPartition) String() string { return tp.topic + "/" + strconv.Itoa(tp.partition) }

// generation is what the pipeline needs of one consumer-group generation.
// *kafka.Generation satisfies it.
type generation interface {
	// CommitOffsets commits, per topic and partition, the offset of the
	// next record to consume.
	CommitOffsets(offsets map[string]map[int]int64) error
}

// pipeline is one Run's delivery machinery: for every assigned partition a
// fetch loop (fetch in bulk → map → enqueue writes in order) and an
// acknowledgement loop (wait for each batch's writes in fetch order →
// offer its offset to the committer), the mapping scratches (one per
// mapping goroutine at a time: Concurrency of them) and a pool of mapping
// goroutines for batches cut into jobs, a byte budget for records in
// flight, and one committer per generation.
type pipeline struct {
	w     *Worker
	cfg   *Config
	log   *slog.Logger
	fetch partitionFetcher
	out   *topicSink
	dlq   *topicSink
	// hard ends deliveries: it outlives Run's context by the shutdown
	// timeout.
	hard   context.Context
	budget *byteBudget
	jobs   chan mapJob
	pool   sync.WaitGroup
	// scratches hold the mapping scratches not in use: taking one is the
	// right to map, so at most Concurrency goroutines map at once.
	scratches chan *scratch
	// active counts the partitions being delivered (of every generation
	// running: one draining and the next).
	active atomic.Int32
	// left counts records abandoned uncommitted at the shutdown deadline.
	left atomic.Int64
	// blocked holds, per partition, why its delivery is stuck (a record
	// larger than its topic accepts); ready() reports it.
	blocked sync.Map // topicPartition → string
	every   *logEvery
	// rebalanceDrain bounds how long a partition that a rebalance takes
	// away keeps delivering what it has in flight.
	rebalanceDrain time.Duration
	// mem holds *batchMem of batches whose records were all acknowledged,
	// for the next batches to map into, and arenas the chunks their
	// records' encodings were cut from.
	mem    sync.Pool
	arenas *arenaPool
	// fetched holds *fetchMem of fetches whose every batch was
	// acknowledged, for the next fetches to read into.
	fetched sync.Pool
	// poison, when set (tests), overwrites a fetch response given back, so
	// that whatever still reads it reads nonsense.
	poison func([]byte)
}

// sink is where a batch's records go: the output or the dead-letter topic.
type topicSink struct {
	topic string
	// enqueue writes asynchronously, in call order.
	enqueue asyncWriter
	// retry writes synchronously, for records whose first write failed.
	retry MessageWriter
	// limit is the topic's max.message.bytes read at start: enqueue and
	// retry size their requests by it.
	limit atomic.Int64
	// refresh re-reads the topic's max.message.bytes (nil: never).
	refresh func(ctx context.Context) (int64, error)
	// writerFor returns a new writer whose requests may be up to limit
	// bytes, for a record larger than the limit read at start once the
	// topic accepts it; the caller closes it.
	writerFor func(limit int64) closingWriter
}

// fits reports whether a lone m fits the topic.
func (s *topicSink) fits(m *kafka.Message) bool {
	return sizeOf(m)+recordBatchOverhead <= s.limit.Load()
}

func newPipeline(w *Worker, hard context.Context, fetch partitionFetcher, out, dlq *topicSink) *pipeline {
	cfg := &w.cfg
	p := &pipeline{
		w: w, cfg: cfg, log: cfg.Logger, fetch: fetch, out: out, dlq: dlq, hard: hard,
		budget: newByteBudget(cfg.MaxInflightBytes), jobs: make(chan mapJob),
		every: newLogEvery(cfg.LogInterval), rebalanceDrain: min(cfg.RebalanceTimeout/2, max(cfg.ShutdownTimeout, 0)),
		arenas: newArenaPool(), scratches: make(chan *scratch, cfg.Concurrency),
	}
	for range cfg.Concurrency {
		s := newScratch(cfg.Observers)
		s.owned.pool = p.arenas
		p.scratches <- s
		p.pool.Go(p.mapWorker)
	}
	return p
}

// close stops the mapping goroutines.
func (p *pipeline) close() {
	close(p.jobs)
	p.pool.Wait()
}

// runGeneration delivers the partitions of one generation until ctx ends
// (shutdown) or the generation does (a rebalance), then drains what is in
// flight (until the shutdown deadline, or rebalanceDrain after the
// generation ended) and commits what was acknowledged.
func (p *pipeline) runGeneration(ctx, gctx context.Context, gen generation, assigned map[string][]kafka.PartitionAssignment) {
	fetchCtx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
	defer context.AfterFunc(gctx, stopFetch)()
	drain, stopDrain := context.WithCancel(p.hard)
	defer stopDrain()
	var timer *time.Timer
	var timerMu sync.Mutex
	defer context.AfterFunc(gctx, func() {
		timerMu.Lock()
		timer = time.AfterFunc(p.rebalanceDrain, stopDrain)
		timerMu.Unlock()
	})()
	defer func() {
		timerMu.Lock()
		if timer != nil {
			timer.Stop()
		}
		timerMu.Unlock()
	}()

	c := newCommitter(p, gen)
	var cw sync.WaitGroup
	cw.Go(func() { c.loop(drain) })
	var parts sync.WaitGroup
	var n int
	for _, ps := range assigned {
		n += len(ps)
	}
	// Counted before any starts, so that the first batches already know
	// how many partitions share the mapping goroutines.
	p.active.Add(int32(n))
	for topic, ps := range assigned {
		for _, pa := range ps {
			parts.Go(func() {
				defer p.active.Add(-1)
				p.runPartition(fetchCtx, drain, topicPartition{topic, pa.ID}, pa.Offset, c)
			})
		}
	}
	p.log.Info("partitions assigned", "partitions", n)
	parts.Wait()
	c.stop()
	cw.Wait()
}

// batch is one unit of work: records of one partition, in offset order.
type batch struct {
	tp    topicPartition
	msgs  []kafka.Message
	bytes int64
	next  int64 // the offset after the last record
	// rules are the release controller's rule sets the batch is mapped
	// with (zero without one): a reload falls between two batches.
	rules release.Rules
	// filled by mapping: recs and built hold, record by record, what it
	// became and the record built of it (output or dead letter); out is
	// built's output records, in place, and dlq its dead letters.
	recs  []mapped
	built []kafka.Message
	out   []kafka.Message
	dlq   []kafka.Message
	// now is when the batch was mapped: its dead letters' time.
	now time.Time
	// mem backs recs, built and dlq; given back once every record is
	// acknowledged. fetch is the fetch msgs came in, given back once all
	// of its batches are.
	mem   *batchMem
	fetch *fetchMem
	// delivery
	outW, dlqW *pendingWrite
	done       chan struct{}
	ok         bool
}

// runPartition is one partition's fetch loop; its acknowledgement loop
// runs beside it. It returns when fetchCtx has ended and every batch
// fetched is acknowledged or abandoned (drain ended).
func (p *pipeline) runPartition(fetchCtx, drain context.Context, tp topicPartition, offset int64, c *committer) {
	inflight := make(chan *batch, p.cfg.PartitionBatches)
	var acker sync.WaitGroup
	acker.Go(func() {
		failed := false
		for b := range inflight {
			<-b.done
			p.budget.release(b.bytes)
			if failed || !b.ok {
				// Nothing after an unacknowledged record may be committed.
				failed = true
				p.left.Add(int64(len(b.msgs)))
				continue
			}
			p.acknowledged(b)
			c.ack(tp, b.next, len(b.msgs))
			p.reuse(b)
		}
	})
	defer func() {
		close(inflight)
		acker.Wait()
	}()
	// The next fetch runs while this one's records are mapped and handed
	// to the writers: one fetch result waits at most.
	fetched := make(chan fetchResult, 1)
	go func() {
		defer close(fetched)
		p.fetchLoop(fetchCtx, tp, offset, fetched)
	}()
	held := false
	for f := range fetched {
		msgs := f.msgs
		if held {
			p.abandon(msgs)
			continue
		}
		for c := 0; len(msgs) > 0; c++ {
			k := min(len(msgs), p.cfg.BatchSize)
			b := &batch{tp: tp, msgs: msgs[:k:k], next: msgs[k-1].Offset + 1, bytes: f.bytes[c], done: make(chan struct{}), fetch: f.mem}
			msgs = msgs[k:]
			if !p.mapBatch(fetchCtx, b) {
				// The reject-ratio breaker held records of b until the
				// partition stopped: neither they nor a later record of the
				// partition may be delivered or committed.
				p.log.Warn("records held by the reject-ratio breaker are left uncommitted; they will be consumed again", "partition", tp.String())
				p.abandon(b.msgs)
				p.abandon(msgs)
				held = true
				break
			}
			p.enqueue(b)
			go p.deliver(drain, b)
			inflight <- b
		}
	}
}

// fetchResult is one fetch's records and the bytes (recordSize) of each
// batch of BatchSize records they make, in order, and the memory of the
// records (nil: the fetcher cannot read into given memory).
type fetchResult struct {
	msgs  []kafka.Message
	bytes []int64
	mem   *fetchMem
}

// fetchMem is the memory a fetch is read into, its records and the
// response their bytes are slices of: given back once every batch of the
// fetch is acknowledged, the next fetch is read into it.
type fetchMem struct {
	kafkaconn.Memory
	// left counts the batches of the fetch not yet acknowledged.
	left atomic.Int32
}

// fetchLoop fetches tp from offset on and sends each fetch's records to
// out, counting them against the byte budget, until ctx ends.
func (p *pipeline) fetchLoop(ctx context.Context, tp topicPartition, offset int64, out chan<- fetchResult) {
	bo := backoff{min: p.cfg.RetryBackoffMin, max: p.cfg.RetryBackoffMax}
	idle := false
	for ctx.Err() == nil {
		// The fetch's room is taken from the budget before it is asked
		// for, so that partitions fetching at once share what is left
		// instead of each taking all of it. A partition whose last fetch
		// found nothing waits for records with a small room (a fetch
		// returns at least one record whatever its room), so that idle
		// partitions' long polls do not hold the budget busy ones need.
		want := p.cfg.FetchMaxBytes
		if idle {
			want = max(1, want/64)
		}
		room, ok := p.budget.reserve(ctx, want)
		if !ok {
			return
		}
		msgs, next, mem, err := p.fetchInto(ctx, tp, offset, room)
		if err != nil {
			p.budget.release(room)
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, kafka.OffsetOutOfRange) {
				p.log.Warn("offset out of range; starting from the partition's first record", "partition", tp.String(), "offset", offset)
				offset = kafka.FirstOffset
				continue
			}
			p.w.stats.fetchErrors.Add(1)
			switch {
			case isTimeout([]any{err}):
				// A fetch that outlived its deadline on a slow or idle
				// broker: routine, retried at once.
				p.log.Debug("fetch timed out; retrying", "partition", tp.String(), "offset", offset, "error", err)
			case p.every.ok("fetch " + tp.String()):
				p.log.Warn("fetch failed; retrying", "partition", tp.String(), "offset", offset, "error", err)
			}
			bo.wait(ctx)
			continue
		}
		bo.reset()
		offset = next
		// Each record's size once: the batches' and the fetch's.
		sizes := make([]int64, 0, (len(msgs)+p.cfg.BatchSize-1)/p.cfg.BatchSize)
		var n int64
		for lo := 0; lo < len(msgs); lo += p.cfg.BatchSize {
			var k int64
			for i := lo; i < min(lo+p.cfg.BatchSize, len(msgs)); i++ {
				k += recordSize(&msgs[i])
			}
			sizes = append(sizes, k)
			n += k
		}
		// Counted now in place of the room reserved, released batch by
		// batch once acknowledged or abandoned: a fetched record is always
		// handed on, never dropped (a later commit would pass over it).
		p.budget.settle(room, n)
		idle = len(msgs) == 0
		if idle {
			continue
		}
		if mem != nil {
			mem.left.Store(int32(len(sizes)))
		}
		out <- fetchResult{msgs, sizes, mem}
	}
}

// fetchInto fetches tp from offset into the memory of a fetch whose
// batches were all acknowledged: mem is the memory the records are in (nil
// when they came elsewhere, as a fetch kafka-go decodes does).
func (p *pipeline) fetchInto(ctx context.Context, tp topicPartition, offset, room int64) (msgs []kafka.Message, next int64, mem *fetchMem, err error) {
	mem, _ = p.fetched.Get().(*fetchMem)
	if mem == nil {
		mem = &fetchMem{}
	}
	msgs, next, err = p.fetch.Fetch(ctx, &mem.Memory, tp.topic, tp.partition, offset, room)
	if err != nil || len(msgs) == 0 || cap(mem.Msgs) == 0 || &msgs[0] != &mem.Msgs[:1][0] {
		p.fetched.Put(mem)
		return msgs, next, nil, err
	}
	return msgs, next, mem, nil
}

// mapJob is a slice of a batch for one mapping goroutine.
type mapJob struct {
	b      *batch
	lo, hi int
	done   *sync.WaitGroup
	// owned: the records are built from arena chunks of their own, given
	// to the batch (and back to the pool once it is acknowledged).
	owned bool
}

// ownedJob is the fewest records a job must have to build them from
// chunks of its own: fewer share the goroutine's chunks with other
// batches, as a chunk per small batch would hold much memory idle.
const ownedJob = 64

// scratch is what one mapping goroutine reuses from record to record.
type scratch struct {
	m      mapper.Mapper
	rs     release.Scratch
	res    mapper.Result
	origin mapper.Origin
	t      *tally
	// arena is shared by the records of many batches and left to the
	// collector; owned is handed to one batch at the end of a job. cur is
	// the one records are built from (nil: arena).
	arena recordArena
	owned recordArena
	cur   *recordArena
	// obs are told of each record: the observers, or the goroutine's
	// tallies of those that are BatchObservers (also in tallies).
	obs     []BatchTally
	tallies []BatchTally
	// timed is whether an observer is told how long a record took.
	timed bool
	// texts are the headers last written, encoded.
	texts headerTexts
}

func newScratch(observers []Observer) *scratch {
	s := &scratch{t: newTally()}
	for _, o := range observers {
		if bo, ok := o.(BatchObserver); ok {
			t := bo.NewBatchTally()
			s.obs = append(s.obs, t)
			s.tallies = append(s.tallies, t)
			if _, ok := t.(Untimed); !ok {
				s.timed = true
			}
			continue
		}
		s.obs = append(s.obs, recordObserver{o})
		if _, ok := o.(Untimed); !ok {
			s.timed = true
		}
	}
	return s
}

// records is the arena the goroutine builds records from now.
func (s *scratch) records() *recordArena {
	if s.cur != nil {
		return s.cur
	}
	return &s.arena
}

// recordObserver is an Observer told of each record at once.
type recordObserver struct{ Observer }

func (recordObserver) Flush() {}

// flush hands what the goroutine counted on: the worker's totals and the
// batch observers' tallies.
func (s *scratch) flush(st *stats) {
	st.merge(s.t)
	for _, t := range s.tallies {
		t.Flush()
	}
}

// mapWorker maps the jobs of batches cut into jobs, each with a scratch
// taken for it.
func (p *pipeline) mapWorker() {
	for j := range p.jobs {
		s := <-p.scratches
		p.runJob(s, j)
		p.scratches <- s
		j.done.Done()
	}
}

// runJob maps j's records with s and hands on what s counted.
func (p *pipeline) runJob(s *scratch, j mapJob) {
	b := j.b
	s.cur = &s.arena
	if j.owned {
		s.cur = &s.owned
	}
	for i := j.lo; i < j.hi; i++ {
		p.mapOne(s, &b.rules, &b.msgs[i], &b.recs[i], &b.built[i], b.now)
	}
	if j.owned {
		b.mem.take(s.owned.handOff())
	}
	s.flush(p.w.stats)
}

// mapBatch maps b with the mapping goroutines and sorts its records into
// output and dead-letter records, in offset order. Records the reject-ratio
// breaker holds are waited for here, in the partition's goroutine, so that
// a pause holds only the partitions of the paused source; it returns false
// if ctx ended first.
func (p *pipeline) mapBatch(ctx context.Context, b *batch) bool {
	n := len(b.msgs)
	m, _ := p.mem.Get().(*batchMem)
	if m == nil || cap(m.recs) < n {
		m = &batchMem{recs: make([]mapped, n), built: make([]kafka.Message, n), dlq: make([]kafka.Message, 0, n)}
	}
	b.mem = m
	b.recs, b.built = m.recs[:n], m.built[:n]
	b.now = time.Now()
	b.rules = p.w.batchRules()
	chunk := max(16, (n+p.cfg.Concurrency-1)/p.cfg.Concurrency)
	if int(p.active.Load()) >= p.cfg.Concurrency || chunk >= n {
		// As many partitions as mapping goroutines or more: the batches
		// of the partitions keep the cores busy, and each is mapped whole
		// here, where it was fetched, rather than cut into jobs that
		// other goroutines map, on other cores, from records this one
		// read.
		s := <-p.scratches
		p.runJob(s, mapJob{b: b, lo: 0, hi: n, owned: n >= ownedJob})
		p.scratches <- s
	} else {
		var done sync.WaitGroup
		for lo := 0; lo < n; lo += chunk {
			done.Add(1)
			hi := min(lo+chunk, n)
			p.jobs <- mapJob{b: b, lo: lo, hi: hi, done: &done, owned: hi-lo >= ownedJob}
		}
		done.Wait()
	}
	if !p.w.mapHeld(ctx, b.recs, func(i int, rules *release.Rules, s *scratch) {
		p.mapOne(s, rules, &b.msgs[i], &b.recs[i], &b.built[i], b.now)
	}) {
		return false
	}
	b.out, b.dlq = splitMapped(b.recs, b.built, m.dlq)
	return true
}

// batchMem is the memory of a batch's records: what each became, the
// records built of them and the dead letters among those. Records are
// about a kafka.Message each in all three, pointers the collector would
// otherwise scan and free batch after batch; a batch's batchMem is used
// again once every one of its records is acknowledged, when neither the
// writers nor anything else reads them any more.
type batchMem struct {
	recs  []mapped
	built []kafka.Message
	dlq   []kafka.Message
	// chunks are the arena chunks of the batch's jobs (their records'
	// encodings), given back with it.
	mu     sync.Mutex
	chunks arenaChunks
}

// take adds a job's arena chunks to m's.
func (m *batchMem) take(c arenaChunks) {
	m.mu.Lock()
	m.chunks.bufs = append(m.chunks.bufs, c.bufs...)
	m.mu.Unlock()
}

// reuse gives b's memory to the batches after it. Only a batch whose every
// record was acknowledged may be given: the writers no longer hold its
// records (an abandoned batch's may still be queued, and is left to the
// collector).
func (p *pipeline) reuse(b *batch) {
	m := b.mem
	if m == nil {
		return
	}
	// recs, built and dlq are not cleared: every entry a batch reads is
	// written first (mapOne sets each record's, splitMapped each dead
	// letter), and what they still point to (arena chunks, fetch memory) is
	// pooled memory too, held in any case.
	p.arenas.put(m.chunks)
	clear(m.chunks.bufs)
	m.chunks.bufs = m.chunks.bufs[:0]
	b.mem, b.recs, b.built, b.out, b.dlq = nil, nil, nil, nil, nil
	p.mem.Put(m)
	if f := b.fetch; f != nil && f.left.Add(-1) == 0 {
		// Not cleared either: the next fetch decodes whole records over
		// them, and they point only into f.Body, pooled with them.
		f.Msgs = f.Msgs[:0]
		if p.poison != nil {
			p.poison(f.Body)
		}
		f.Body = f.Body[:0]
		p.fetched.Put(f)
	}
	b.fetch = nil
}

// abandon gives back the byte budget of fetched records that will not be
// delivered, and counts them as left uncommitted.
func (p *pipeline) abandon(msgs []kafka.Message) {
	var n int64
	for i := range msgs {
		n += recordSize(&msgs[i])
	}
	p.budget.release(n)
	p.left.Add(int64(len(msgs)))
}

// splitMapped sorts the records built of recs into output and dead-letter
// records, each in offset order: the dead letters into buf's memory when
// it has room (else a slice of exactly their number), the output records
// moved up in built itself (no copy of the batch).
func splitMapped(recs []mapped, built, buf []kafka.Message) (out, dlq []kafka.Message) {
	var dead int
	for i := range recs {
		if recs[i].dead {
			dead++
		}
	}
	if dead == 0 {
		return built[:len(built):len(built)], nil
	}
	if cap(buf) >= dead {
		dlq = buf[:0:dead]
	} else {
		dlq = make([]kafka.Message, 0, dead)
	}
	k := 0
	for i := range recs {
		if recs[i].dead {
			dlq = append(dlq, built[i])
			continue
		}
		if k != i {
			built[k] = built[i]
		}
		k++
	}
	clear(built[k:])
	if k > 0 {
		out = built[:k:k]
	}
	return out, dlq
}

// mapped is what one input record became (its record is built beside it).
type mapped struct {
	dead   bool
	source string
	// resume is not nil while the reject-ratio breaker holds the record:
	// it has no result yet and is mapped again once resume is closed.
	resume <-chan struct{}
	// enc is the built record's encoding (its WriterData).
	enc encoded
}

// mapOne is the one per-record step: find the source, map, tell the
// observers, count, and build the output or dead-letter record into built
// (a dead letter's time is now).
func (p *pipeline) mapOne(s *scratch, rules *release.Rules, in *kafka.Message, rec *mapped, built *kafka.Message, now time.Time) {
	origin, res := &s.origin, &s.res
	origin.Topic, origin.Partition, origin.Offset = in.Topic, in.Partition, in.Offset
	origin.Key, origin.Time = in.Key, in.Time
	origin.Headers = origin.Headers[:0]
	for _, h := range in.Headers {
		origin.Headers = append(origin.Headers, mapper.Header{Key: h.Key, Value: h.Value})
	}
	payload := in.Value
	origin.SchemaID = 0
	if f := p.w.cfg.Framing; f != nil {
		payload, origin.SchemaID = f.Unframe(in.Value)
	}
	obs := s.obs
	var start time.Time
	if s.timed {
		start = time.Now() // the clock is read only for observers that use it
	}
	src, resume := p.w.mapRecord(rules, &s.m, &s.rs, origin, payload, res)
	*rec = mapped{}
	if rec.resume = resume; resume != nil {
		return
	}
	if len(obs) > 0 {
		var took time.Duration
		if s.timed {
			took = time.Since(start)
		}
		for _, o := range obs {
			o.Observe(origin, src, payload, res, took)
		}
	}
	s.t.add(src, in.Topic, res)
	rec.source = ""
	if src != nil {
		rec.source = src.Name()
	}
	rec.dead = !res.Outcome.Delivered()
	if !rec.dead {
		var prefix []byte
		if f := p.w.cfg.Framing; f != nil {
			prefix = f.Prefix(src)
		}
		outputMessage(built, s.records(), in, src, res, prefix, &s.texts, &rec.enc)
	} else {
		deadLetterMessage(built, s.records(), in, src, res, now, &s.texts, &rec.enc)
	}
}

// pendingWrite tracks one batch's records in one topic: how many the
// asynchronous writer has not answered for yet, and those it failed or
// that were never enqueued (too large for the topic, or refused at once).
type pendingWrite struct {
	mu      sync.Mutex
	left    int
	failed  []kafka.Message
	lastErr error
	big     []kafka.Message
	done    chan struct{}
}

func newPendingWrite(n int) *pendingWrite {
	pw := &pendingWrite{left: n, done: make(chan struct{})}
	if n == 0 {
		close(pw.done)
	}
	return pw
}

// settle records the outcome of msgs (err nil: acknowledged).
func (pw *pendingWrite) settle(msgs []kafka.Message, err error) {
	var failed []kafka.Message
	if err != nil {
		failed = msgs
	}
	pw.answer(len(msgs), failed, err)
}

// answer records the outcome of n records: failed holds copies of them
// when err is not nil (kept as plain records: headers read from their
// encodings, WriterData cleared).
func (pw *pendingWrite) answer(n int, failed []kafka.Message, err error) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if err != nil {
		for _, m := range failed {
			pw.failed = append(pw.failed, plainRecord(m))
		}
		pw.lastErr = err
	}
	pw.left -= n
	if pw.left == 0 {
		close(pw.done)
	}
}

// enqueue hands b's records to the asynchronous writers, in order, keeping
// back the ones too large for their topic.
func (p *pipeline) enqueue(b *batch) {
	b.outW = p.enqueueTo(p.out, b.out)
	b.dlqW = p.enqueueTo(p.dlq, b.dlq)
}

func (p *pipeline) enqueueTo(s *topicSink, msgs []kafka.Message) *pendingWrite {
	pw := newPendingWrite(0)
	fit := msgs // the usual case: every record fits, and msgs is handed on as it is
	for i := range msgs {
		if !s.fits(&msgs[i]) {
			fit = nil
			break
		}
	}
	if fit == nil {
		for i := range msgs {
			if !s.fits(&msgs[i]) {
				pw.big = append(pw.big, msgs[i])
				continue
			}
			fit = append(fit, msgs[i])
		}
	}
	if len(fit) == 0 {
		return pw
	}
	pw = &pendingWrite{left: len(fit), big: pw.big, done: make(chan struct{})}
	for i := range fit {
		setPending(&fit[i], pw)
	}
	if err := s.enqueue.WriteAsync(fit); err != nil {
		pw.settle(fit, err)
	}
	return pw
}

// deliver waits for b's writes, rewrites what failed until acknowledged,
// waits out records too large for their topic, and closes b.done: b.ok
// tells whether every record is acknowledged. It gives up when ctx ends.
func (p *pipeline) deliver(ctx context.Context, b *batch) {
	defer close(b.done)
	var wg sync.WaitGroup
	var okOut, okDLQ bool
	wg.Go(func() { okOut = p.settle(ctx, b.tp, p.out, b.outW) })
	wg.Go(func() { okDLQ = p.settle(ctx, b.tp, p.dlq, b.dlqW) })
	wg.Wait()
	b.ok = okOut && okDLQ
}

func (p *pipeline) settle(ctx context.Context, tp topicPartition, s *topicSink, pw *pendingWrite) bool {
	select {
	case <-pw.done:
	case <-ctx.Done():
		return false
	}
	if len(pw.failed) > 0 {
		p.writeFailed(s.topic, 0, len(pw.failed), pw.lastErr)
		err := WriteAcked(ctx, s.retry, pw.failed, Retry{
			Min: p.cfg.RetryBackoffMin, Max: p.cfg.RetryBackoffMax,
			OnRetry: func(attempt, failed int, err error) { p.writeFailed(s.topic, attempt, failed, err) },
		})
		if err != nil {
			return false
		}
		p.writeRecovered(s.topic)
	}
	for _, m := range pw.big {
		if !p.waitTooLarge(ctx, tp, s, m) {
			return false
		}
	}
	return true
}

func (p *pipeline) writeFailed(topic string, attempt, failed int, err error) {
	p.w.stats.writeErrors.Add(1)
	p.w.failing.Store(fmt.Sprintf("writing to %s: %v", topic, err))
	if p.every.ok("write " + topic) {
		p.log.Warn("write failed; retrying", "topic", topic, "records", failed, "attempt", attempt, "error", err)
	}
}

func (p *pipeline) writeRecovered(topic string) {
	p.w.failing.Store("")
	p.log.Info("write recovered", "topic", topic)
}

// waitTooLarge holds a record larger than its topic accepts: its partition
// is reported not ready, the log says so once per LogInterval, and the
// topic's limit is read again every RetryBackoffMax; once the record fits
// it is written. It returns false when ctx ends first.
func (p *pipeline) waitTooLarge(ctx context.Context, tp topicPartition, s *topicSink, m kafka.Message) bool {
	m = plainRecord(m)
	size := recordSize(&m) + recordBatchOverhead
	origin := tp.String() + "@" + strconv.FormatInt(originOffset(&m), 10)
	reason := fmt.Sprintf("record %s of %d bytes is larger than %s accepts (max.message.bytes %d); raise it, or move the record aside", origin, size, s.topic, s.limit.Load())
	p.blocked.Store(tp, reason)
	defer p.blocked.Delete(tp)
	t := time.NewTicker(p.cfg.RetryBackoffMax)
	defer t.Stop()
	for {
		if p.every.ok("too large " + tp.String()) {
			p.log.Error("partition blocked: record too large for its topic", "partition", tp.String(), "record", origin,
				"bytes", size, "topic", s.topic, "max_message_bytes", s.limit.Load())
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		if s.refresh == nil {
			continue
		}
		lim, err := s.refresh(ctx)
		if err != nil || lim < size || s.writerFor == nil {
			continue
		}
		wr := s.writerFor(lim)
		err = WriteAcked(ctx, wr, []kafka.Message{m}, Retry{Min: p.cfg.RetryBackoffMin, Max: p.cfg.RetryBackoffMax})
		_ = wr.Close()
		if err != nil {
			return false
		}
		p.log.Info("partition unblocked", "partition", tp.String(), "record", origin, "topic", s.topic)
		return true
	}
}

// originOffset is the input offset a built record came from.
func originOffset(m *kafka.Message) int64 {
	for _, h := range m.Headers {
		if h.Key == HeaderOriginOffset {
			n, _ := strconv.ParseInt(string(h.Value), 10, 64)
			return n
		}
	}
	return -1
}

// acknowledged counts a batch whose every record is acknowledged and tells
// the delivery observers.
func (p *pipeline) acknowledged(b *batch) {
	p.w.stats.delivered(len(b.out), len(b.dlq))
	var dos []DeliveryObserver
	for _, o := range p.cfg.Observers {
		if do, ok := o.(DeliveryObserver); ok {
			dos = append(dos, do)
		}
	}
	if len(dos) == 0 {
		return
	}
	type key struct {
		source string
		dead   bool
	}
	counts := map[key]int{}
	for i := range b.recs {
		counts[key{b.recs[i].source, b.recs[i].dead}]++
	}
	for k, n := range counts {
		d := Delivery{Topic: p.cfg.OutputTopic, DeadLetter: k.dead, Source: k.source, Records: n}
		if k.dead {
			d.Topic = p.cfg.DeadLetterTopic
		}
		for _, do := range dos {
			do.Delivered(d)
		}
	}
}

// committer commits, for one generation, the offsets that the partitions'
// acknowledgement loops offer, asynchronously and coalesced: each commit
// carries the latest acknowledged offset of every partition that moved.
type committer struct {
	p    *pipeline
	gen  generation
	mu   sync.Mutex
	next map[topicPartition]int64 // acknowledged: offset after the last record
	recs map[topicPartition]int64 // records acknowledged, not yet committed
	kick chan struct{}
	quit chan struct{}
	pre  []CommitObserver // asked before each commit
}

func newCommitter(p *pipeline, gen generation) *committer {
	c := &committer{p: p, gen: gen, next: map[topicPartition]int64{}, recs: map[topicPartition]int64{},
		kick: make(chan struct{}, 1), quit: make(chan struct{})}
	for _, o := range p.cfg.Observers {
		if co, ok := o.(CommitObserver); ok {
			c.pre = append(c.pre, co)
		}
	}
	return c
}

// ack offers next as tp's commit point, covering n more records.
func (c *committer) ack(tp topicPartition, next int64, n int) {
	c.mu.Lock()
	c.next[tp] = next
	c.recs[tp] += int64(n)
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *committer) stop() { close(c.quit) }

// loop commits whenever offsets move, at most once every commit interval
// (a commit waits out the rest of the interval since the last one, so that
// a busy worker sends one OffsetCommit an interval rather than one a
// batch), until stop; then it commits once more (unless ctx, the drain,
// has ended).
func (c *committer) loop(ctx context.Context) {
	bo := backoff{min: c.p.cfg.RetryBackoffMin, max: c.p.cfg.RetryBackoffMax}
	var last time.Time
	var timer *time.Timer // set while a commit waits out the interval
	var due <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-c.kick:
			if due != nil {
				continue // the commit waiting covers these offsets too
			}
			if rest := c.p.cfg.CommitInterval - time.Since(last); rest > 0 {
				if timer == nil {
					timer = time.NewTimer(rest)
				} else {
					timer.Reset(rest)
				}
				due = timer.C
				continue
			}
		case <-due:
			due = nil
		case <-c.quit:
			if ctx.Err() == nil {
				c.flush(ctx)
			}
			return
		}
		last = time.Now()
		if c.flush(ctx) {
			bo.reset()
		} else if !bo.wait(ctx) {
			return
		}
	}
}

// flush commits what moved, after asking the commit observers; false if
// the commit failed (then it is tried again with the next one).
func (c *committer) flush(ctx context.Context) bool {
	c.mu.Lock()
	offsets := map[string]map[int]int64{}
	counted := map[topicPartition]int64{}
	for tp, n := range c.recs {
		if n == 0 {
			continue
		}
		if offsets[tp.topic] == nil {
			offsets[tp.topic] = map[int]int64{}
		}
		offsets[tp.topic][tp.partition] = c.next[tp]
		counted[tp] = n
	}
	c.mu.Unlock()
	if len(counted) == 0 {
		return true
	}
	for _, co := range c.pre {
		co.BeforeCommit(ctx)
	}
	if err := c.gen.CommitOffsets(offsets); err != nil {
		c.p.w.stats.commitErrors.Add(1)
		if c.p.every.ok("commit") {
			c.p.log.Warn("commit failed; the next commit covers these records, or they are consumed again", "error", err)
		}
		select { // try again soon
		case c.kick <- struct{}{}:
		default:
		}
		return false
	}
	var total int64
	c.mu.Lock()
	for tp, n := range counted {
		c.recs[tp] -= n
		total += n
	}
	c.mu.Unlock()
	c.p.w.stats.committedRecords.Add(total)
	return true
}

// byteBudget bounds the bytes of records in flight. Safe for concurrent
// use. It is fair: a reservation that has to wait is served before any
// later one, so that a partition which gives its room back and asks again
// at once (an idle partition polling) cannot keep the others waiting.
type byteBudget struct {
	mu      sync.Mutex
	used    int64
	max     int64
	peak    int64 // the most used at once
	waiters []chan struct{}
}

func newByteBudget(max int64) *byteBudget {
	return &byteBudget{max: max}
}

// reserve waits until less than the budget is in use and every earlier
// waiter is served, then takes up to want of what is left and returns it;
// false if ctx ended first.
func (b *byteBudget) reserve(ctx context.Context, want int64) (int64, bool) {
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used < b.max {
		n := b.take(want)
		b.mu.Unlock()
		return n, true
	}
	turn := make(chan struct{}, 1)
	b.waiters = append(b.waiters, turn)
	b.mu.Unlock()
	for {
		select {
		case <-turn:
			b.mu.Lock()
			if b.used < b.max && b.waiters[0] == turn {
				b.waiters = b.waiters[1:]
				n := b.take(want)
				b.wakeNext()
				b.mu.Unlock()
				return n, true
			}
			b.mu.Unlock()
		case <-ctx.Done():
			b.mu.Lock()
			for i, w := range b.waiters {
				if w == turn {
					b.waiters = append(b.waiters[:i:i], b.waiters[i+1:]...)
					break
				}
			}
			b.wakeNext()
			b.mu.Unlock()
			return 0, false
		}
	}
}

// take books up to want of what is left; b.mu is held and used < max.
func (b *byteBudget) take(want int64) int64 {
	n := min(want, b.max-b.used)
	b.used += n
	b.peak = max(b.peak, b.used)
	return n
}

// wakeNext tells the first waiter there is room; b.mu is held.
func (b *byteBudget) wakeNext() {
	if len(b.waiters) == 0 || b.used >= b.max {
		return
	}
	select {
	case b.waiters[0] <- struct{}{}:
	default:
	}
}

// settle replaces a reservation by the bytes it turned into: a fetch
// returns at least one record however large, so n may exceed reserved.
func (b *byteBudget) settle(reserved, n int64) {
	if n < reserved {
		b.release(reserved - n)
		return
	}
	b.mu.Lock()
	b.used += n - reserved
	b.peak = max(b.peak, b.used)
	b.mu.Unlock()
}

func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.wakeNext()
	b.mu.Unlock()
}

// most is the most bytes that were in flight at once.
func (b *byteBudget) most() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// inUse is the bytes in flight now.
func (b *byteBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// logEvery lets a log line through once per interval per key. Safe for
// concurrent use.
type logEvery struct {
	mu       sync.Mutex
	interval time.Duration
	last     map[string]time.Time
}

func newLogEvery(interval time.Duration) *logEvery {
	return &logEvery{interval: interval, last: map[string]time.Time{}}
}

func (l *logEvery) ok(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, seen := l.last[key]; seen && now.Sub(t) < l.interval {
		return false
	}
	if len(l.last) > 1024 {
		clear(l.last)
	}
	l.last[key] = now
	return true
}

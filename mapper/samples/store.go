package samples

import (
	"bufio"
	"bytes"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mapperhq/mapper/mapper"
)

// ErrFull is reported (through Config.OnError, once per file) when writing
// a category file would take the store past Config.MaxBytes.
var ErrFull = errors.New("samples store is full")

// Defaults of Config.
const (
	DefaultPerCategory    = 20
	DefaultClean          = 20
	DefaultMaxCategories  = 256
	DefaultMaxSampleBytes = 64 << 10
	DefaultMaxBytes       = 256 << 20
	DefaultFlushInterval  = time.Second
	DefaultQueueSize      = 1024
)

// Config configures a Store. Only Dir is required; every other zero value
// means the default stated on the field.
type Config struct {
	// Dir is the samples directory; it is created 0700 if missing.
	Dir string
	// PerCategory is K, the samples kept per source and failure category:
	// the first record seen plus a uniform random sample of the rest.
	// Zero means DefaultPerCategory.
	PerCategory int
	// Clean is the number of clean (mapped, no failure) records kept per
	// source, a uniform random sample, for regression checks in replay.
	// Zero means DefaultClean; negative keeps none.
	Clean int
	// MaxCategories caps the categories sampled per source (failure fields
	// from drift are not bounded by the rules); records of categories past
	// the cap are counted per source but not sampled. Zero means
	// DefaultMaxCategories.
	MaxCategories int
	// MaxSampleBytes is the largest redacted payload kept; larger ones are
	// counted (Stats.TooLarge) and not kept. Zero means DefaultMaxSampleBytes.
	MaxSampleBytes int
	// MaxBytes caps the bytes of all category files together (index.json
	// aside). At the cap a category file is written with only the samples
	// that fit in the room left, in slot order, so the first record of the
	// category is the last to go; room is first come, first served between
	// categories. Stats.Full counts the capped writes and OnError gets
	// ErrFull once per file. Counts in index.json go on being updated. Zero
	// means DefaultMaxBytes.
	MaxBytes int64
	// FlushInterval is how often changed files are written. Zero means
	// DefaultFlushInterval.
	FlushInterval time.Duration
	// QueueSize bounds the kept records waiting for the writer; when the
	// queue is full a kept record is dropped (Stats.Dropped) rather than
	// blocking the caller. Zero means DefaultQueueSize.
	QueueSize int
	// Rand is the random source of the reservoirs. It is only used under
	// the store's lock. Nil means a ChaCha8 source seeded from crypto/rand.
	Rand rand.Source
	// Now gives capture times and, for records without a time, seen times.
	// Nil means time.Now.
	Now func() time.Time
	// OnError is told of write errors, from the writer goroutine. Nil means
	// they are only returned by Close (the first one).
	OnError func(error)
	// OnKept, when set, is told of every record kept as a sample, with the
	// reason of its first kept category ("" for a clean record). It is
	// called from Observe and must not block.
	OnKept func(source string, reason mapper.Reason)
	// Sink, when set, is told of every sample line put in a slot and of the
	// counts at each flush (see Sink). Nil means the directory only.
	Sink Sink
	// Shapes bounds the structural profiles of the records no source
	// accepts, written to ShapesFile (see Shapes); its zero value keeps
	// them with the default bounds and no routing header values.
	Shapes ShapeConfig
}

func (c Config) withDefaults() (Config, error) {
	if c.Dir == "" {
		return c, errors.New("samples: no directory given")
	}
	if c.PerCategory < 0 || c.MaxCategories < 0 || c.MaxSampleBytes < 0 || c.MaxBytes < 0 || c.FlushInterval < 0 || c.QueueSize < 0 {
		return c, fmt.Errorf("samples: negative limit in %+v", c)
	}
	if c.PerCategory == 0 {
		c.PerCategory = DefaultPerCategory
	}
	if c.Clean == 0 {
		c.Clean = DefaultClean
	}
	if c.MaxCategories == 0 {
		c.MaxCategories = DefaultMaxCategories
	}
	if c.MaxSampleBytes == 0 {
		c.MaxSampleBytes = DefaultMaxSampleBytes
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.Rand == nil {
		var seed [32]byte
		if _, err := crand.Read(seed[:]); err != nil {
			return c, fmt.Errorf("samples: seed: %w", err)
		}
		c.Rand = rand.NewChaCha8(seed)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// Stats are the store's counters since Open.
type Stats struct {
	// Records is how many records the store was told of.
	Records uint64
	// Kept is how many were chosen as samples and queued for writing.
	Kept uint64
	// Dropped is how many chosen records were dropped because the writer's
	// queue was full.
	Dropped uint64
	// TooLarge is how many chosen records were not kept for their size.
	TooLarge uint64
	// Uncategorised is how many failures were not sampled because their
	// source had MaxCategories categories already.
	Uncategorised uint64
	// Full is how many file writes were skipped at MaxBytes.
	Full uint64
	// Writes is how many category files were written.
	Writes uint64
}

type catKey struct {
	source string
	reason mapper.Reason
	field  string
	clean  bool
}

// category is the decision side of one reservoir, guarded by Store.mu.
type category struct {
	name        string
	path        string
	k           int
	seen        uint64
	first, last time.Time
}

type sourceState struct {
	name               string
	version            int
	records, delivered uint64
	cats               int
}

type target struct {
	path, category string
	slot, k        int
	seen           uint64 // the record's position in its category
}

// item is a chosen record on its way to the writer: copies only.
type item struct {
	src        *mapper.Source
	source     string
	version    int
	targets    []target
	capturedAt time.Time
	topic      string
	partition  int
	offset     int64
	key        []byte
	headers    []mapper.Header
	payload    []byte
	res        mapper.Result
	imported   string
	// cand is what candidate rules made of the record (Keep only).
	cand        *mapper.Result
	candVersion int
}

// fileState is the writer's side of one category file.
type fileState struct {
	lines    [][]byte
	size     int64
	dirty    bool
	reported bool
}

// Store keeps bounded, redacted samples of the records it is told of. It
// implements the worker's Observer interface: Observe is safe for
// concurrent use, never blocks on I/O and keeps nothing of its arguments
// but copies. A background goroutine, owned by the Store, writes; Close
// drains it and waits for it.
type Store struct {
	cfg Config

	mu      sync.Mutex
	rnd     *rand.Rand
	sources map[string]*sourceState
	cats    map[catKey]*category
	changed bool
	closed  bool
	ch      chan item
	share   chan chan struct{} // ShareCounts asks the writer

	records, kept, dropped, tooLarge, uncategorised, full, writes atomic.Uint64

	// shapes profiles the records no source accepts; nil when off.
	shapes *shapes
	// routing holds the lower-case names of Config.Shapes.RoutingHeaders:
	// the headers whose values samples of unrouted records keep.
	routing map[string]bool

	// owned by the writer goroutine
	files map[string]*fileState
	total int64
	err   error
	done  chan struct{}
}

// Open opens (creating if needed) the samples directory and starts the
// writer. Samples and counts already in the directory are taken up, so a
// restarted worker goes on sampling where it stopped. Leftover temporary
// files of an interrupted write are removed.
func Open(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("samples: create %s: %w", cfg.Dir, err)
	}
	s := &Store{
		cfg:     cfg,
		rnd:     rand.New(cfg.Rand),
		sources: map[string]*sourceState{},
		cats:    map[catKey]*category{},
		ch:      make(chan item, cfg.QueueSize),
		files:   map[string]*fileState{},
		done:    make(chan struct{}),
		share:   make(chan chan struct{}),
		shapes:  newShapes(cfg.Shapes),
		routing: map[string]bool{},
	}
	for _, h := range cfg.Shapes.RoutingHeaders {
		s.routing[strings.ToLower(h)] = true
	}
	if err := s.restore(); err != nil {
		return nil, err
	}
	go s.writer()
	return s, nil
}

// restore takes up what a previous store left in the directory.
func (s *Store) restore() error {
	if s.shapes != nil {
		// A profile file that cannot be read is reported and started
		// afresh: it must not keep the worker from starting.
		if prev, ok, err := ReadShapes(s.cfg.Dir); err != nil {
			s.fail(err)
			s.err = nil
		} else if ok {
			s.shapes.restore(prev)
		}
	}
	idx, err := readIndex(s.cfg.Dir)
	if err != nil {
		return fmt.Errorf("samples: %w", err)
	}
	for _, src := range idx.Sources {
		ss := s.source(src.Source, src.RulesVersion)
		ss.records, ss.delivered = src.Records, src.Delivered
		for _, c := range src.Categories {
			cat := s.category(ss, c.Category)
			if cat == nil {
				continue
			}
			cat.seen, cat.first, cat.last = c.Seen, c.FirstSeen, c.LastSeen
		}
	}
	return filepath.WalkDir(s.cfg.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			return os.Remove(p)
		}
		if !strings.HasSuffix(d.Name(), ".jsonl") {
			return nil
		}
		lines, first, err := readLines(p)
		if err != nil {
			// Not a file this store wrote whole (it was edited, or cut
			// by a full disk): keep it aside rather than refuse to start
			// or overwrite it.
			aside := p + ".unreadable"
			if rerr := os.Rename(p, aside); rerr != nil {
				return fmt.Errorf("samples: %w (and cannot move it aside: %v)", err, rerr)
			}
			s.fail(fmt.Errorf("samples: %w; moved to %s", err, aside))
			s.err = nil
			return nil
		}
		if len(lines) == 0 {
			return nil
		}
		ss := s.source(first.Source, first.RulesVersion)
		cat := s.category(ss, first.Category)
		if cat == nil {
			return nil
		}
		if len(lines) > cat.k {
			lines = lines[:cat.k]
		}
		if cat.seen < uint64(len(lines)) {
			cat.seen = uint64(len(lines))
		}
		fst := &fileState{lines: make([][]byte, cat.k)}
		copy(fst.lines, lines)
		for _, l := range lines {
			fst.size += int64(len(l)) + 1
		}
		s.files[cat.path] = fst
		s.total += fst.size
		return nil
	})
}

func readLines(path string) ([][]byte, Sample, error) {
	var first Sample
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, first, err
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), len(b)+1)
	n := 0
	for sc.Scan() {
		n++
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 {
			continue
		}
		if len(lines) == 0 {
			if err := json.Unmarshal(l, &first); err != nil {
				return nil, first, fmt.Errorf("%s:%d: %w", path, n, err)
			}
		} else if !json.Valid(l) {
			return nil, first, fmt.Errorf("%s:%d: not a JSON line", path, n)
		}
		lines = append(lines, append([]byte(nil), l...))
	}
	return lines, first, sc.Err()
}

// source returns the state of a source, creating it. Caller holds mu (or
// is Open).
func (s *Store) source(name string, version int) *sourceState {
	ss := s.sources[name]
	if ss == nil {
		ss = &sourceState{name: name}
		s.sources[name] = ss
	}
	if version > ss.version {
		ss.version = version
	}
	return ss
}

// category returns the reservoir of a source's category by name, creating
// it; nil past MaxCategories.
func (s *Store) category(ss *sourceState, name string) *category {
	k := catKey{source: ss.name, clean: name == CleanCategory}
	if !k.clean {
		k.reason, k.field = SplitCategory(name)
	}
	return s.categoryKey(ss, k)
}

func (s *Store) categoryKey(ss *sourceState, k catKey) *category {
	if c := s.cats[k]; c != nil {
		return c
	}
	c := &category{k: s.cfg.PerCategory}
	if k.clean {
		if s.cfg.Clean < 0 {
			return nil
		}
		c.k, c.name = s.cfg.Clean, CleanCategory
	} else {
		if ss.cats >= s.cfg.MaxCategories {
			return nil
		}
		ss.cats++
		k.field = strings.Clone(k.field)
		c.name = mapper.Category{Reason: k.reason, Field: k.field}.String()
	}
	c.path = CategoryPath(ss.name, c.name)
	s.cats[k] = c
	return c
}

// slot decides, for the seen-th record of a reservoir of k slots, which
// slot it takes, or -1 if it is not kept: slot 0 holds the first record;
// slots 1..k-1 hold a uniform sample of records 2..seen (Algorithm R).
// Caller holds mu.
func (s *Store) slot(seen uint64, k int) int {
	if seen <= uint64(k) {
		return int(seen - 1)
	}
	if k <= 1 {
		return -1
	}
	if j := s.rnd.Uint64N(seen - 1); j < uint64(k-1) {
		return int(j) + 1
	}
	return -1
}

// Observe is told of one mapped record (see the worker's Observer). src is
// nil for a record no source claims. It costs a lock, a map look-up per
// failure and, for a kept record, copies of it; it does no I/O.
func (s *Store) Observe(origin *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, took time.Duration) {
	s.observe(origin, src, payload, res, "")
}

// Add offers one imported payload, read with headers (nil for none) and
// mapped by src into res, to the store as if the worker had read it; file
// names where it came from. The headers are kept with the sample, so that
// replay routes it as it routes a live one. Like Observe, it goes through
// the reservoirs: a category that already holds K samples keeps the new one
// at random.
func (s *Store) Add(src *mapper.Source, headers []mapper.Header, payload []byte, res *mapper.Result, file string) {
	s.observe(&mapper.Origin{Headers: headers}, src, payload, res, file)
}

func (s *Store) observe(origin *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, imported string) {
	var name string
	var version int
	if src != nil {
		name, version = src.Name(), src.Version()
	}
	s.records.Add(1)
	var when time.Time
	if len(res.Failures) > 0 {
		if origin != nil {
			when = origin.Time
		}
		if when.IsZero() {
			when = s.cfg.Now()
		}
	}
	if src == nil && s.shapes != nil && unknownSource(res) {
		s.shapes.observe(origin, payload, when)
	}
	var targets [2]target
	ts := targets[:0]

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.changed = true
	ss := s.sources[name]
	if ss == nil || ss.version < version {
		ss = s.source(name, version)
	}
	ss.records++
	if res.Outcome.Delivered() {
		ss.delivered++
	}
	if len(res.Failures) == 0 {
		if res.Outcome != mapper.OutcomeMapped {
			return
		}
		c := s.categoryKey(ss, catKey{source: name, clean: true})
		if c == nil {
			return
		}
		c.seen++
		if slot := s.slot(c.seen, c.k); slot >= 0 {
			ts = append(ts, target{path: c.path, category: c.name, slot: slot, k: c.k, seen: c.seen})
		}
	}
	var keptReason mapper.Reason
	for _, f := range res.Failures {
		c := s.categoryKey(ss, catKey{source: name, reason: f.Reason, field: f.Field})
		if c == nil {
			s.uncategorised.Add(1)
			continue
		}
		c.seen++
		if c.first.IsZero() {
			c.first = when
		}
		c.last = when
		if slot := s.slot(c.seen, c.k); slot >= 0 {
			if len(ts) == 0 {
				keptReason = f.Reason
			}
			ts = append(ts, target{path: c.path, category: c.name, slot: slot, k: c.k, seen: c.seen})
		}
	}
	if len(ts) == 0 {
		return
	}
	s.queue(item{
		src: src, source: name, version: version,
		targets:  append([]target(nil), ts...),
		payload:  append([]byte(nil), payload...),
		res:      res.Clone(),
		imported: imported,
	}, origin, keptReason)
}

// Keep offers one record to the reservoir of a category of its own, such
// as "candidate:newly_failing", outside the failure taxonomy: the record is
// counted in that category only, not among the source's records. res is
// what src's rules made of it; cand, when not nil, is what candidate rules
// of version candVersion made of it, kept beside it. Like Observe it never
// blocks and keeps only copies; payload is redacted with src's paths when
// written (pass it already redacted by other rules too when theirs differ).
func (s *Store) Keep(category string, origin *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, candVersion int, cand *mapper.Result) {
	var name string
	var version int
	if src != nil {
		name, version = src.Name(), src.Version()
	}
	r, f := SplitCategory(category)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.changed = true
	ss := s.sources[name]
	if ss == nil || ss.version < version {
		ss = s.source(name, version)
	}
	c := s.categoryKey(ss, catKey{source: name, reason: r, field: f})
	if c == nil {
		s.uncategorised.Add(1)
		return
	}
	when := s.cfg.Now()
	if origin != nil && !origin.Time.IsZero() {
		when = origin.Time
	}
	c.seen++
	if c.first.IsZero() {
		c.first = when
	}
	c.last = when
	slot := s.slot(c.seen, c.k)
	if slot < 0 {
		return
	}
	it := item{
		src: src, source: name, version: version,
		targets: []target{{path: c.path, category: c.name, slot: slot, k: c.k}},
		payload: append([]byte(nil), payload...),
		res:     res.Clone(),
	}
	if cand != nil {
		cr := cand.Clone()
		it.cand = &cr
		it.candVersion = candVersion
	}
	s.queue(it, origin, r)
}

// queue copies origin into it and hands it to the writer, or drops it when
// the queue is full. Caller holds mu.
func (s *Store) queue(it item, origin *mapper.Origin, keptReason mapper.Reason) {
	it.capturedAt = s.cfg.Now()
	if origin != nil {
		it.topic, it.partition, it.offset = origin.Topic, origin.Partition, origin.Offset
		it.key = append([]byte(nil), origin.Key...)
		for _, h := range origin.Headers {
			it.headers = append(it.headers, mapper.Header{Key: h.Key, Value: append([]byte(nil), h.Value...)})
		}
	}
	select {
	case s.ch <- it:
		s.kept.Add(1)
		if s.cfg.OnKept != nil {
			s.cfg.OnKept(it.source, keptReason)
		}
	default:
		s.dropped.Add(1)
	}
}

// Stats returns the store's counters. Safe for concurrent use.
func (s *Store) Stats() Stats {
	return Stats{
		Records: s.records.Load(), Kept: s.kept.Load(), Dropped: s.dropped.Load(),
		TooLarge: s.tooLarge.Load(), Uncategorised: s.uncategorised.Load(),
		Full: s.full.Load(), Writes: s.writes.Load(),
	}
}

// Close stops taking records, writes every kept record and the index, and
// waits for the writer. It returns the first write error, if any. Calling
// Close again returns nil; Observe after Close does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.ch)
	s.mu.Unlock()
	<-s.done
	return s.err
}

func (s *Store) writer() {
	defer close(s.done)
	tick := time.NewTicker(s.cfg.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case it, ok := <-s.ch:
			if !ok {
				s.flush()
				return
			}
			s.apply(it)
		case <-tick.C:
			s.flush()
		case done := <-s.share:
			s.shareCounts()
			close(done)
		}
	}
}

func (s *Store) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	if s.cfg.OnError != nil {
		s.cfg.OnError(err)
	}
}

// apply encodes a kept record and puts it in its slots.
func (s *Store) apply(it item) {
	for _, t := range it.targets {
		line, err := s.encode(&it, t.category)
		if err != nil {
			s.fail(fmt.Errorf("samples: encode %s %s: %w", it.source, t.category, err))
			continue
		}
		if line == nil {
			s.tooLarge.Add(1)
			continue
		}
		fst := s.files[t.path]
		if fst == nil {
			fst = &fileState{}
			s.files[t.path] = fst
		}
		for len(fst.lines) < t.k {
			fst.lines = append(fst.lines, nil)
		}
		fst.lines[t.slot] = line
		fst.dirty = true
		if s.cfg.Sink != nil {
			s.cfg.Sink.Slot(it.source, t.category, t.slot, t.seen, line)
		}
	}
}

// encode makes the sample line of a kept record: nil if too large.
func (s *Store) encode(it *item, cat string) ([]byte, error) {
	smp := Sample{
		CapturedAt: it.capturedAt.UTC(), Source: it.source, RulesVersion: it.version, Category: cat,
		Topic: it.topic, Partition: it.partition, Offset: it.offset, Key: it.key,
		Outcome: it.res.Outcome, Failures: it.res.Failures, Imported: it.imported,
	}
	if smp.Failures == nil {
		smp.Failures = []mapper.Failure{}
	}
	for _, h := range it.headers {
		if it.src == nil && !s.routing[strings.ToLower(h.Key)] {
			// No source, no redact paths: only what the rules route on.
			smp.Headers = append(smp.Headers, Header{Key: h.Key, Withheld: true})
			continue
		}
		smp.Headers = append(smp.Headers, Header{Key: h.Key, Value: h.Value})
	}
	if it.src == nil {
		smp.Key = nil
		smp.PayloadOmitted = "no source claims the record, so its redact paths are unknown"
	} else {
		red := it.src.Redact(it.payload)
		if len(red) > s.cfg.MaxSampleBytes {
			return nil, nil
		}
		var buf bytes.Buffer
		if json.Compact(&buf, red) == nil {
			smp.Payload = buf.Bytes()
		} else {
			smp.PayloadBase64 = red
		}
		smp.Failures = it.src.RedactFailures(smp.Failures)
		if detail, ok := smp.MalformedOriginal(); ok {
			// The masked bytes may parse where the original did not: keep
			// what the original gave, and no output of the masked bytes.
			smp.Malformed = detail
		} else {
			out := it.src.Map(red)
			var obuf bytes.Buffer
			if json.Compact(&obuf, out.Output) == nil {
				smp.Output = obuf.Bytes()
			}
		}
	}
	if it.cand != nil {
		cr := &CandidateResult{RulesVersion: it.candVersion, Outcome: it.cand.Outcome, Failures: it.cand.Failures}
		if cr.Failures == nil {
			cr.Failures = []mapper.Failure{}
		}
		if it.src != nil {
			cr.Failures = it.src.RedactFailures(cr.Failures)
		}
		smp.Candidate = cr
	}
	return json.Marshal(&smp)
}

// flush writes every changed category file, then the index.
func (s *Store) flush() {
	paths := make([]string, 0, len(s.files))
	for p, f := range s.files {
		if f.dirty {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		f := s.files[p]
		f.dirty = false
		// At the cap the file keeps the samples that fit in the room it may
		// take, in slot order: the first record of the category first.
		room := s.cfg.MaxBytes - (s.total - f.size)
		var buf bytes.Buffer
		capped := false
		for _, l := range f.lines {
			if l == nil {
				continue
			}
			if int64(buf.Len()+len(l)+1) > room {
				capped = true
				continue
			}
			buf.Write(l)
			buf.WriteByte('\n')
		}
		size := int64(buf.Len())
		if capped {
			s.full.Add(1)
			if !f.reported {
				f.reported = true
				s.fail(fmt.Errorf("%w (%d bytes): %s keeps only the samples that fit", ErrFull, s.cfg.MaxBytes, p))
			}
			if size == 0 {
				continue
			}
		}
		if err := writeAtomic(filepath.Join(s.cfg.Dir, p), buf.Bytes()); err != nil {
			s.fail(fmt.Errorf("samples: write %s: %w", p, err))
			continue
		}
		s.writes.Add(1)
		s.total += size - f.size
		f.size = size
	}
	if s.shapes != nil {
		if sh, dirty := s.shapes.snapshot(s.cfg.Now(), true); dirty {
			if err := WriteShapes(s.cfg.Dir, sh); err != nil {
				s.fail(err)
			}
			if sink, ok := s.cfg.Sink.(ShapesSink); ok {
				sink.Shapes(sh)
			}
		}
	}
	s.writeIndex()
}

func (s *Store) writeIndex() {
	s.mu.Lock()
	if !s.changed {
		s.mu.Unlock()
		return
	}
	s.changed = false
	idx := s.indexLocked()
	if s.cfg.Sink != nil {
		s.cfg.Sink.Index(idx)
	}
	b, err := marshalIndex(idx)
	if err == nil {
		err = writeAtomic(filepath.Join(s.cfg.Dir, indexFile), b)
	}
	if err != nil {
		s.fail(fmt.Errorf("samples: write index: %w", err))
	}
}

// indexLocked is the index of the counts the store holds. It is called
// with mu held and unlocks it.
func (s *Store) indexLocked() index {
	idx := index{UpdatedAt: s.cfg.Now().UTC()}
	bySource := map[string]*indexSource{}
	for _, ss := range s.sources {
		bySource[ss.name] = &indexSource{Source: ss.name, RulesVersion: ss.version, Records: ss.records, Delivered: ss.delivered}
	}
	for k, c := range s.cats {
		is := bySource[k.source]
		is.Categories = append(is.Categories, indexCategory{Category: c.name, Seen: c.seen, FirstSeen: c.first.UTC(), LastSeen: c.last.UTC()})
	}
	s.mu.Unlock()
	for _, is := range bySource {
		sort.Slice(is.Categories, func(i, j int) bool { return is.Categories[i].Category < is.Categories[j].Category })
		idx.Sources = append(idx.Sources, *is)
	}
	sort.Slice(idx.Sources, func(i, j int) bool { return idx.Sources[i].Source < idx.Sources[j].Source })
	return idx
}

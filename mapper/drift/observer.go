package drift

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/profile"
)

// Defaults of Config.
const (
	DefaultMaxPaths      = 256
	DefaultMaxValues     = 16
	DefaultFlushInterval = time.Second
	// valuesPerRecord caps the enum values taken from one failure (an
	// array field yields one per element).
	valuesPerRecord = 8
	// maxFieldCache bounds the schema answers kept per source; past it a
	// field's answer is read from the schema each time.
	maxFieldCache = 1024
)

// Sink is told of each source's report when it changed, at each flush
// (the samples topic's writer shares it with the group). Drift is called
// from the Observer's flushing goroutine, one call at a time: it may take
// a lock but must not wait on the network. It may keep r.
type Sink interface {
	Drift(r Report)
}

// Gauges is told, at each flush, how many fields of each kind drift in
// each source (*metrics.Client sends them as mapper.drift.fields). Called
// from the flushing goroutine; it must not block.
type Gauges interface {
	DriftFields(source, kind string, n int)
}

// Announcer is told once of each new drift (source, kind, path) the
// Observer starts to track, at the flush that follows (a Sentry event).
// Drift loaded from the samples directory at Open is not new. Called from
// the flushing goroutine; it must not block.
type Announcer interface {
	NewDrift(source string, rulesVersion int, e Entry)
}

// Config configures an Observer. Every field is optional; a zero value
// means the default stated on it.
type Config struct {
	// Dir is the samples directory each source's report is written to
	// (<dir>/<source>/drift.json) and taken up from at Open. Empty: no
	// file.
	Dir string
	// MaxPaths caps the kind and path pairs tracked per source. Zero means
	// DefaultMaxPaths.
	MaxPaths int
	// MaxValues caps the distinct values kept per new_enum_value entry.
	// Zero means DefaultMaxValues.
	MaxValues int
	// FlushInterval is how often reports are written and handed on. Zero
	// means DefaultFlushInterval.
	FlushInterval time.Duration
	// Sink, Gauges and Announcer, when set, are told of reports, field
	// counts and new drift (see each). Nil: none.
	Sink      Sink
	Gauges    Gauges
	Announcer Announcer
	// OnError is told of write errors and of report files that could not
	// be read at Open (those start afresh). Nil: they are only returned by
	// Close (the first one).
	OnError func(error)
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Observer keeps the drift reports of every source it observes. It
// implements the worker's Observer interface: Observe is safe for
// concurrent use; on a record without failures it only counts the record,
// and it does not allocate once a source's fields are known. A goroutine
// owned by the Observer flushes every FlushInterval; Close stops it and
// flushes what is left.
type Observer struct {
	cfg      Config
	srcs     atomic.Pointer[map[string]*sourceDrift]
	addMu    sync.Mutex // serialises additions to srcs
	scanners chan *mapper.ValueScanner
	closed   atomic.Bool

	errMu sync.Mutex
	err   error

	stop, done chan struct{}
}

// Open returns an Observer, taking up the reports already in cfg.Dir, and
// starts its flushing goroutine.
func Open(cfg Config) (*Observer, error) {
	switch {
	case cfg.MaxPaths < 0:
		return nil, fmt.Errorf("drift: MaxPaths %d: must be 0 (default) or more", cfg.MaxPaths)
	case cfg.MaxValues < 0:
		return nil, fmt.Errorf("drift: MaxValues %d: must be 0 (default) or more", cfg.MaxValues)
	}
	if cfg.MaxPaths == 0 {
		cfg.MaxPaths = DefaultMaxPaths
	}
	if cfg.MaxValues == 0 {
		cfg.MaxValues = DefaultMaxValues
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	o := &Observer{cfg: cfg, stop: make(chan struct{}), done: make(chan struct{}),
		scanners: make(chan *mapper.ValueScanner, 2*runtime.GOMAXPROCS(0))}
	m := map[string]*sourceDrift{}
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("drift: create %s: %w", cfg.Dir, err)
		}
		reports, err := ReadDir(cfg.Dir)
		if err != nil {
			o.report(err)
		}
		for _, r := range reports {
			sd := newSourceDrift(r.Source)
			sd.load(r, &o.cfg)
			m[r.Source] = sd
		}
	}
	o.srcs.Store(&m)
	go o.run()
	return o, nil
}

// sourceDrift is one source's report as it is kept.
type sourceDrift struct {
	name    string
	records atomic.Uint64
	current atomic.Pointer[mapper.Source] // src, read without the lock

	mu        sync.Mutex
	src       *mapper.Source // the rules the field answers are from
	version   int
	fields    map[string]mapper.InputField
	entries   map[entryKey]*entry
	untracked uint64
	fresh     []*entry // new since the last flush, to announce
	dirty     bool
	written   uint64 // records at the last flush
}

type entry struct {
	kind        Kind
	path        string
	count       uint64
	first, last time.Time
	types       [len(jsonTypes)]uint64
	expected    []string
	values      *profile.Sketch // new_enum_value only
}

var jsonTypes = [...]string{"null", "boolean", "integer", "number", "string", "array", "object"}

func typeIndex(t string) int {
	for i, x := range jsonTypes {
		if x == t {
			return i
		}
	}
	return -1
}

func newSourceDrift(name string) *sourceDrift {
	return &sourceDrift{name: name, fields: map[string]mapper.InputField{}, entries: map[entryKey]*entry{}}
}

// load takes up a report read back from the samples directory.
func (sd *sourceDrift) load(r Report, cfg *Config) {
	sd.records.Store(r.Records)
	sd.written = r.Records
	sd.untracked = r.Untracked
	sd.version = r.RulesVersion
	for _, e := range r.Entries {
		x := sd.entry(e.Kind, e.Path, e.FirstSeen, cfg)
		if x == nil {
			sd.untracked += e.Count
			continue
		}
		x.count, x.last, x.expected = e.Count, e.LastSeen, e.Expected
		for _, t := range e.Types {
			if i := typeIndex(t.Type); i >= 0 {
				x.types[i] += t.Count
			}
		}
		if x.values != nil {
			x.values.Merge(e.Values, e.ValuesTotal)
		}
	}
	sd.fresh = sd.fresh[:0]
}

// entry returns the entry of kind at path, creating it (first seen at
// now) unless the source tracks MaxPaths already (then nil).
func (sd *sourceDrift) entry(k Kind, path string, now time.Time, cfg *Config) *entry {
	key := entryKey{k, path}
	if e := sd.entries[key]; e != nil {
		return e
	}
	if len(sd.entries) >= cfg.MaxPaths {
		return nil
	}
	e := &entry{kind: k, path: path, first: now}
	if k == KindNewEnumValue {
		e.values = profile.New(cfg.MaxValues)
	}
	sd.entries[key] = e
	sd.fresh = append(sd.fresh, e)
	return e
}

// field is what the input schema of src says of field, cached.
func (sd *sourceDrift) field(src *mapper.Source, field string) mapper.InputField {
	if f, ok := sd.fields[field]; ok {
		return f
	}
	f := src.InputField(field)
	if len(sd.fields) < maxFieldCache {
		sd.fields[field] = f
	}
	return f
}

// source returns the drift of the source named name, creating it.
func (o *Observer) source(name string) *sourceDrift {
	if sd := (*o.srcs.Load())[name]; sd != nil {
		return sd
	}
	o.addMu.Lock()
	defer o.addMu.Unlock()
	old := *o.srcs.Load()
	if sd := old[name]; sd != nil {
		return sd
	}
	m := make(map[string]*sourceDrift, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	sd := newSourceDrift(name)
	m[name] = sd
	o.srcs.Store(&m)
	return sd
}

// driftReason reports whether failures of r can be drift, and whether
// they need the payload's values.
func driftReason(r mapper.Reason) (drift, values bool) {
	switch r {
	case mapper.ReasonUnexpectedField, mapper.ReasonMissingField, mapper.ReasonTypeMismatch, mapper.ReasonNullField:
		return true, false
	case mapper.ReasonUnknownEnum:
		return true, true
	}
	return false, false
}

// Observe counts one record of src and the drift its failures show.
// Records no source claims (src nil) are ignored. The payload is parsed
// again only when a failure is an unknown_enum, outside the source's lock.
func (o *Observer) Observe(_ *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, _ time.Duration) {
	if src == nil || o.closed.Load() {
		return
	}
	sd := o.source(src.Name())
	sd.records.Add(1)
	o.observe(sd, src, payload, res)
}

// observe is Observe once the record is counted.
func (o *Observer) observe(sd *sourceDrift, src *mapper.Source, payload []byte, res *mapper.Result) {
	if sd.current.Load() != src {
		// New rules (a reload, a restart): what they cover leaves the report.
		sd.mu.Lock()
		sd.use(src)
		sd.mu.Unlock()
	}
	var drifting, values bool
	for i := range res.Failures {
		d, v := driftReason(res.Failures[i].Reason)
		drifting, values = drifting || d, values || v
	}
	if !drifting {
		return
	}
	var vs *mapper.ValueScanner // nil: no value to read
	if values {
		var sc *mapper.ValueScanner
		select {
		case sc = <-o.scanners:
		default:
			sc = new(mapper.ValueScanner)
		}
		defer func() {
			select {
			case o.scanners <- sc:
			default:
			}
		}()
		if sc.Parse(src, payload) {
			vs = sc
		}
	}
	now := o.cfg.Now()
	sd.mu.Lock()
	defer sd.mu.Unlock()
	sd.observe(src, res.Failures, vs, now, &o.cfg)
}

func (sd *sourceDrift) observe(src *mapper.Source, fs []mapper.Failure, vs *mapper.ValueScanner, now time.Time, cfg *Config) {
	sd.use(src)
	for i := range fs {
		f := &fs[i]
		if d, _ := driftReason(f.Reason); !d || f.Field == "" {
			continue
		}
		info := sd.field(src, f.Field)
		k, typ, ok := classify(f, info)
		if !ok {
			continue
		}
		e := sd.entry(kinds[k], f.Field, now, cfg)
		if e == nil {
			sd.untracked++
			sd.dirty = true
			continue
		}
		e.count++
		e.last = now
		sd.dirty = true
		switch k {
		case kindNewType:
			e.types[typ]++
			e.expected = info.Types
		case kindNewEnumValue:
			if vs != nil && !src.IsRedacted(f.Field) {
				vs.Values(f.Field, valuesPerRecord, e.values.Add)
			}
		}
	}
}

// Indexes of the kinds in kinds, as classify gives them.
const (
	kindNewProperty = iota
	kindAbsentRequired
	kindNewType
	kindNewEnumValue
)

var kinds = [...]Kind{KindNewProperty, KindAbsentRequired, KindNewType, KindNewEnumValue}

// classify is the drift a failure that may be drift (driftReason) shows
// where the input schema says info: the index of its kind in kinds and,
// for a new type, the index of the type seen in jsonTypes; ok is false
// when the schema agrees with the failure (it is no drift).
func classify(f *mapper.Failure, info mapper.InputField) (k, typ int, ok bool) {
	switch f.Reason {
	case mapper.ReasonUnexpectedField:
		return kindNewProperty, 0, true
	case mapper.ReasonMissingField:
		return kindAbsentRequired, 0, info.Required
	case mapper.ReasonUnknownEnum:
		return kindNewEnumValue, 0, info.Enum
	default: // type_mismatch, null_field
		typ = typeIndex(observedType(f))
		if typ < 0 || !info.Known || len(info.Types) == 0 || allows(info.Types, jsonTypes[typ]) {
			return 0, 0, false
		}
		return kindNewType, typ, true
	}
}

// use makes src the rules the field answers come from; with new rules,
// recheck. Called with sd.mu held.
func (sd *sourceDrift) use(src *mapper.Source) {
	sd.version = src.Version()
	if sd.src == src {
		return
	}
	sd.src = src
	sd.current.Store(src)
	clear(sd.fields)
	sd.recheck(src)
}

// recheck drops the entries that the input schema of src no longer
// disagrees with: a property it now declares, a required it dropped, the
// types it now allows, an enum it removed. So once a contract edit ships
// (a reload, a restart on new rules), the report shows what still drifts.
// Called with sd.mu held, once per rules set met.
func (sd *sourceDrift) recheck(src *mapper.Source) {
	for k, e := range sd.entries {
		info := sd.field(src, e.path)
		covered := false
		switch e.kind {
		case KindNewProperty:
			covered = info.Known
		case KindAbsentRequired:
			covered = !info.Required
		case KindNewEnumValue:
			covered = !info.Enum
		case KindNewType:
			covered = true
			for i, n := range e.types {
				if n > 0 && info.Known && len(info.Types) > 0 && !allows(info.Types, jsonTypes[i]) {
					covered = false
				}
			}
		}
		if !covered {
			continue
		}
		delete(sd.entries, k)
		sd.fresh = slices.DeleteFunc(sd.fresh, func(x *entry) bool { return x == e })
		sd.dirty = true
	}
}

// observedType is the JSON type a type failure's detail names: the
// engine's "object, expected null" or the validator's "expected null, but
// got object"; "" when it names none.
func observedType(f *mapper.Failure) string {
	if f.Reason == mapper.ReasonNullField {
		return "null"
	}
	d := f.Detail
	if t, _, ok := strings.Cut(d, ", expected "); ok {
		return t
	}
	if _, t, ok := strings.Cut(d, ", but got "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

// allows reports whether types allow a value of type t (an integer is a
// number).
func allows(types []string, t string) bool {
	for _, x := range types {
		if x == t || (t == "integer" && x == "number") {
			return true
		}
	}
	return false
}

// report builds the report as it stands. Called with sd.mu held.
func (sd *sourceDrift) report(cfg *Config, now time.Time) Report {
	r := Report{Source: sd.name, RulesVersion: sd.version, Records: sd.records.Load(), UpdatedAt: now,
		MaxPaths: cfg.MaxPaths, MaxValues: cfg.MaxValues, Untracked: sd.untracked, Entries: make([]Entry, 0, len(sd.entries))}
	for _, e := range sd.entries {
		r.Entries = append(r.Entries, e.export())
	}
	r.finish()
	return r
}

func (e *entry) export() Entry {
	x := Entry{Kind: e.kind, Path: e.path, Count: e.count, FirstSeen: e.first, LastSeen: e.last, Expected: e.expected}
	for i, n := range e.types {
		if n > 0 {
			x.Types = append(x.Types, TypeCount{Type: jsonTypes[i], Count: n})
		}
	}
	x.Types = addTypes(nil, x.Types)
	if e.values != nil {
		x.Values, x.ValuesTotal = e.values.Top(), e.values.Total()
	}
	return x
}

// Report returns the report of one source as it stands; ok is false when
// no record of it was observed (nor taken up at Open).
func (o *Observer) Report(source string) (r Report, ok bool) {
	sd := (*o.srcs.Load())[source]
	if sd == nil {
		return Report{}, false
	}
	sd.mu.Lock()
	defer sd.mu.Unlock()
	return sd.report(&o.cfg, o.cfg.Now().UTC()), true
}

// Reports returns every source's report as it stands, by source name.
func (o *Observer) Reports() []Report {
	m := *o.srcs.Load()
	out := make([]Report, 0, len(m))
	for _, sd := range m {
		sd.mu.Lock()
		out = append(out, sd.report(&o.cfg, o.cfg.Now().UTC()))
		sd.mu.Unlock()
	}
	sortReports(out)
	return out
}

func sortReports(rs []Report) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Source < rs[j].Source })
}

func (o *Observer) run() {
	defer close(o.done)
	t := time.NewTicker(o.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			o.flush()
		}
	}
}

// flush sets the gauges of every source, and announces, hands on and
// writes the reports that changed. Reports are built under each source's
// lock; the rest runs outside it.
func (o *Observer) flush() {
	now := o.cfg.Now().UTC()
	for _, sd := range *o.srcs.Load() {
		sd.mu.Lock()
		changed := sd.dirty || sd.records.Load() != sd.written
		r := sd.report(&o.cfg, now)
		fresh := make([]Entry, 0, len(sd.fresh))
		for _, e := range sd.fresh {
			fresh = append(fresh, e.export())
		}
		sd.fresh = sd.fresh[:0]
		sd.dirty, sd.written = false, r.Records
		sd.mu.Unlock()

		if g := o.cfg.Gauges; g != nil {
			fields := r.Fields()
			for _, k := range Kinds {
				g.DriftFields(r.Source, string(k), fields[k])
			}
		}
		if a := o.cfg.Announcer; a != nil {
			for _, e := range fresh {
				if r.Records > 0 {
					e.Share = float64(e.Count) / float64(r.Records)
				}
				a.NewDrift(r.Source, r.RulesVersion, e)
			}
		}
		if !changed {
			continue
		}
		if o.cfg.Sink != nil {
			o.cfg.Sink.Drift(r)
		}
		if o.cfg.Dir != "" {
			if err := WriteFile(o.cfg.Dir, r); err != nil {
				o.report(err)
			}
		}
	}
}

func (o *Observer) report(err error) {
	o.errMu.Lock()
	if o.err == nil {
		o.err = err
	}
	o.errMu.Unlock()
	if o.cfg.OnError != nil {
		o.cfg.OnError(err)
	}
}

// Close stops the flushing goroutine and flushes what is left. It returns
// the first error met (a write that failed, a report that could not be
// read at Open). Observe after Close does nothing; Close twice is safe.
func (o *Observer) Close() error {
	if o.closed.Swap(true) {
		<-o.done
	} else {
		close(o.stop)
		<-o.done
		o.flush()
	}
	o.errMu.Lock()
	defer o.errMu.Unlock()
	return o.err
}

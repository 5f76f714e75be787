package samples

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/profile"
)

// Defaults of ValuesConfig.
const (
	DefaultValuesPerCategory = profile.DefaultCapacity
	DefaultValuesPerRecord   = 8
)

// valuesSuffix ends the file of a category's value profile, beside its
// samples file (<source>/<reason>/<field>.values.json).
const valuesSuffix = ".values.json"

// ValuesPath is the value profile file of a source's category, relative to
// the samples directory.
func ValuesPath(source, category string) string {
	return strings.TrimSuffix(CategoryPath(source, category), ".jsonl") + valuesSuffix
}

// ValuesConfig configures a Values profiler. Only Dir is required; every
// other zero value means the default stated on the field.
type ValuesConfig struct {
	// Dir is the samples directory the profiles are kept in.
	Dir string
	// PerCategory is how many distinct values are tracked per source and
	// category (the sketch's capacity). Zero means DefaultValuesPerCategory.
	PerCategory int
	// PerRecord caps the values taken from one failure of one record (an
	// array field yields one per element). Zero means DefaultValuesPerRecord.
	PerRecord int
	// MaxCategories caps the categories profiled per source. Zero means
	// DefaultMaxCategories.
	MaxCategories int
	// FlushInterval is how often changed profiles are written. Zero means
	// DefaultFlushInterval.
	FlushInterval time.Duration
	// OnError is told of write errors. Nil means they are only returned by
	// Close (the first one).
	OnError func(error)
	// Sink, when set, is told of every profile written, at each flush
	// (see ValuesSink). Nil: the directory only.
	Sink ValuesSink
}

// ValueProfile is what a category's profile file holds: the most frequent
// failing values of the category, with counts.
type ValueProfile struct {
	Source   string `json:"source"`
	Category string `json:"category"`
	// Total is how many values were counted, tracked or not.
	Total uint64 `json:"total"`
	// Capacity is the number of distinct values tracked: counts are exact
	// (every Error zero) while fewer distinct values were seen.
	Capacity  int             `json:"capacity"`
	UpdatedAt time.Time       `json:"updated_at"`
	Values    []profile.Entry `json:"values"`
}

type valKey struct {
	source string
	reason mapper.Reason
	field  string
}

type valCat struct {
	source, category string
	sketch           *profile.Sketch
	dirty            bool
}

// Values keeps, per source and failure category, a bounded profile of the
// failing values (the JSON text at the failure's field), and writes each
// to its file beside the category's samples. Values at or under a source's
// redact paths are never read (mapper.ValueScanner asks the engine).
//
// It implements the worker's Observer interface: Observe is safe for
// concurrent use and does not allocate per record once a category exists.
// A background goroutine, owned by Values, writes; Close stops it and
// writes what changed.
type Values struct {
	cfg ValuesConfig

	// scanners parse payloads outside the lock, one per caller at a time;
	// a free list rather than a sync.Pool, which may drop what it holds.
	scanners chan *mapper.ValueScanner

	mu        sync.Mutex
	cats      map[valKey]*valCat
	perSource map[string]int
	closed    bool
	err       error

	stop chan struct{}
	done chan struct{}
}

// OpenValues opens the profiles of a samples directory (creating it if
// needed), takes up the profiles already there and starts the writer.
func OpenValues(cfg ValuesConfig) (*Values, error) {
	if cfg.Dir == "" {
		return nil, errors.New("samples: values need a directory")
	}
	if cfg.PerCategory <= 0 {
		cfg.PerCategory = DefaultValuesPerCategory
	}
	if cfg.PerRecord <= 0 {
		cfg.PerRecord = DefaultValuesPerRecord
	}
	if cfg.MaxCategories <= 0 {
		cfg.MaxCategories = DefaultMaxCategories
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("samples: create %s: %w", cfg.Dir, err)
	}
	v := &Values{cfg: cfg, cats: map[valKey]*valCat{}, perSource: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{}),
		scanners: make(chan *mapper.ValueScanner, 2*runtime.GOMAXPROCS(0))}
	// A profile file that cannot be read is reported and started afresh:
	// it must not keep the worker from starting.
	profiles, bad := readValuesTolerant(cfg.Dir)
	for _, err := range bad {
		if cfg.OnError != nil {
			cfg.OnError(err)
		}
	}
	for _, p := range profiles {
		r, f := SplitCategory(p.Category)
		c := v.category(valKey{p.Source, r, f})
		if c != nil {
			c.sketch.Merge(p.Values, p.Total)
		}
	}
	go v.writer()
	return v, nil
}

// profiled reports whether failures of reason have a value worth keeping.
func profiled(r mapper.Reason) bool {
	switch r {
	case mapper.ReasonTypeMismatch, mapper.ReasonInvalidFormat, mapper.ReasonUnknownEnum,
		mapper.ReasonOutOfRange, mapper.ReasonUnexpectedField:
		return true
	}
	return false
}

// category returns the profile of k, creating it unless the source is at
// its cap (then nil). Called with mu held or before the writer starts.
func (v *Values) category(k valKey) *valCat {
	if c := v.cats[k]; c != nil {
		return c
	}
	if v.perSource[k.source] >= v.cfg.MaxCategories {
		return nil
	}
	v.perSource[k.source]++
	c := &valCat{source: k.source, category: mapper.Category{Reason: k.reason, Field: k.field}.String(), sketch: profile.New(v.cfg.PerCategory)}
	v.cats[k] = c
	return c
}

// Observe profiles the failing values of one record. src nil (no source
// claimed the record) and records without failures are ignored. The
// payload is parsed once, outside the lock, and only when a failure has a
// value to profile.
func (v *Values) Observe(_ *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, _ time.Duration) {
	if src == nil || len(res.Failures) == 0 {
		return
	}
	first := -1
	for i := range res.Failures {
		if profiled(res.Failures[i].Reason) && res.Failures[i].Field != "" {
			first = i
			break
		}
	}
	if first < 0 {
		return
	}
	var vs *mapper.ValueScanner
	select {
	case vs = <-v.scanners:
	default:
		vs = new(mapper.ValueScanner)
	}
	defer func() {
		select {
		case v.scanners <- vs:
		default:
		}
	}()
	if !vs.Parse(src, payload) {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	for i := first; i < len(res.Failures); i++ {
		f := &res.Failures[i]
		if !profiled(f.Reason) || f.Field == "" {
			continue
		}
		c := v.category(valKey{src.Name(), f.Reason, f.Field})
		if c == nil {
			continue
		}
		if vs.Values(f.Field, v.cfg.PerRecord, c.sketch.Add) > 0 {
			c.dirty = true
		}
	}
}

// Close writes the changed profiles and stops the writer. It returns the
// first write error. Observe after Close does nothing.
func (v *Values) Close() error {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return v.err
	}
	v.closed = true
	v.mu.Unlock()
	close(v.stop)
	<-v.done
	v.flush()
	return v.err
}

func (v *Values) writer() {
	defer close(v.done)
	t := time.NewTicker(v.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			return
		case <-t.C:
			v.flush()
		}
	}
}

// flush writes every changed profile. Snapshots are taken under the lock,
// files written outside it.
func (v *Values) flush() {
	now := time.Now().UTC()
	v.mu.Lock()
	var todo []ValueProfile
	for _, c := range v.cats {
		if !c.dirty {
			continue
		}
		c.dirty = false
		todo = append(todo, c.profileAt(now))
	}
	v.mu.Unlock()
	for i := range todo {
		p := &todo[i]
		if v.cfg.Sink != nil {
			v.cfg.Sink.Profile(*p)
		}
		if err := WriteValues(v.cfg.Dir, *p); err != nil {
			v.mu.Lock()
			if v.err == nil {
				v.err = err
			}
			v.mu.Unlock()
			if v.cfg.OnError != nil {
				v.cfg.OnError(err)
			}
		}
	}
}

// ReadValues reads the value profile of one source and category; ok is
// false when there is none.
func ReadValues(dir, source, category string) (p ValueProfile, ok bool, err error) {
	return readValuesFile(filepath.Join(dir, ValuesPath(source, category)))
}

func readValuesFile(path string) (p ValueProfile, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("read values: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, false, fmt.Errorf("read values %s: %w", path, err)
	}
	return p, true, nil
}

// ReadAllValues reads every value profile of a samples directory, sorted by
// source, then by values counted (most first), then by category. A file
// that is not a profile is an error naming it.
func ReadAllValues(dir string) ([]ValueProfile, error) {
	out, bad := readValuesTolerant(dir)
	if len(bad) > 0 {
		return out, bad[0]
	}
	return out, nil
}

// readValuesTolerant reads every profile it can, and returns an error for
// each file it cannot.
func readValuesTolerant(dir string) ([]ValueProfile, []error) {
	var out []ValueProfile
	var bad []error
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), valuesSuffix) || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		vp, ok, err := readValuesFile(p)
		if err != nil {
			bad = append(bad, err)
			return nil
		}
		if ok {
			out = append(out, vp)
		}
		return nil
	})
	if err != nil {
		bad = append(bad, fmt.Errorf("read values %s: %w", dir, err))
	}
	SortValueProfiles(out)
	return out, bad
}

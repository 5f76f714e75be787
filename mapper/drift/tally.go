package drift

import (
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/profile"
)

// Bounds of what a Tally holds between Flushes; past one, Observe flushes
// before it takes the next record.
const (
	// maxTallyValues caps the enum values a Tally holds.
	maxTallyValues = 1024
)

// Tally is one goroutine's part of an Observer, for a caller that observes
// records in batches (the worker's mapping goroutines). Between Flushes it
// keeps the records and the drift they show to itself, with no lock and no
// clock read per record: counts per kind, path and type seen, and the new
// enum values in the order they came. Flush adds them to the source's
// report under its lock, reading the clock once: an entry's first and
// last seen are the times of the Flushes that added to it, not of its
// records. The report after a Flush is the one Observer.Observe gives for
// the Tally's records observed one by one at that Flush, bounds included
// (Config.MaxPaths, Config.MaxValues, the values taken from a record).
//
// The drift and the records a Tally holds show in the reports once it
// flushes: call Flush once per batch. Observe flushes first when the
// records come from another source or under new rules (a reload), and
// when the Tally holds more than its bounds (1024 fields, 1024 enum
// values). Observe after the Observer's Close does nothing; a Flush then
// adds what the Tally holds to the reports in memory (Report, Reports),
// not to the files, which Close wrote. Its methods are called by one
// goroutine at a time (the worker hands a Tally from goroutine to
// goroutine with its mapping scratch).
type Tally struct {
	o   *Observer
	src *mapper.Source
	sd  *sourceDrift
	n   uint64 // records of sd not added yet

	// fields holds what the input schema of src says at each field a
	// drifting failure named (at most maxFieldCache, then Observe
	// flushes and forgets them), and which of its entries are pending.
	fields map[string]*tallyField
	// pending is the drift not added yet, in the order first met; values
	// the enum values, their text one after another in text.
	pending []pendingDrift
	values  []pendingValue
	text    []byte
	cur     int32             // the pending entry addValue adds to
	add     func(text []byte) // t.addValue, made once
	merged  []*entry          // Flush's entry of each pending one
	sc      mapper.ValueScanner
}

// tallyField is what a Tally knows of a field under the rules it observes.
type tallyField struct {
	info mapper.InputField
	// values: an unknown_enum failure here is a new enum value whose
	// values are read (an enum there, the field not redacted).
	values bool
	// pending is, per kind (index in kinds), 1 + the index of the field's
	// entry in Tally.pending, or 0 when none since the last Flush.
	pending [len(kinds)]int32
}

// pendingDrift is one entry's drift since the last Flush.
type pendingDrift struct {
	kind  int // index in kinds
	path  string
	field *tallyField
	count uint64
	types [len(jsonTypes)]uint64 // new_type only
}

// pendingValue is one enum value of pending[entry], its text ending at
// end in Tally.text (and starting where the previous one ends).
type pendingValue struct {
	entry int32
	end   int32
}

// NewTally returns a Tally of o.
func (o *Observer) NewTally() *Tally {
	t := &Tally{o: o, fields: map[string]*tallyField{}}
	t.add = t.addValue
	return t
}

// Observe is the Observer's Observe, the record and its drift added to the
// report at Flush. It does not allocate once the source's fields are
// known. The payload is parsed again only when a failure is an
// unknown_enum at a field where the input schema has an enum and that the
// source does not redact, once for all such failures of the record.
func (t *Tally) Observe(_ *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, _ time.Duration) {
	if src == nil || t.o.closed.Load() {
		return
	}
	if src != t.src {
		t.Flush()
		clear(t.fields)
		t.src, t.sd = src, t.o.source(src.Name())
	}
	if len(t.fields) >= maxFieldCache || len(t.values) >= maxTallyValues {
		t.Flush()
		if len(t.fields) >= maxFieldCache {
			clear(t.fields)
		}
	}
	t.n++
	values := false
	fs := res.Failures
	for i := range fs {
		f := &fs[i]
		if d, _ := driftReason(f.Reason); !d || f.Field == "" {
			continue
		}
		tf := t.field(f.Field)
		k, typ, ok := classify(f, tf.info)
		if !ok {
			continue
		}
		p := t.pendingAt(tf, k, f.Field)
		p.count++
		switch k {
		case kindNewType:
			p.types[typ]++
		case kindNewEnumValue:
			values = values || tf.values
		}
	}
	if !values || !t.sc.Parse(src, payload) {
		return
	}
	for i := range fs {
		f := &fs[i]
		if f.Reason != mapper.ReasonUnknownEnum || f.Field == "" {
			continue
		}
		if tf := t.fields[f.Field]; tf != nil && tf.values {
			t.cur = tf.pending[kindNewEnumValue] - 1
			t.sc.Values(f.Field, valuesPerRecord, t.add)
		}
	}
}

// field is what the input schema of t.src says at field, kept.
func (t *Tally) field(field string) *tallyField {
	if tf := t.fields[field]; tf != nil {
		return tf
	}
	info := t.src.InputField(field)
	tf := &tallyField{info: info, values: info.Enum && !t.src.IsRedacted(field)}
	t.fields[field] = tf
	return tf
}

// pendingAt returns the pending drift of kind k at tf (field path),
// adding it.
func (t *Tally) pendingAt(tf *tallyField, k int, path string) *pendingDrift {
	if i := tf.pending[k]; i > 0 {
		return &t.pending[i-1]
	}
	t.pending = append(t.pending, pendingDrift{kind: k, path: path, field: tf})
	tf.pending[k] = int32(len(t.pending))
	return &t.pending[len(t.pending)-1]
}

// addValue keeps one enum value of pending[t.cur]. A value is kept to one
// byte past profile.MaxValueBytes: the sketch cuts it there and marks it
// cut all the same.
func (t *Tally) addValue(text []byte) {
	if len(text) > profile.MaxValueBytes+1 {
		text = text[:profile.MaxValueBytes+1]
	}
	t.text = append(t.text, text...)
	t.values = append(t.values, pendingValue{entry: t.cur, end: int32(len(t.text))})
}

// Flush adds the records and the drift observed since the last Flush to
// the source's report: under its lock once, with one clock read when
// there is drift.
func (t *Tally) Flush() {
	sd := t.sd
	if sd == nil || t.n == 0 {
		return
	}
	if len(t.pending) == 0 && sd.current.Load() == t.src {
		sd.records.Add(t.n)
		t.n = 0
		return
	}
	var now time.Time
	if len(t.pending) > 0 {
		now = t.o.cfg.Now()
	}
	sd.mu.Lock()
	sd.use(t.src)
	t.merge(sd, now)
	sd.records.Add(t.n)
	sd.mu.Unlock()
	t.n = 0
}

// merge adds the pending drift to sd, as sourceDrift.observe adds a
// record's, and empties it. Called with sd.mu held.
func (t *Tally) merge(sd *sourceDrift, now time.Time) {
	cfg := &t.o.cfg
	t.merged = t.merged[:0]
	for i := range t.pending {
		p := &t.pending[i]
		p.field.pending[p.kind] = 0
		sd.dirty = true
		e := sd.entry(kinds[p.kind], p.path, now, cfg)
		t.merged = append(t.merged, e)
		if e == nil {
			sd.untracked += p.count
			continue
		}
		e.count += p.count
		e.last = now
		if p.kind == kindNewType {
			for j, n := range p.types {
				e.types[j] += n
			}
			e.expected = p.field.info.Types
		}
	}
	start := 0
	for _, v := range t.values {
		if e := t.merged[v.entry]; e != nil && e.values != nil {
			e.values.Add(t.text[start:v.end])
		}
		start = int(v.end)
	}
	clear(t.merged)
	t.pending, t.values, t.text = t.pending[:0], t.values[:0], t.text[:0]
}

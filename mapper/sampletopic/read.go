package sampletopic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/mapperhq/mapper/mapper/samples"
)

// Defaults of ReadOptions.
const (
	DefaultMaxKeys  = 1 << 20
	DefaultMaxBytes = 1 << 30
	// maxSkipped is how many skipped records a Snapshot describes.
	maxSkipped = 20
)

// ReadOptions bound what Read keeps. The zero value means the defaults.
type ReadOptions struct {
	// MaxKeys is the most distinct keys read. Zero means DefaultMaxKeys.
	MaxKeys int
	// MaxBytes is the most bytes of values kept. Zero means DefaultMaxBytes.
	MaxBytes int64
}

// ErrTooLarge is wrapped by Read's error when the topic holds more than
// ReadOptions allow.
var ErrTooLarge = errors.New("samples topic holds more than the read allows")

// seenValue is the value of a seen key.
type seenValue struct {
	Seen      uint64    `json:"seen"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// recordsValue is the value of a records key.
type recordsValue struct {
	RulesVersion int    `json:"rules_version"`
	Records      uint64 `json:"records"`
	Delivered    uint64 `json:"delivered"`
}

// announcedValue is the value of an announced key.
type announcedValue struct {
	Worker string    `json:"worker"`
	At     time.Time `json:"at"`
}

type slotKey struct {
	source, category string
	slot             int
}

type seenKey struct{ source, category, worker string }

type recordsKey struct{ source, worker string }

type announcedKey struct {
	source   string
	version  int
	category string
}

// Snapshot is the topic folded into one view: the last value of every
// sample, seen and records key, and the first claim of every announced
// key. It is read-only once Read returns.
type Snapshot struct {
	// Topic is the topic read.
	Topic string
	// Records is how many records were read.
	Records int
	// Skipped is how many records were not understood (not our key, or a
	// value that does not fit its key); SkippedWhy describes the first few.
	Skipped    int
	SkippedWhy []string
	// End is each partition's end offset when the read started: every
	// record before it is in the snapshot.
	End map[int]int64

	slots     map[slotKey][]byte
	seen      map[seenKey]seenValue
	records   map[recordsKey]recordsValue
	announced map[announcedKey]announcedValue
	values    map[seenKey]profileRecord
	drift     map[recordsKey]driftRecord
	shapes    map[string]shapesRecord // by worker
	bytes     int64
}

func newSnapshot(topic string) *Snapshot {
	return &Snapshot{
		Topic: topic, End: map[int]int64{},
		slots: map[slotKey][]byte{}, seen: map[seenKey]seenValue{},
		records: map[recordsKey]recordsValue{}, announced: map[announcedKey]announcedValue{},
		values: map[seenKey]profileRecord{}, drift: map[recordsKey]driftRecord{},
		shapes: map[string]shapesRecord{},
	}
}

// Read reads every partition of the topic up to its end offset when the
// read starts, and folds it into a Snapshot. Records it does not
// understand are skipped and counted, never fatal; a topic past opts'
// bounds is an error wrapping ErrTooLarge.
func Read(ctx context.Context, cfg Config, opts ReadOptions) (*Snapshot, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	cl := cfg.client()
	first, end, err := offsets(ctx, cl, cfg.Topic)
	if err != nil {
		return nil, fmt.Errorf("read samples topic: %w", err)
	}
	s := newSnapshot(cfg.Topic)
	parts := make([]int, 0, len(end))
	for p := range end {
		parts = append(parts, p)
		s.End[p] = end[p]
	}
	sort.Ints(parts)
	for _, p := range parts {
		err := readRange(ctx, cl, cfg.Topic, p, first[p], end[p], func(off int64, key, value []byte) error {
			s.Records++
			if why := s.apply(key, value, off); why != "" {
				s.skip(fmt.Sprintf("%s/%d@%d: %s", cfg.Topic, p, off, why))
			}
			if n := s.keys(); n > opts.MaxKeys {
				return fmt.Errorf("%w: more than %d keys", ErrTooLarge, opts.MaxKeys)
			}
			if s.bytes > opts.MaxBytes {
				return fmt.Errorf("%w: more than %d bytes of values", ErrTooLarge, opts.MaxBytes)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read samples topic: %w", err)
		}
	}
	return s, nil
}

func (s *Snapshot) keys() int {
	return len(s.slots) + len(s.seen) + len(s.records) + len(s.announced) + len(s.values) + len(s.drift) + len(s.shapes)
}

func (s *Snapshot) skip(why string) {
	s.Skipped++
	if len(s.SkippedWhy) < maxSkipped {
		s.SkippedWhy = append(s.SkippedWhy, why)
	}
}

// apply folds one record in; it returns why the record was skipped, or "".
// A record with no value (a tombstone) deletes its key.
func (s *Snapshot) apply(key, value []byte, offset int64) string {
	k, err := ParseKey(key)
	if err != nil {
		return err.Error()
	}
	switch k.Kind {
	case KindSample:
		sk := slotKey{k.Source, k.Category, k.Slot}
		if old, ok := s.slots[sk]; ok {
			s.bytes -= int64(len(old))
			delete(s.slots, sk)
		}
		if value == nil {
			return ""
		}
		var smp struct{ Source, Category string } // the rest is checked when it is read
		if err := json.Unmarshal(value, &smp); err != nil {
			return fmt.Sprintf("%s: value is not a sample: %v", k, err)
		}
		if smp.Source != k.Source || smp.Category != k.Category {
			return fmt.Sprintf("%s: value is a sample of %q %q", k, smp.Source, smp.Category)
		}
		s.slots[sk] = value
		s.bytes += int64(len(value))
	case KindSeen:
		sk := seenKey{k.Source, k.Category, k.Worker}
		if value == nil {
			delete(s.seen, sk)
			return ""
		}
		var v seenValue
		if err := json.Unmarshal(value, &v); err != nil {
			return fmt.Sprintf("%s: value is not a count: %v", k, err)
		}
		s.seen[sk] = v
	case KindRecords:
		rk := recordsKey{k.Source, k.Worker}
		if value == nil {
			delete(s.records, rk)
			return ""
		}
		var v recordsValue
		if err := json.Unmarshal(value, &v); err != nil {
			return fmt.Sprintf("%s: value is not a count: %v", k, err)
		}
		s.records[rk] = v
	case KindValues:
		return s.applyValues(k, value)
	case KindDrift:
		return s.applyDrift(k, value)
	case KindShapes:
		return s.applyShapes(k, value)
	case KindAnnounced:
		ak := announcedKey{k.Source, k.RulesVersion, k.Category}
		if value == nil {
			delete(s.announced, ak)
			return ""
		}
		var v announcedValue
		if err := json.Unmarshal(value, &v); err != nil {
			return fmt.Sprintf("%s: value is not an announcement: %v", k, err)
		}
		if _, ok := s.announced[ak]; !ok { // the first claim wins
			s.announced[ak] = v
		}
	}
	return ""
}

// Index sums the workers' counts into a samples directory's index.
func (s *Snapshot) Index() samples.Index {
	bySource := map[string]*samples.IndexSource{}
	src := func(name string) *samples.IndexSource {
		is := bySource[name]
		if is == nil {
			is = &samples.IndexSource{Source: name}
			bySource[name] = is
		}
		return is
	}
	for k, v := range s.records {
		is := src(k.source)
		is.Records += v.Records
		is.Delivered += v.Delivered
		is.RulesVersion = max(is.RulesVersion, v.RulesVersion)
	}
	cats := map[[2]string]*samples.IndexCategory{}
	for k, v := range s.seen {
		c := cats[[2]string{k.source, k.category}]
		if c == nil {
			c = &samples.IndexCategory{Category: k.category}
			cats[[2]string{k.source, k.category}] = c
		}
		c.Seen += v.Seen
		if !v.FirstSeen.IsZero() && (c.FirstSeen.IsZero() || v.FirstSeen.Before(c.FirstSeen)) {
			c.FirstSeen = v.FirstSeen
		}
		if v.LastSeen.After(c.LastSeen) {
			c.LastSeen = v.LastSeen
		}
	}
	for k, c := range cats {
		is := src(k[0])
		is.Categories = append(is.Categories, *c)
	}
	idx := samples.Index{}
	for _, is := range bySource {
		sort.Slice(is.Categories, func(i, j int) bool { return is.Categories[i].Category < is.Categories[j].Category })
		idx.Sources = append(idx.Sources, *is)
		for _, c := range is.Categories {
			if c.LastSeen.After(idx.UpdatedAt) {
				idx.UpdatedAt = c.LastSeen
			}
		}
	}
	sort.Slice(idx.Sources, func(i, j int) bool { return idx.Sources[i].Source < idx.Sources[j].Source })
	return idx
}

// Counts sums the workers' counts per source, as samples.Counts reads them
// from a directory (for replay's weights).
func (s *Snapshot) Counts() map[string]samples.SourceCounts {
	out := map[string]samples.SourceCounts{}
	for _, is := range s.Index().Sources {
		sc := samples.SourceCounts{Source: is.Source, RulesVersion: is.RulesVersion, Records: is.Records, Delivered: is.Delivered, Seen: map[string]uint64{}}
		for _, c := range is.Categories {
			sc.Seen[c.Category] = c.Seen
		}
		out[is.Source] = sc
	}
	return out
}

// categories returns the sample lines per source and category, each in
// slot order.
func (s *Snapshot) categories() map[[2]string][][]byte {
	keys := make([]slotKey, 0, len(s.slots))
	for k := range s.slots {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].slot < keys[j].slot })
	out := map[[2]string][][]byte{}
	for _, k := range keys {
		c := [2]string{k.source, k.category}
		out[c] = append(out[c], s.slots[k])
	}
	return out
}

// Samples returns every sample, by source and category (as the files of a
// samples directory are read: samples.ReadDir), each category in slot
// order, so the category's first record first.
func (s *Snapshot) Samples() ([]samples.Sample, error) {
	cats := s.categories()
	names := make([][2]string, 0, len(cats))
	for c := range cats {
		names = append(names, c)
	}
	sort.Slice(names, func(i, j int) bool {
		return samples.CategoryPath(names[i][0], names[i][1]) < samples.CategoryPath(names[j][0], names[j][1])
	})
	var out []samples.Sample
	for _, c := range names {
		for _, l := range cats[c] {
			var smp samples.Sample
			if err := json.Unmarshal(l, &smp); err != nil {
				return nil, fmt.Errorf("samples topic %s: sample of %s %s: %w", s.Topic, c[0], c[1], err)
			}
			out = append(out, smp)
		}
	}
	return out, nil
}

// Announced reports whether the category was announced for the source's
// rules version.
func (s *Snapshot) Announced(source string, rulesVersion int, category string) bool {
	_, ok := s.announced[announcedKey{source, rulesVersion, category}]
	return ok
}

// hasSlot reports whether the topic holds a sample in the slot.
func (s *Snapshot) hasSlot(source, category string, slot int) bool {
	_, ok := s.slots[slotKey{source, category, slot}]
	return ok
}

// Kept returns how many samples the topic holds.
func (s *Snapshot) Kept() int { return len(s.slots) }

// Workers returns how many distinct workers have counts in the topic.
func (s *Snapshot) Workers() int {
	w := map[string]bool{}
	for k := range s.records {
		w[k.worker] = true
	}
	for k := range s.seen {
		w[k.worker] = true
	}
	for k := range s.values {
		w[k.worker] = true
	}
	for k := range s.drift {
		w[k.worker] = true
	}
	for k := range s.shapes {
		w[k] = true
	}
	return len(w)
}

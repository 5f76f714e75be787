package sampletopic

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/mapperhq/mapper/mapper/profile"
	"github.com/mapperhq/mapper/mapper/samples"
)

// maxProfileValues bounds the values of one profile record read from the
// topic (a worker writes its sketch's capacity, 32 by default); a record
// with more is not ours.
const maxProfileValues = 1024

// valuesValue is the value of a values key: one worker's failing-value
// profile of a category (samples.ValueProfile less the names the key
// holds).
type valuesValue struct {
	Total     uint64          `json:"total"`
	Capacity  int             `json:"capacity"`
	UpdatedAt time.Time       `json:"updated_at"`
	Values    []profile.Entry `json:"values"`
}

// Profile implements samples.ValuesSink: this worker's profile of a
// category becomes the value of its values key, written at the next flush
// (the profiler calls Profile only for profiles that changed, on its own
// flush cadence). The profile holds no value at a redacted path: the
// profiler never reads one.
func (w *Writer) Profile(p samples.ValueProfile) {
	w.putJSON(Key{Kind: KindValues, Source: p.Source, Category: p.Category, Worker: w.cfg.Worker},
		valuesValue{Total: p.Total, Capacity: p.Capacity, UpdatedAt: p.UpdatedAt, Values: p.Values})
}

// applyValues folds one values record in; it returns why the record was
// skipped, or "".
func (s *Snapshot) applyValues(k Key, value []byte) string {
	vk := seenKey{k.Source, k.Category, k.Worker}
	if old, ok := s.values[vk]; ok {
		s.bytes -= old.size
		delete(s.values, vk)
	}
	if value == nil {
		return ""
	}
	var v valuesValue
	if err := json.Unmarshal(value, &v); err != nil {
		return fmt.Sprintf("%s: value is not a value profile: %v", k, err)
	}
	if len(v.Values) > maxProfileValues || v.Capacity < 0 || v.Capacity > maxProfileValues {
		return fmt.Sprintf("%s: a value profile of %d values (capacity %d), more than %d", k, len(v.Values), v.Capacity, maxProfileValues)
	}
	for _, e := range v.Values {
		if len(e.Value) > profile.MaxValueBytes {
			return fmt.Sprintf("%s: a profiled value of %d bytes, more than %d", k, len(e.Value), profile.MaxValueBytes)
		}
	}
	s.values[vk] = profileRecord{valuesValue: v, size: int64(len(value))}
	s.bytes += int64(len(value))
	return ""
}

type profileRecord struct {
	valuesValue
	size int64
}

// Profiles returns the group's value profile of every category: the
// workers' profiles merged (samples.MergeProfiles: counts add up, each
// value's true count in [Count-Error, Count], Error at most
// Total/Capacity), sorted as samples.ReadAllValues sorts a directory's.
func (s *Snapshot) Profiles() []samples.ValueProfile {
	byCat := map[[2]string][]samples.ValueProfile{}
	for k, v := range s.values { // Combine does not depend on the order
		c := [2]string{k.source, k.category}
		byCat[c] = append(byCat[c], samples.ValueProfile{Source: k.source, Category: k.category,
			Total: v.Total, Capacity: v.Capacity, UpdatedAt: v.UpdatedAt, Values: v.Values})
	}
	out := make([]samples.ValueProfile, 0, len(byCat))
	for _, ps := range byCat {
		out = append(out, samples.MergeProfiles(ps))
	}
	samples.SortValueProfiles(out)
	return out
}

// Profile returns the group's value profile of one source and category
// (see Profiles); ok is false when no worker wrote one. Its signature is
// replay.Options.Profiles'.
func (s *Snapshot) Profile(source, category string) (samples.ValueProfile, bool) {
	var ps []samples.ValueProfile
	for k, v := range s.values {
		if k.source == source && k.category == category {
			ps = append(ps, samples.ValueProfile{Source: source, Category: category,
				Total: v.Total, Capacity: v.Capacity, UpdatedAt: v.UpdatedAt, Values: v.Values})
		}
	}
	if len(ps) == 0 {
		return samples.ValueProfile{}, false
	}
	return samples.MergeProfiles(ps), true
}

package profile

import "sort"

// Summary is a sketch as it is kept outside the process (a profile file,
// a record of the samples topic): its tracked values, the total counted
// and its capacity.
type Summary struct {
	Entries  []Entry
	Total    uint64
	Capacity int
}

// full reports whether the summary's sketch had to evict: a value it does
// not list may then have been counted up to its smallest count.
func (s Summary) full() bool { return s.Capacity > 0 && len(s.Entries) >= s.Capacity }

// minCount is the most a value the summary does not list may have been
// counted in its stream: its smallest count when full, else 0.
func (s Summary) minCount() uint64 {
	if !s.full() {
		return 0
	}
	m := s.Entries[0].Count
	for _, e := range s.Entries[1:] {
		m = min(m, e.Count)
	}
	return m
}

type entryKey struct {
	value     string
	truncated bool
}

// Combine merges Space-Saving summaries of disjoint streams (one per
// worker, say) into one summary of the given capacity (zero or less: the
// largest of the parts'), as a sketch over the concatenated streams would
// answer. Each value listed by any part gets, from every part, the count
// that part lists for it, or that part's smallest count when the part is
// full and does not list it (the most it can have counted there: 0 when the
// part is not full); its Error adds the parts' errors the same way. The
// capacity largest counts are kept (ties by value) and Total is the sum of
// the parts' totals.
//
// Error bound kept: every value kept has its true count in
// [Count-Error, Count], and Error is at most the sum of the full parts'
// smallest counts, each at most that part's Total/Capacity; so for parts
// of capacity k, Error <= Total/k, the bound of one sketch of capacity k
// over all the streams. A value Combine drops had a true count no greater
// than the smallest count kept, so the result is itself a summary that can
// be combined again (its bound then adds up the same way). Parts that were
// never full combine exactly. Combine allocates (a map over the parts'
// values): call it to report, not per record. The parts are not changed.
func Combine(capacity int, parts ...Summary) Summary {
	if capacity <= 0 {
		for _, p := range parts {
			capacity = max(capacity, p.Capacity)
		}
	}
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	type acc struct{ count, err uint64 }
	merged := map[entryKey]*acc{}
	var total uint64
	for _, p := range parts {
		total += p.Total
		for _, e := range p.Entries {
			if merged[entryKey{e.Value, e.Truncated}] == nil {
				merged[entryKey{e.Value, e.Truncated}] = &acc{}
			}
		}
	}
	for _, p := range parts {
		m := p.minCount()
		listed := make(map[entryKey]bool, len(p.Entries))
		for _, e := range p.Entries {
			k := entryKey{e.Value, e.Truncated}
			listed[k] = true
			merged[k].count += e.Count
			merged[k].err += e.Error
		}
		if m == 0 {
			continue
		}
		for k, a := range merged {
			if !listed[k] {
				a.count += m
				a.err += m
			}
		}
	}
	out := make([]Entry, 0, len(merged))
	for k, a := range merged {
		out = append(out, Entry{Value: k.value, Truncated: k.truncated, Count: a.count, Error: a.err})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Value != out[j].Value {
			return out[i].Value < out[j].Value
		}
		return !out[i].Truncated && out[j].Truncated
	})
	if len(out) > capacity {
		out = out[:capacity]
	}
	return Summary{Entries: out, Total: total, Capacity: capacity}
}

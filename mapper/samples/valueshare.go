package samples

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/mapperhq/mapper/mapper/profile"
)

// ValuesSink is told of the value profiles a Values profiler writes, so
// that they can be shared beyond the samples directory (package
// sampletopic writes them to a compacted Kafka topic). ValuesConfig.Sink,
// when set, receives them.
//
// Profile is called from the profiler's writer goroutine (and from Close),
// one call at a time, at each flush for each profile that changed since
// the last: it may take a lock but must not wait on the network (queue the
// work and return). p is the profile's whole content, cumulative since the
// directory was first used; the sink may keep it but must not change it.
type ValuesSink interface {
	Profile(p ValueProfile)
}

// MergeProfiles merges profiles of one source and category kept by
// different workers (each over its own records) into one, with
// profile.Combine: counts add up, and each kept value's true count lies in
// [Count-Error, Count] with Error at most Total/Capacity (see Combine).
// Capacity is the largest of the profiles'; UpdatedAt the latest. The
// source and category are the first profile's; ps must not be empty.
func MergeProfiles(ps []ValueProfile) ValueProfile {
	parts := make([]profile.Summary, len(ps))
	out := ValueProfile{Source: ps[0].Source, Category: ps[0].Category}
	for i, p := range ps {
		parts[i] = profile.Summary{Entries: p.Values, Total: p.Total, Capacity: p.Capacity}
		if p.UpdatedAt.After(out.UpdatedAt) {
			out.UpdatedAt = p.UpdatedAt
		}
	}
	m := profile.Combine(0, parts...)
	out.Total, out.Capacity, out.Values = m.Total, m.Capacity, m.Entries
	return out
}

// WriteValues replaces the value profile file of p's source and category
// in dir with p, atomically. It is how a directory is materialised from
// profiles kept elsewhere; a Values profiler writes its own.
func WriteValues(dir string, p ValueProfile) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err == nil {
		err = writeAtomic(filepath.Join(dir, ValuesPath(p.Source, p.Category)), append(b, '\n'))
	}
	if err != nil {
		return fmt.Errorf("samples: write values of %s %s in %s: %w", p.Source, p.Category, dir, err)
	}
	return nil
}

// profileAt is the profile of c as it stands, stamped now.
func (c *valCat) profileAt(now time.Time) ValueProfile {
	return ValueProfile{Source: c.source, Category: c.category, Total: c.sketch.Total(),
		Capacity: c.sketch.Capacity(), UpdatedAt: now, Values: c.sketch.Top()}
}

// SortValueProfiles sorts profiles as ReadAllValues returns them: by
// source, then by values counted (most first), then by category.
func SortValueProfiles(ps []ValueProfile) {
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		return a.Category < b.Category
	})
}

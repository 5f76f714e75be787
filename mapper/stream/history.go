package stream

import (
	"cmp"
	"slices"
	"time"
)

// HistoryMinutes is how many minutes of per-minute counts the worker keeps
// for its status page.
const HistoryMinutes = 30

// MinuteCounts are the records mapped in one minute, per source and rules
// version, by outcome.
type MinuteCounts struct {
	// Start is the minute's first instant, UTC.
	Start   time.Time      `json:"start"`
	Sources []SourceCounts `json:"sources"`
}

// history is a ring of per-minute outcome counts: HistoryMinutes buckets,
// each holding one minute (a bucket is reused when its minute comes round
// again). Its memory is bounded by the minutes kept times the sources and
// rules versions seen. Not safe for concurrent use: stats guards it.
type history struct {
	buckets [HistoryMinutes]minuteBucket
}

type minuteBucket struct {
	minute int64 // Unix time / 60; 0 for a bucket never used
	counts map[sourceKey]*[3]int64
}

// add adds one tally's outcomes to the minute of now.
func (h *history) add(now time.Time, outcomes map[sourceKey]*[3]int64) {
	m := now.Unix() / 60
	b := &h.buckets[m%HistoryMinutes]
	if b.minute != m {
		b.minute = m
		if b.counts == nil {
			b.counts = map[sourceKey]*[3]int64{}
		}
		clear(b.counts)
	}
	addOutcomes(b.counts, outcomes)
}

// snapshot returns the last n minutes up to now's, oldest first, with a
// zero entry for a minute without records (n is capped at HistoryMinutes).
func (h *history) snapshot(now time.Time, n int) []MinuteCounts {
	n = min(max(n, 0), HistoryMinutes)
	cur := now.Unix() / 60
	out := make([]MinuteCounts, 0, n)
	for m := cur - int64(n) + 1; m <= cur; m++ {
		mc := MinuteCounts{Start: time.Unix(m*60, 0).UTC(), Sources: []SourceCounts{}}
		if b := &h.buckets[m%HistoryMinutes]; b.minute == m {
			for k, c := range b.counts {
				mc.Sources = append(mc.Sources, SourceCounts{Source: k.name, RulesVersion: k.version, Mapped: c[0], Degraded: c[1], Rejected: c[2]})
			}
			slices.SortFunc(mc.Sources, func(a, b SourceCounts) int {
				return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.RulesVersion, b.RulesVersion))
			})
		}
		out = append(out, mc)
	}
	return out
}

package stream

import (
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

// BenchmarkMerge is one mapping goroutine handing its batch's counts to
// the totals and the per-minute history: once per batch, not per record.
func BenchmarkMerge(b *testing.B) {
	s := newStats()
	t := newTally()
	b.ReportAllocs()
	for b.Loop() {
		for i, name := range []string{"orders", "github-work-items", ""} {
			c := t.outcomes[sourceKey{name, 1}]
			if c == nil {
				c = new([3]int64)
				t.outcomes[sourceKey{name, 1}] = c
			}
			c[i%3] += 100
			t.categories[tallyCategory{name, mapper.Category{Reason: mapper.ReasonMissingField, Field: "x"}}] += 7
		}
		s.merge(t)
	}
}

package stream

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

// TestTallyCountsEveryCategory counts failures of up to 20 categories in
// many orders, with merges between: the totals are those of counting each
// failure in a map, whether a category is among the first ones a tally
// meets (counted in front of its map) or not.
func TestTallyCountsEveryCategory(t *testing.T) {
	var cats []tallyCategory
	for i := range 20 {
		cats = append(cats, tallyCategory{fmt.Sprintf("src%d", i%3), mapper.Category{Reason: mapper.ReasonMissingField, Field: fmt.Sprintf("f%d", i)}})
	}
	for _, tc := range []struct {
		name  string
		kinds int // distinct categories drawn from
		merge int // failures between merges
	}{
		{"fewer categories than counted in front", 3, 100},
		{"as many as counted in front", recentCategories, 50},
		{"more than counted in front", 20, 64},
		{"a merge after every failure", 20, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tc.kinds)))
			s, tl := newStats(), newTally()
			want := map[categoryKey]int64{}
			for i := range 2000 {
				c := cats[r.IntN(tc.kinds)]
				tl.count(c)
				want[categoryKey{c.source, c.cat.String()}]++
				if (i+1)%tc.merge == 0 {
					s.merge(tl)
				}
			}
			s.merge(tl)
			if len(s.categories) != len(want) {
				t.Fatalf("%d categories, want %d", len(s.categories), len(want))
			}
			for k, n := range want {
				if s.categories[k] != n {
					t.Errorf("%v: %d, want %d", k, s.categories[k], n)
				}
			}
			if tl.nrecent != 0 || len(tl.categories) != 0 {
				t.Errorf("a merged tally still holds %d + %d categories", tl.nrecent, len(tl.categories))
			}
		})
	}
}

// BenchmarkTallyCount counts the failures of a batch of 500 records, 30%
// of them failing in one of four categories, and merges once.
func BenchmarkTallyCount(b *testing.B) {
	s, tl := newStats(), newTally()
	var cats []tallyCategory
	for i := range 4 {
		cats = append(cats, tallyCategory{"orders", mapper.Category{Reason: mapper.ReasonInvalidFormat, Field: fmt.Sprintf("customer.field%d", i)}})
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range 150 {
			tl.count(cats[i%len(cats)])
		}
		s.merge(tl)
	}
}

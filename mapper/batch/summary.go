package batch

import (
	"fmt"
	"io"
	"sort"

	"github.com/mapperhq/mapper/mapper"
)

// DefaultMaxCategories is a Summary's cap on distinct failure categories
// when MaxCategories is zero.
const DefaultMaxCategories = 1000

// OtherCategory counts the failures of categories past the cap.
var OtherCategory = mapper.Category{Reason: "other"}

// Summary counts results per outcome and per failure category. The zero
// value is empty and ready; it is not safe for concurrent use.
type Summary struct {
	// Total counts the records the source accepted; Unrouted those it did
	// not (unknown_source), which are outside its outcomes, categories and
	// objective.
	Total      int
	Unrouted   int
	Outcomes   map[mapper.Outcome]int
	Categories map[mapper.Category]int
	// MaxCategories caps the distinct categories counted (input-driven:
	// fields come from the payloads); failures of further categories are
	// counted under OtherCategory. Zero means DefaultMaxCategories.
	MaxCategories int
}

// count adds n to category c, or to OtherCategory past the cap.
func (s *Summary) count(c mapper.Category, n int) {
	if _, ok := s.Categories[c]; !ok && c != OtherCategory {
		max := s.MaxCategories
		if max <= 0 {
			max = DefaultMaxCategories
		}
		kept := len(s.Categories)
		if _, ok := s.Categories[OtherCategory]; ok {
			kept--
		}
		if kept >= max {
			c = OtherCategory
		}
	}
	s.Categories[c] += n
}

// Add counts one result.
func (s *Summary) Add(r *mapper.Result) {
	if s.Outcomes == nil {
		s.Outcomes = map[mapper.Outcome]int{}
		s.Categories = map[mapper.Category]int{}
	}
	if len(r.Failures) == 1 && r.Failures[0].Reason == mapper.ReasonUnknownSource {
		s.Unrouted++
		return
	}
	s.Total++
	s.Outcomes[r.Outcome]++
	for i := range r.Failures {
		s.count(r.Failures[i].Category(), 1)
	}
}

// Merge adds o's counts to s.
func (s *Summary) Merge(o *Summary) {
	s.Unrouted += o.Unrouted
	if o.Total == 0 {
		return
	}
	if s.Outcomes == nil {
		s.Outcomes = map[mapper.Outcome]int{}
		s.Categories = map[mapper.Category]int{}
	}
	s.Total += o.Total
	for k, v := range o.Outcomes {
		s.Outcomes[k] += v
	}
	for k, v := range o.Categories {
		s.count(k, v)
	}
}

// Reset empties s, keeping its maps.
func (s *Summary) Reset() {
	s.Total, s.Unrouted = 0, 0
	clear(s.Outcomes)
	clear(s.Categories)
}

// MappedRatio is the share of the accepted records delivered (mapped or
// degraded): the objective's measure.
func (s *Summary) MappedRatio() float64 {
	if s.Total == 0 {
		return 0
	}
	return float64(s.Outcomes[mapper.OutcomeMapped]+s.Outcomes[mapper.OutcomeDegraded]) / float64(s.Total)
}

// CategoryCount is one line of the category table.
type CategoryCount struct {
	Category mapper.Category
	Count    int
}

// TopCategories returns the categories by count, most first, ties by name.
func (s *Summary) TopCategories() []CategoryCount {
	out := make([]CategoryCount, 0, len(s.Categories))
	for c, n := range s.Categories {
		out = append(out, CategoryCount{c, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Category.String() < out[j].Category.String()
	})
	return out
}

// Write prints the summary as a table.
func (s *Summary) Write(w io.Writer, src *mapper.Source) {
	fmt.Fprintf(w, "source %s (rules version %d): %d records\n", src.Name(), src.Version(), s.Total+s.Unrouted)
	for _, o := range mapper.Outcomes() {
		n := s.Outcomes[o]
		fmt.Fprintf(w, "  %-9s %9d  %6.2f%%\n", o, n, pct(n, s.Total))
	}
	ratio := s.MappedRatio()
	if obj := src.Objective().MappedRatio; obj > 0 {
		verdict := "meets objective"
		if ratio < obj {
			verdict = "BELOW objective"
		}
		fmt.Fprintf(w, "delivered (mapped + degraded) %.2f%% (objective %.2f%%): %s\n", ratio*100, obj*100, verdict)
	} else {
		fmt.Fprintf(w, "delivered (mapped + degraded) %.2f%%\n", ratio*100)
	}
	if s.Unrouted > 0 {
		fmt.Fprintf(w, "  %-9s %9d  not accepted by %s: outside its outcomes and objective\n", mapper.Unrouted, s.Unrouted, src.Name())
	}
	top := s.TopCategories()
	if len(top) == 0 {
		return
	}
	fmt.Fprintf(w, "failures by category:\n")
	for _, c := range top {
		fmt.Fprintf(w, "  %-40s %9d\n", c.Category, c.Count)
	}
}

func pct(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return float64(n) * 100 / float64(total)
}

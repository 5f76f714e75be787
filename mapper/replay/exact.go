package replay

import (
	"context"
	"io"
	"runtime"
	"sort"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/batch"
	"github.com/mapperhq/mapper/mapper/samples"
)

// ExactOptions tunes Exact. The zero value maps on every core.
type ExactOptions struct {
	// Workers is the number of mapping goroutines; zero means GOMAXPROCS.
	Workers int
	// MaxCategories caps the rows of the report (drift can name any number
	// of unexpected fields); the records of categories past it are counted
	// under OtherCategories. Zero means 1000.
	MaxCategories int
	// Headers are the record headers every payload carries, for the
	// sources' accept predicates (both rule sets read the same); nil
	// checks no header predicate.
	Headers []mapper.Header
	// Show is how many example records to keep per verdict other than
	// same (now_mapped, newly_failing, failing_differently,
	// output_changed), with both results and their diff; zero keeps none.
	// The examples are those whose lines hash lowest: a uniform sample that
	// is the same for the same capture, however the workers share it.
	Show int
}

// OtherCategories is the row of the categories past ExactOptions.MaxCategories.
const OtherCategories = "(other categories)"

var otherCat = mapper.Category{Reason: OtherCategories}

// ExactRow is one category of an exact replay: the records that had it
// under the baseline rules or have it under the candidate, and what the
// change did to them (mapper.Compare's verdicts).
type ExactRow struct {
	// Category is a failure category, or samples.CleanCategory for records
	// without a failure.
	Category string `json:"category"`
	// Before and After count the records with the category under each rule
	// set.
	Before int `json:"before"`
	After  int `json:"after"`
	// Verdicts counts, for the records that had the category before (or
	// have it after, when they did not have it before), each verdict.
	Verdicts map[mapper.Verdict]int `json:"verdicts"`
}

// Impact is how many records of the row the change touched: every verdict
// but same.
func (r *ExactRow) Impact() int {
	n := 0
	for v, c := range r.Verdicts {
		if v != mapper.VerdictSame {
			n += c
		}
	}
	return n
}

// ExactReport is the result of mapping a whole capture with two rule sets.
type ExactReport struct {
	Source      string `json:"source"`
	RulesBefore int    `json:"rules_before"`
	RulesAfter  int    `json:"rules_after"`
	Records     int    `json:"records"`
	// DeliveredBefore and DeliveredAfter count the records that reach the
	// output topic (mapped or degraded) under each rule set.
	DeliveredBefore int `json:"delivered_before"`
	DeliveredAfter  int `json:"delivered_after"`
	// Objective is the candidate's mapped_ratio objective (0: none set).
	Objective float64 `json:"objective"`
	// Verdicts counts every record once.
	Verdicts map[mapper.Verdict]int `json:"verdicts"`
	// Rows are sorted by impact, most first (see SortRows).
	Rows []ExactRow `json:"rows"`
	// Examples are up to ExactOptions.Show records per changed verdict,
	// in the order of mapper.Verdicts. Their views are masked with the
	// redact paths of both rule sets (a value either redacts never shows):
	// each shows what its rules make of the payload with the other rule
	// set's redact paths masked too, under the record's real outcome.
	// Locate fills in their Ref.
	Examples []Example `json:"examples,omitempty"`
	// exampleHashes are the hashes of the examples' lines, for Locate.
	exampleHashes []uint64
}

// MappedBefore and MappedAfter are the exact mapped ratios.
func (r *ExactReport) MappedBefore() float64 { return ratio(r.DeliveredBefore, r.Records) }

// MappedAfter is the exact mapped ratio under the candidate.
func (r *ExactReport) MappedAfter() float64 { return ratio(r.DeliveredAfter, r.Records) }

// Regressed reports whether any record is newly failing.
func (r *ExactReport) Regressed() bool { return r.Verdicts[mapper.VerdictNewlyFailing] > 0 }

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// exactAcc is one mapping goroutine's counts.
type exactAcc struct {
	m        mapper.Mapper
	after    mapper.Result
	records  int
	before   int
	delivAft int
	verdicts [5]int
	rows     map[mapper.Category]*[2 + 5]int // before, after, verdicts
	max      int
	picks    picker
}

func verdictIndex(v mapper.Verdict) int {
	for i, x := range mapper.Verdicts() {
		if x == v {
			return i
		}
	}
	return 0
}

var cleanCat = mapper.Category{Reason: samples.CleanCategory}

func (a *exactAcc) row(c mapper.Category) *[7]int {
	r := a.rows[c]
	if r == nil {
		if len(a.rows) >= a.max {
			c = otherCat
			if r = a.rows[c]; r != nil {
				return r
			}
		}
		r = new([7]int)
		a.rows[c] = r
	}
	return r
}

// Exact maps every payload of in (one per line, as mapper map --lines
// reads them) with the baseline source and with the candidate, on every
// core, and counts per category what the change did to each record, with
// mapper.Compare. It returns the first read error, or ctx's error when
// cancelled.
func Exact(ctx context.Context, baseline, candidate *mapper.Source, in io.Reader, opts ExactOptions) (*ExactReport, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	maxCats := opts.MaxCategories
	if maxCats <= 0 {
		maxCats = 1000
	}
	accs := make([]exactAcc, workers)
	for i := range accs {
		accs[i].rows = map[mapper.Category]*[7]int{}
		accs[i].max = maxCats
		accs[i].picks.show = opts.Show
		accs[i].picks.headers = opts.Headers
	}
	same := verdictIndex(mapper.VerdictSame)
	each := func(w int, line []byte, before *mapper.Result) {
		a := &accs[w]
		if line == nil {
			// A line past the limit, not held: too large for both.
			a.after.Outcome = before.Outcome
			a.after.Output = append(a.after.Output[:0], before.Output...)
			a.after.Failures = append(a.after.Failures[:0], before.Failures...)
		} else if opts.Headers != nil {
			a.m.MapRecord(candidate, opts.Headers, line, &a.after)
		} else {
			a.m.Map(candidate, line, &a.after)
		}
		v := mapper.Compare(before, &a.after)
		vi := verdictIndex(v)
		if opts.Show > 0 && vi != same {
			a.picks.offer(vi, line, baseline, candidate, before, &a.after)
		}
		a.records++
		a.verdicts[vi]++
		if before.Outcome.Delivered() {
			a.before++
		}
		if a.after.Outcome.Delivered() {
			a.delivAft++
		}
		if len(before.Failures) == 0 {
			r := a.row(cleanCat)
			r[0]++
			r[2+vi]++
		}
		for i := range before.Failures {
			r := a.row(before.Failures[i].Category())
			r[0]++
			r[2+vi]++
		}
		if len(a.after.Failures) == 0 {
			a.row(cleanCat)[1]++
		}
		for i := range a.after.Failures {
			f := &a.after.Failures[i]
			r := a.row(f.Category())
			r[1]++
			if !hasCategory(before.Failures, f.Category()) {
				// A category the record did not have: count its verdict
				// here too, so a newly failing category shows its records.
				r[2+vi]++
			}
		}
	}
	if err := batch.Run(ctx, baseline, in, batch.Options{Workers: workers, Each: each, Headers: opts.Headers}); err != nil {
		return nil, err
	}
	rep := &ExactReport{Source: candidate.Name(), RulesBefore: baseline.Version(), RulesAfter: candidate.Version(),
		Objective: candidate.Objective().MappedRatio, Verdicts: map[mapper.Verdict]int{}}
	rows := map[mapper.Category]*[7]int{}
	picks := picker{show: opts.Show}
	for i := range accs {
		a := &accs[i]
		picks.merge(&a.picks)
		rep.Records += a.records
		rep.DeliveredBefore += a.before
		rep.DeliveredAfter += a.delivAft
		for vi, n := range a.verdicts {
			if n > 0 {
				rep.Verdicts[mapper.Verdicts()[vi]] += n
			}
		}
		for c, r := range a.rows {
			if rows[c] == nil && len(rows) >= maxCats {
				c = otherCat
			}
			t := rows[c]
			if t == nil {
				t = new([7]int)
				rows[c] = t
			}
			for j := range r {
				t[j] += r[j]
			}
		}
	}
	for c, r := range rows {
		row := ExactRow{Category: c.String(), Before: r[0], After: r[1], Verdicts: map[mapper.Verdict]int{}}
		for vi, v := range mapper.Verdicts() {
			if r[2+vi] > 0 {
				row.Verdicts[v] = r[2+vi]
			}
		}
		rep.Rows = append(rep.Rows, row)
	}
	rep.SortRows(SortImpact)
	rep.Examples, rep.exampleHashes = picks.examples()
	return rep, nil
}

func hasCategory(fs []mapper.Failure, c mapper.Category) bool {
	for i := range fs {
		if fs[i].Reason == c.Reason && fs[i].Field == c.Field {
			return true
		}
	}
	return false
}

// Orders of report rows.
const (
	// SortImpact puts the rows the change touched most first (then the
	// most records, then by name), clean last.
	SortImpact = "impact"
	// SortName orders rows by category name, clean last.
	SortName = "name"
)

// SortRows orders the rows by SortImpact or SortName.
func (r *ExactReport) SortRows(by string) {
	sort.Slice(r.Rows, func(i, j int) bool {
		a, b := &r.Rows[i], &r.Rows[j]
		if ac, bc := a.Category == samples.CleanCategory, b.Category == samples.CleanCategory; ac != bc {
			return bc
		}
		if by == SortImpact {
			if ai, bi := a.Impact(), b.Impact(); ai != bi {
				return ai > bi
			}
			if am, bm := max(a.Before, a.After), max(b.Before, b.After); am != bm {
				return am > bm
			}
		}
		return a.Category < b.Category
	})
}

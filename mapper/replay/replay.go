package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/aymanbagabas/go-udiff"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// Verdict is what a rule change did to one sample, from the point of view
// of the sample's category. The names are the engine's verdicts
// (mapper.Compare), shared with exact replay and candidate rules.
type Verdict = mapper.Verdict

const (
	// NowMapped: the sample's category is gone and the record is delivered
	// (mapped or degraded). For a clean sample: still mapped cleanly.
	NowMapped = mapper.VerdictNowMapped
	// Same: the sample still fails with its category.
	Same = mapper.VerdictSame
	// Different: the category is gone but the record fails another way (for
	// a clean sample: it is now degraded).
	Different = mapper.VerdictFailingDifferently
	// Regressed: the record was delivered before and is rejected now.
	Regressed = mapper.VerdictNewlyFailing
	// Skipped: the sample has no payload to replay.
	Skipped Verdict = "skipped"
)

// Classify says what became of a sample kept for category (a failure
// category or samples.CleanCategory) whose record had outcome before, given
// what the rules make of it now. See the package documentation.
func Classify(category string, before mapper.Outcome, after *mapper.Result) Verdict {
	if before.Delivered() && !after.Outcome.Delivered() {
		return Regressed
	}
	if category == samples.CleanCategory {
		if after.Outcome == mapper.OutcomeMapped {
			return NowMapped
		}
		return Different
	}
	for _, f := range after.Failures {
		if f.Category().String() == category {
			return Same
		}
	}
	if after.Outcome.Delivered() {
		return NowMapped
	}
	return Different
}

// Options tunes Run. The zero value replays every sample and keeps no
// example.
type Options struct {
	// Source, when set, replays only the samples of that source.
	Source string
	// Show is how many examples to keep per category and verdict that
	// changed (now mapped, failing differently, newly failing).
	Show int
	// Counts are the samples directory's counts (samples.Counts), used to
	// weigh samples when estimating mapped ratios; nil weighs every sample
	// the same.
	Counts map[string]samples.SourceCounts
	// Each, when set, is called for every replayed sample with its index in
	// the input, its verdict and the result the rules give now (valid only
	// during the call).
	Each func(i int, v Verdict, after *mapper.Result)
	// Profiles, when set, gives the failing-value profile of a source's
	// category (samples.ReadValues), used to project enum, layout and type
	// fixes exactly. Nil projects from the samples alone.
	Profiles func(source, category string) (samples.ValueProfile, bool)
	// Sort orders the rows: SortImpact (the default when empty) or SortName.
	Sort string
}

// Row is the replay of one source and category.
type Row struct {
	Source             string `json:"source"`
	Category           string `json:"category"`
	Samples            int    `json:"samples"`
	NowMapped          int    `json:"now_mapped"`
	StillFailing       int    `json:"same"`
	FailingDifferently int    `json:"failing_differently"`
	NewlyFailing       int    `json:"newly_failing"`
	Skipped            int    `json:"skipped"`
	// Projection is what the change is projected to do to all the records
	// of the category; nil when the store's counts are unknown.
	Projection *Projection `json:"projection,omitempty"`
	Examples   []Example   `json:"examples,omitempty"`
}

// Impact is how many records the change is projected to touch in the
// category (samples when the counts are unknown).
func (r *Row) Impact() float64 {
	if p := r.Projection; p != nil {
		return p.NowMapped.count() + p.NewlyFailing.count()
	}
	if r.Category == samples.CleanCategory {
		return float64(r.FailingDifferently + r.NewlyFailing)
	}
	return float64(r.NowMapped + r.FailingDifferently + r.NewlyFailing)
}

// Changed reports whether the rule change did anything to the category.
func (r *Row) Changed() bool {
	if r.Category == samples.CleanCategory {
		return r.FailingDifferently+r.NewlyFailing > 0
	}
	return r.NowMapped+r.FailingDifferently+r.NewlyFailing > 0
}

// Example is one replayed sample whose verdict changed.
type Example struct {
	Verdict Verdict `json:"verdict"`
	// Ref says where the sample's record came from.
	Ref    string `json:"ref"`
	Before View   `json:"before"`
	After  View   `json:"after"`
	// Diff is a unified diff of Before and After as text.
	Diff string `json:"diff"`
}

// View is one result as shown in an example.
type View struct {
	RulesVersion int              `json:"rules_version"`
	Outcome      mapper.Outcome   `json:"outcome"`
	Failures     []mapper.Failure `json:"failures"`
	Output       json.RawMessage  `json:"output,omitempty"`
}

// Text renders a view line by line for diffs: outcome, one line per
// failure, then the output pretty-printed.
func (v View) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "outcome: %s\n", v.Outcome)
	for _, f := range v.Failures {
		fmt.Fprintf(&b, "failure: %s: %s\n", f.Category(), f.Detail)
	}
	if len(v.Output) > 0 {
		var pretty bytes.Buffer
		if json.Indent(&pretty, v.Output, "", "  ") != nil {
			pretty.Reset()
			pretty.Write(v.Output)
		}
		fmt.Fprintf(&b, "output: %s\n", pretty.String())
	}
	return b.String()
}

// SourceSummary is the replay of one source as a whole.
type SourceSummary struct {
	Source  string `json:"source"`
	Samples int    `json:"samples"`
	// RulesBefore is the oldest and newest rules version the samples were
	// kept under; RulesAfter the version replayed (0 if the source is gone).
	RulesBefore [2]int `json:"rules_before"`
	RulesAfter  int    `json:"rules_after"`
	// MappedBefore and MappedAfter estimate the share of the source's
	// records that reach the output topic before and after the change:
	// each sample weighs the records it stands for when the store's counts
	// are known (Weighted), one otherwise.
	MappedBefore float64 `json:"mapped_ratio_before"`
	MappedAfter  float64 `json:"mapped_ratio_after"`
	// MappedAfterLo and MappedAfterHi bound MappedAfter: with counts, the
	// sum of the changed categories' intervals (IntervalName each); without,
	// the Wilson score 95% interval of the delivered share of the samples.
	MappedAfterLo float64 `json:"mapped_ratio_after_lo"`
	MappedAfterHi float64 `json:"mapped_ratio_after_hi"`
	Weighted      bool    `json:"weighted"`
	// Records is how many records of the source the store was told of
	// (0 when the counts are unknown).
	Records uint64 `json:"records,omitempty"`
	// Objective is the source's mapped_ratio objective (0: none set).
	Objective    float64 `json:"objective"`
	NewlyFailing int     `json:"newly_failing"`
}

// Met reports whether the after ratio reaches the objective (true when
// there is none).
func (s *SourceSummary) Met() bool { return s.MappedAfter >= s.Objective }

// Report is the result of a replay.
type Report struct {
	Rows    []Row           `json:"rows"`
	Sources []SourceSummary `json:"sources"`
	// Samples is how many samples were replayed; NewlyFailing how many of
	// them are regressions.
	Samples      int `json:"samples"`
	NewlyFailing int `json:"newly_failing"`
}

// Regressed reports whether any sample is newly failing.
func (r *Report) Regressed() bool { return r.NewlyFailing > 0 }

type rowKey struct{ source, category string }

// rowAcc is what Run gathers per row beyond the Row's counts.
type rowAcc struct {
	row      *Row
	samples  []*samples.Sample
	replayed int
	// fixed counts samples rejected before and delivered now, broken the
	// reverse; fixedW and brokenW the same with each sample weighed by its
	// share of its record (1 over its distinct categories).
	fixed, broken   int
	fixedW, brokenW float64
	weights         float64
	// degraded counts the samples delivered before (a category whose
	// failure only degrades a record that lacks others).
	degraded int
}

// Run replays samples through e and reports per source and category. It
// returns early with ctx's error if ctx is done.
func Run(ctx context.Context, e *mapper.Engine, in []samples.Sample, opts Options) (*Report, error) {
	rows := map[rowKey]*rowAcc{}
	type acc struct {
		s                *SourceSummary
		w, before, after float64
		n, delivered     int
	}
	accs := map[string]*acc{}
	// kept counts the samples per source and category, for the weights.
	kept := map[rowKey]int{}
	for i := range in {
		if opts.Source == "" || in[i].Source == opts.Source {
			kept[rowKey{in[i].Source, in[i].Category}]++
		}
	}
	var m mapper.Mapper
	var res mapper.Result
	var hdrs []mapper.Header // the sample's headers, for the accept predicates
	rep := &Report{}
	for i := range in {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		smp := &in[i]
		if opts.Source != "" && smp.Source != opts.Source {
			continue
		}
		k := rowKey{smp.Source, smp.Category}
		ra := rows[k]
		if ra == nil {
			ra = &rowAcc{row: &Row{Source: smp.Source, Category: smp.Category}}
			rows[k] = ra
		}
		row := ra.row
		row.Samples++
		rep.Samples++
		a := accs[smp.Source]
		if a == nil {
			a = &acc{s: &SourceSummary{Source: smp.Source, RulesBefore: [2]int{smp.RulesVersion, smp.RulesVersion}}}
			if src := e.Source(smp.Source); src != nil {
				a.s.RulesAfter, a.s.Objective = src.Version(), src.Objective().MappedRatio
			}
			accs[smp.Source] = a
		}
		a.s.Samples++
		a.s.RulesBefore[0] = min(a.s.RulesBefore[0], smp.RulesVersion)
		a.s.RulesBefore[1] = max(a.s.RulesBefore[1], smp.RulesVersion)

		payload, ok := smp.PayloadBytes()
		if !ok {
			row.Skipped++
			continue
		}
		hdrs = hdrs[:0]
		for _, h := range smp.Headers {
			hdrs = append(hdrs, mapper.Header{Key: h.Key, Value: h.Value})
		}
		src := e.Source(smp.Source)
		switch {
		case src != nil && smp.Topic == "" && len(hdrs) == 0:
			// Imported with `samples add` and no --header: nothing to route
			// by, the payload is the source's as the import said.
			m.Map(src, payload, &res)
		case src != nil:
			m.MapRecord(src, hdrs, payload, &res)
		case smp.Topic != "":
			routed, unknown := e.Route(smp.Topic, hdrs, payload)
			if routed == nil {
				res = unknown
			} else {
				m.Map(routed, payload, &res)
			}
		default:
			res = mapper.UnknownSource(smp.Topic)
		}
		if detail, ok := smp.MalformedOriginal(); ok && !unknownSource(&res) {
			// What the original bytes gave, whatever the masked ones give.
			res = malformed(detail)
		}
		v := Classify(smp.Category, smp.Outcome, &res)
		switch v {
		case NowMapped:
			row.NowMapped++
		case Same:
			row.StillFailing++
		case Different:
			row.FailingDifferently++
		case Regressed:
			row.NewlyFailing++
			a.s.NewlyFailing++
			rep.NewlyFailing++
		}
		if opts.Each != nil {
			opts.Each(i, v, &res)
		}
		share := 1.0
		if smp.Category != samples.CleanCategory {
			share /= float64(max(1, distinctCategories(smp.Failures)))
		}
		if len(ra.samples) < maxSubstitutions {
			ra.samples = append(ra.samples, smp)
		}
		ra.replayed++
		ra.weights += share
		if smp.Outcome.Delivered() {
			ra.degraded++
		}
		switch {
		case !smp.Outcome.Delivered() && res.Outcome.Delivered():
			ra.fixed++
			ra.fixedW += share
		case smp.Outcome.Delivered() && !res.Outcome.Delivered():
			ra.broken++
			ra.brokenW += share
		}
		w := weight(smp, opts.Counts, kept[k])
		a.w += w
		a.n++
		if smp.Outcome.Delivered() {
			a.before += w
		}
		if res.Outcome.Delivered() {
			a.after += w
			a.delivered++
		}
		if opts.Show > 0 && v != Same && !(v == NowMapped && smp.Category == samples.CleanCategory) && countVerdict(row, v) < opts.Show {
			row.Examples = append(row.Examples, newExample(smp, v, src, &res))
		}
	}
	// Project every category onto the records it stands for, and sum the
	// changed ones into the source's ratio.
	type delta struct{ count, lo, hi float64 }
	deltas := map[string]*delta{}
	for k, ra := range rows {
		sc, ok := opts.Counts[k.source]
		if !ok {
			continue
		}
		seen := sc.Seen[k.category]
		if seen == 0 {
			continue
		}
		p := &Projection{Seen: seen}
		reason, field := samples.SplitCategory(k.category)
		// delivered is the records newly delivered, for the source's ratio.
		var delivered *Estimate
		if k.category == samples.CleanCategory || reason.Severity() != mapper.OutcomeRejected {
			p.NewlyFailing = wilsonEstimate(ra.broken, ra.replayed, float64(seen))
		} else {
			delivered = wilsonEstimate(ra.fixed, ra.replayed, float64(seen))
			p.NowMapped = delivered
		}
		// A value profile stands for records rejected by the value alone:
		// not when some were delivered (degraded) before, whatever value.
		if p.NowMapped != nil && ra.degraded == 0 && opts.Profiles != nil && profiledReason(reason) {
			if prof, ok := opts.Profiles(k.source, k.category); ok {
				if est, ok := profileEstimate(e.Source(k.source), field, prof, seen, ra.samples, ra.fixed, ra.replayed); ok {
					p.NowMapped, delivered = est, est
				}
			}
		}
		if p.NowMapped != nil && ra.degraded > 0 {
			// Records of the category delivered degraded before (a failure
			// of an unread field) are now mapped, as the replay counts them,
			// when the change leaves them delivered without this failure:
			// projected from the samples now mapped, not only from those
			// newly delivered.
			p.NowMapped = wilsonEstimate(ra.row.NowMapped, ra.replayed, float64(seen))
		}
		ra.row.Projection = p
		d := deltas[k.source]
		if d == nil {
			d = &delta{}
			deltas[k.source] = d
		}
		// Each record counts once in the ratio: a sample of a record with
		// several categories weighs its share.
		fixedShare, brokenShare := 1.0, 1.0
		if ra.fixed > 0 {
			fixedShare = ra.fixedW / float64(ra.fixed)
		} else if ra.replayed > 0 {
			fixedShare = ra.weights / float64(ra.replayed)
		}
		if ra.broken > 0 {
			brokenShare = ra.brokenW / float64(ra.broken)
		}
		if delivered != nil && delivered.Count > 0 {
			d.count += delivered.Count * fixedShare
			d.lo += delivered.Lo * fixedShare
			d.hi += delivered.Hi * fixedShare
		}
		if p.NewlyFailing != nil && ra.broken > 0 {
			d.count -= p.NewlyFailing.Count * brokenShare
			d.lo -= p.NewlyFailing.Hi * brokenShare
			d.hi -= p.NewlyFailing.Lo * brokenShare
		}
	}
	for _, r := range rows {
		rep.Rows = append(rep.Rows, *r.row)
	}
	rep.SortRows(opts.Sort)
	for _, a := range accs {
		sc, weighted := opts.Counts[a.s.Source]
		a.s.Weighted = weighted
		switch {
		case weighted && sc.Records > 0:
			d := deltas[a.s.Source]
			if d == nil {
				d = &delta{}
			}
			n := float64(sc.Records)
			a.s.Records = sc.Records
			a.s.MappedBefore = float64(sc.Delivered) / n
			a.s.MappedAfter = clamp01(a.s.MappedBefore + d.count/n)
			a.s.MappedAfterLo = clamp01(a.s.MappedBefore + d.lo/n)
			a.s.MappedAfterHi = clamp01(a.s.MappedBefore + d.hi/n)
		case a.w > 0:
			a.s.MappedBefore, a.s.MappedAfter = a.before/a.w, a.after/a.w
			a.s.MappedAfterLo, a.s.MappedAfterHi = Wilson(a.delivered, a.n, z95)
		}
		rep.Sources = append(rep.Sources, *a.s)
	}
	sort.Slice(rep.Sources, func(i, j int) bool { return rep.Sources[i].Source < rep.Sources[j].Source })
	return rep, nil
}

// malformed is the result of a payload the engine cannot read: no rules
// change that.
func malformed(detail string) mapper.Result {
	return mapper.Result{Outcome: mapper.OutcomeRejected, Output: []byte("null"),
		Failures: []mapper.Failure{{Reason: mapper.ReasonMalformedPayload, Detail: detail}}}
}

func unknownSource(r *mapper.Result) bool {
	return len(r.Failures) > 0 && r.Failures[0].Reason == mapper.ReasonUnknownSource
}

func clamp01(f float64) float64 { return math.Max(0, math.Min(1, f)) }

// SortRows orders the rows by source, then SortImpact (the changed
// categories with most records first; the default) or SortName, clean last.
func (r *Report) SortRows(by string) {
	sort.SliceStable(r.Rows, func(i, j int) bool {
		a, b := &r.Rows[i], &r.Rows[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if (a.Category == samples.CleanCategory) != (b.Category == samples.CleanCategory) {
			return b.Category == samples.CleanCategory
		}
		if by != SortName {
			if ai, bi := a.Impact(), b.Impact(); ai != bi {
				return ai > bi
			}
			if as, bs := seenOf(a), seenOf(b); as != bs {
				return as > bs
			}
		}
		return a.Category < b.Category
	})
}

func seenOf(r *Row) uint64 {
	if r.Projection != nil {
		return r.Projection.Seen
	}
	return uint64(r.Samples)
}

func countVerdict(r *Row, v Verdict) int {
	n := 0
	for _, e := range r.Examples {
		if e.Verdict == v {
			n++
		}
	}
	return n
}

// weight is how many of the source's records a sample stands for: the
// category's records seen over its samples kept, shared between the
// categories of a record that failed several ways (each of its categories
// may have kept it). One per sample when the counts are unknown.
func weight(s *samples.Sample, counts map[string]samples.SourceCounts, kept int) float64 {
	w := 1.0
	if sc, ok := counts[s.Source]; ok && kept > 0 {
		if seen := sc.Seen[s.Category]; seen > uint64(kept) {
			w = float64(seen) / float64(kept)
		}
	}
	if s.Category != samples.CleanCategory {
		if n := distinctCategories(s.Failures); n > 1 {
			w /= float64(n)
		}
	}
	return w
}

// newExample shows what became of s: before as kept, after as the rules of
// src (nil: no source claims it) map it now. Both go through the source's
// redaction, since a dead-letter record holds the original payload and
// today's rules may redact more than those it was kept under.
func newExample(s *samples.Sample, v Verdict, src *mapper.Source, res *mapper.Result) Example {
	before := View{RulesVersion: s.RulesVersion, Outcome: s.Outcome, Failures: s.Failures, Output: s.Output}
	after := View{Outcome: res.Outcome, Failures: append([]mapper.Failure(nil), res.Failures...), Output: json.RawMessage(append([]byte(nil), res.Output...))}
	if src != nil {
		after.RulesVersion = src.Version()
		before.Failures, after.Failures = src.RedactFailures(before.Failures), src.RedactFailures(after.Failures)
		if len(before.Output) > 0 {
			before.Output = src.RedactOutput(before.Output)
		}
		after.Output = src.RedactOutput(after.Output)
	}
	ref := fmt.Sprintf("%s/%d@%d", s.Topic, s.Partition, s.Offset)
	if s.Imported != "" {
		ref = s.Imported
	}
	bt, at := before.Text(), after.Text()
	return Example{
		Verdict: v, Ref: ref, Before: before, After: after,
		Diff: udiff.Unified(fmt.Sprintf("rules v%d", before.RulesVersion), fmt.Sprintf("rules v%d", after.RulesVersion), bt, at),
	}
}

// distinctCategories counts the distinct categories among failures without
// allocating (a record has few failures).
func distinctCategories(fs []mapper.Failure) int {
	n := 0
	for i, f := range fs {
		dup := false
		for _, g := range fs[:i] {
			if g.Reason == f.Reason && g.Field == f.Field {
				dup = true
				break
			}
		}
		if !dup {
			n++
		}
	}
	return n
}

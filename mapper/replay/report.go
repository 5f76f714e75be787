package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/mapperhq/mapper/mapper"
)

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a table per source and category, a line
// per source with its mapped ratios and objective, the examples kept (see
// Options.Show) and a verdict line.
func (r *Report) WriteText(w io.Writer) error {
	if r.Samples == 0 {
		_, err := fmt.Fprintln(w, "no samples to replay")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tCATEGORY\tSAMPLES\tNOW MAPPED\tSAME\tFAILING DIFFERENTLY\tNEWLY FAILING\tSKIPPED\tRECORDS SEEN\tPROJECTED NOW MAPPED\tPROJECTED NEWLY FAILING")
	projected := false
	for _, row := range r.Rows {
		seen, fixed, broken := "-", "-", "-"
		if p := row.Projection; p != nil {
			projected = true
			seen = fmt.Sprint(p.Seen)
			fixed, broken = p.NowMapped.Text(), p.NewlyFailing.Text()
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", sourceName(row.Source), row.Category, row.Samples,
			row.NowMapped, row.StillFailing, row.FailingDifferently, row.NewlyFailing, row.Skipped, seen, fixed, broken)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if projected {
		fmt.Fprintf(w, "projected counts: records of the category, with a %s interval [lo-hi] on the share of its samples fixed;\n", IntervalName)
		fmt.Fprintln(w, "* where each profiled failing value was replayed in the samples and weighed by its records")
		fmt.Fprintln(w)
	}
	for _, s := range r.Sources {
		if s.Source == "" {
			continue
		}
		how := fmt.Sprintf("share of the samples delivered, %s interval", IntervalName)
		if s.Weighted {
			how = fmt.Sprintf("over %d records seen; interval sums the changed categories' %s intervals", s.Records, IntervalName)
		}
		versions := fmt.Sprintf("v%d", s.RulesBefore[0])
		if s.RulesBefore[1] != s.RulesBefore[0] {
			versions = fmt.Sprintf("v%d-v%d", s.RulesBefore[0], s.RulesBefore[1])
		}
		after := fmt.Sprintf("v%d", s.RulesAfter)
		if s.RulesAfter == 0 {
			after = "(source gone)"
		}
		fmt.Fprintf(w, "%s: rules %s → %s; mapped ratio %.3f → %.3f [%.3f-%.3f] (%s); %s\n",
			s.Source, versions, after, s.MappedBefore, s.MappedAfter, s.MappedAfterLo, s.MappedAfterHi, how,
			objectiveText(s.Objective, s.MappedAfterLo, s.MappedAfterHi))
	}
	for _, row := range r.Rows {
		for _, ex := range row.Examples {
			fmt.Fprintf(w, "\n== %s %s: %s (%s)\n", sourceName(row.Source), row.Category, strings.ReplaceAll(string(ex.Verdict), "_", " "), ex.Ref)
			io.WriteString(w, ex.Diff)
		}
	}
	fixed := 0
	for _, row := range r.Rows {
		if row.Category != "clean" {
			fixed += row.NowMapped
		}
	}
	fmt.Fprintln(w)
	if r.Regressed() {
		_, err := fmt.Fprintf(w, "REGRESSION: %d of %d samples newly failing (%d now mapped)\n", r.NewlyFailing, r.Samples, fixed)
		return err
	}
	_, err := fmt.Fprintf(w, "ok: %d samples, %d now mapped, none newly failing\n", r.Samples, fixed)
	return err
}

func sourceName(s string) string {
	if s == "" {
		return mapper.Unrouted
	}
	return s
}

// WriteJSON writes the exact report as one indented JSON document.
func (r *ExactReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the exact report: the source's exact mapped ratios
// against its objective, a table of categories with their records before
// and after and the verdicts of their records, the examples (each the diff
// of its two views), and a verdict line.
func (r *ExactReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s: rules v%d → v%d, every one of %d records mapped with both (exact)\n", r.Source, r.RulesBefore, r.RulesAfter, r.Records)
	fmt.Fprintf(w, "mapped ratio %.4f → %.4f (%+d records delivered); %s\n\n", r.MappedBefore(), r.MappedAfter(),
		r.DeliveredAfter-r.DeliveredBefore, objectiveText(r.Objective, r.MappedAfter(), r.MappedAfter()))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tBEFORE\tAFTER\tNOW MAPPED\tNEWLY FAILING\tFAILING DIFFERENTLY\tOUTPUT CHANGED\tSAME")
	for _, row := range r.Rows {
		v := row.Verdicts
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", row.Category, row.Before, row.After,
			v[mapper.VerdictNowMapped], v[mapper.VerdictNewlyFailing], v[mapper.VerdictFailingDifferently], v[mapper.VerdictOutputChanged], v[mapper.VerdictSame])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, ex := range r.Examples {
		ref := ex.Ref
		if ref == "" {
			ref = "input"
		}
		fmt.Fprintf(w, "\n== %s (%s)\n", strings.ReplaceAll(string(ex.Verdict), "_", " "), ref)
		io.WriteString(w, ex.Diff)
	}
	fmt.Fprintln(w)
	v := r.Verdicts
	if r.Regressed() {
		_, err := fmt.Fprintf(w, "REGRESSION: %d of %d records newly failing (%d now mapped, %d failing differently, %d with a changed output)\n",
			v[mapper.VerdictNewlyFailing], r.Records, v[mapper.VerdictNowMapped], v[mapper.VerdictFailingDifferently], v[mapper.VerdictOutputChanged])
		return err
	}
	_, err := fmt.Fprintf(w, "ok: %d records, %d now mapped, none newly failing (%d failing differently, %d with a changed output)\n",
		r.Records, v[mapper.VerdictNowMapped], v[mapper.VerdictFailingDifferently], v[mapper.VerdictOutputChanged])
	return err
}

// objectiveText says where a projected ratio (lo..hi; equal when exact)
// stands against the objective.
func objectiveText(objective, lo, hi float64) string {
	switch {
	case objective <= 0:
		return "no objective set"
	case lo >= objective:
		return fmt.Sprintf("objective %.3f met", objective)
	case hi < objective:
		return fmt.Sprintf("objective %.3f NOT met", objective)
	}
	return fmt.Sprintf("objective %.3f within the interval: not settled by these samples", objective)
}

// Text renders an estimate as "count [lo-hi]", rounded to whole records,
// with a * when it came from a value profile; nil is "-".
func (e *Estimate) Text() string {
	if e == nil {
		return "-"
	}
	mark := ""
	if strings.HasPrefix(e.Method, "value profile") {
		mark = "*"
	}
	if math.Round(e.Lo) == math.Round(e.Hi) {
		return fmt.Sprintf("%.0f%s", e.Count, mark)
	}
	return fmt.Sprintf("%.0f [%.0f-%.0f]%s", e.Count, e.Lo, e.Hi, mark)
}

func (e *Estimate) count() float64 {
	if e == nil {
		return 0
	}
	return e.Count
}

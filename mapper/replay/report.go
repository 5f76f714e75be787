package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
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
	fmt.Fprintln(tw, "SOURCE\tCATEGORY\tSAMPLES\tNOW MAPPED\tSTILL FAILING\tFAILING DIFFERENTLY\tNEWLY FAILING\tSKIPPED")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", sourceName(row.Source), row.Category, row.Samples,
			row.NowMapped, row.StillFailing, row.FailingDifferently, row.NewlyFailing, row.Skipped)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, s := range r.Sources {
		if s.Source == "" {
			continue
		}
		how := "each sample counted once"
		if s.Weighted {
			how = "samples weighted by records seen"
		}
		objective := "no objective set"
		if s.Objective > 0 {
			state := "met"
			if !s.Met() {
				state = "NOT met"
			}
			objective = fmt.Sprintf("objective %.3f %s", s.Objective, state)
		}
		versions := fmt.Sprintf("v%d", s.RulesBefore[0])
		if s.RulesBefore[1] != s.RulesBefore[0] {
			versions = fmt.Sprintf("v%d-v%d", s.RulesBefore[0], s.RulesBefore[1])
		}
		after := fmt.Sprintf("v%d", s.RulesAfter)
		if s.RulesAfter == 0 {
			after = "(source gone)"
		}
		fmt.Fprintf(w, "%s: rules %s → %s; mapped ratio %.3f → %.3f (%s); %s\n",
			s.Source, versions, after, s.MappedBefore, s.MappedAfter, how, objective)
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
		return "(none)"
	}
	return s
}

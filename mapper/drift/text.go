package drift

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes r as a table for people: one line per entry with its
// kind, path, count, share, first seen and what drifted (types seen and
// the schema's, values outside the enum).
func WriteText(w io.Writer, r Report) error {
	fields := len(r.Entries)
	fmt.Fprintf(w, "%s: %d drifting fields in %d records", r.Source, fields, r.Records)
	if r.RulesVersion > 0 {
		fmt.Fprintf(w, " (rules v%d)", r.RulesVersion)
	}
	if !r.UpdatedAt.IsZero() {
		fmt.Fprintf(w, ", updated %s", r.UpdatedAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	if fields == 0 {
		_, err := fmt.Fprintln(w, "  the traffic matches the input schema")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KIND\tPATH\tCOUNT\tSHARE\tFIRST SEEN\tDETAIL")
	for _, e := range r.Entries {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%.1f%%\t%s\t%s\n", e.Kind, e.Path, e.Count, 100*e.Share,
			e.FirstSeen.UTC().Format(time.RFC3339), Detail(e))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Untracked > 0 {
		fmt.Fprintf(w, "  and %d more drifting values at fields past the %d tracked\n", r.Untracked, r.MaxPaths)
	}
	return nil
}

// Detail says in a few words what drifted at an entry: the types seen and
// the schema's (new_type), the values outside the enum (new_enum_value),
// "" for the other kinds.
func Detail(e Entry) string {
	var parts []string
	switch e.Kind {
	case KindNewType:
		for _, t := range e.Types {
			parts = append(parts, fmt.Sprintf("%s ×%d", t.Type, t.Count))
		}
		s := strings.Join(parts, ", ")
		if len(e.Expected) > 0 {
			s += "; schema: " + strings.Join(e.Expected, " or ")
		}
		return s
	case KindNewEnumValue:
		for i, v := range e.Values {
			if i == 5 {
				parts = append(parts, fmt.Sprintf("… (%d kept)", len(e.Values)))
				break
			}
			val := v.Value
			if v.Truncated {
				val += "…"
			}
			parts = append(parts, fmt.Sprintf("%s ×%d", val, v.Count))
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

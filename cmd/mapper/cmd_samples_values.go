package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/mapperhq/mapper/mapper/samples"
)

func samplesValuesCommand(dir string) command {
	return command{
		name:  "samples values",
		usage: "samples values --source NAME [--category REASON:FIELD] [-n N] [--json]",
		long: `Lists the most frequent failing values of a source's categories, with counts:
the value profiles that mapper run, mapper demo and mapper samples add keep
beside the samples (a bounded heavy-hitters sketch per category). Counts are
exact while a category has fewer distinct values than the profile tracks;
past that a count may overstate by at most the "±" shown. Values at redacted
paths are never profiled. Without --category, every profiled category of the
source is listed, most values first.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdSamplesValues{categoryView{
				env:      e,
				fs:       fs,
				d:        fs.String("samples", dir, "directory of kept samples"),
				source:   fs.String("source", "", "the source (required)"),
				category: fs.String("category", "", "the category, reason:field as `mapper samples` lists it (default: every profiled category)"),
				n:        fs.Int("n", 0, "show at most N values per category (0: all kept)"),
				asJSON:   fs.Bool("json", false, "print the profiles as JSON"),
			}}
		},
	}
}

// cmdSamplesValues is one invocation of `mapper samples values`.
type cmdSamplesValues struct{ categoryView }

func (c *cmdSamplesValues) run(ctx context.Context, args []string) int {
	if *c.source == "" || len(args) > 0 {
		fmt.Fprintln(c.stderr, "mapper samples values: --source is required and no argument is taken")
		c.fs.Usage()
		return exitUsage
	}
	var profiles []samples.ValueProfile
	if *c.category != "" {
		p, ok, err := samples.ReadValues(*c.d, *c.source, *c.category)
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper samples values: %v\n", err)
			return exitFailure
		}
		if ok {
			profiles = append(profiles, p)
		}
	} else {
		all, err := samples.ReadAllValues(*c.d)
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper samples values: %v\n", err)
			return exitFailure
		}
		for _, p := range all {
			if p.Source == *c.source {
				profiles = append(profiles, p)
			}
		}
	}
	if len(profiles) == 0 {
		fmt.Fprintf(c.stderr, "mapper samples values: no value profile of source %q category %q in %s (profiles are kept for type_mismatch, invalid_format, unknown_enum, out_of_range and unexpected_field)\n", *c.source, *c.category, *c.d)
		return exitFailure
	}
	for i := range profiles {
		if *c.n > 0 && len(profiles[i].Values) > *c.n {
			profiles[i].Values = profiles[i].Values[:*c.n]
		}
	}
	if *c.asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(profiles); err != nil {
			fmt.Fprintf(c.stderr, "mapper samples values: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	for i, p := range profiles {
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		fmt.Fprintf(c.stdout, "%s %s: %d values counted, %d distinct kept\n", p.Source, p.Category, p.Total, len(p.Values))
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  COUNT\tSHARE\tVALUE")
		for _, v := range p.Values {
			count := fmt.Sprint(v.Count)
			if v.Error > 0 {
				count = fmt.Sprintf("%d ±%d", v.Count, v.Error)
			}
			value := v.Value
			if v.Truncated {
				value += "…"
			}
			fmt.Fprintf(tw, "  %s\t%.1f%%\t%s\n", count, 100*float64(v.Count)/float64(max(p.Total, 1)), value)
		}
		tw.Flush()
	}
	return exitOK
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/observe"
)

func driftCommand() command {
	return command{
		name:  "drift",
		usage: "drift [--source NAME] [--samples DIR | --samples-topic T [--brokers HOST:PORT[,…]]] [--json]",
		short: "the input contract as the traffic shows it: drift from the input schema, with counts",
		long: `Drift lists, for one source (every source without --source), where the traffic mapper run and mapper demo
observed departs from the source's input schema: properties the schema lacks
(new_property), required properties arriving absent (absent_required), types
outside the schema's (new_type) and values outside its enums (new_enum_value),
each with its count, its share of the source's records and when it was first
seen. The report is kept beside the samples (DIR/<source>/drift.json); with
--samples-topic the reports of every worker of the group are read from the
samples topic and merged. Memory is fixed: 256 fields a source, 16 values a
field. No value at a redacted path is ever recorded.
Exit status: 0 when the report was printed, 1 when there is none.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdDrift{
				env:    e,
				d:      stringFlag(fs, e, "samples", "samples", "directory of kept samples"),
				source: fs.String("source", "", "the source; empty lists every source's report"),
				topic:  declareSamplesTopic(fs, e, "read the group's reports from this samples topic instead of --samples"),
				conn:   kafkaconn.Register(fs, "localhost:9092"),
				asJSON: fs.Bool("json", false, "print the report as JSON"),
			}
		},
	}
}

// cmdDrift is one invocation of `mapper drift`.
type cmdDrift struct {
	*env
	d, source, topic *string
	conn             *kafkaconn.Flags
	asJSON           *bool
}

func (c *cmdDrift) run(ctx context.Context, args []string) int {
	if len(args) > 0 {
		return reportProblems(c.env, "drift", []string{fmt.Sprintf("unexpected argument %q (the source goes in --source)", args[0])})
	}
	reports, code := c.reports(ctx)
	if code != exitOK {
		return code
	}
	if *c.asJSON {
		var v any = reports
		if *c.source != "" {
			v = reports[0]
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(c.stderr, "mapper drift: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		if err := drift.WriteText(c.stdout, r); err != nil {
			fmt.Fprintf(c.stderr, "mapper drift: %v\n", err)
			return exitFailure
		}
	}
	return exitOK
}

// reports reads the report of --source, or every report, from the samples
// topic or directory; the exit code is exitOK when there is one at least.
func (c *cmdDrift) reports(ctx context.Context) ([]drift.Report, int) {
	if *c.topic != "" {
		kc, problems := c.conn.Config()
		if len(problems) > 0 {
			return nil, reportProblems(c.env, "drift", problems)
		}
		snap, err := pullSamples(ctx, c.env, "drift", observe.Shared{Kafka: kc, Topic: *c.topic})
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper drift: %v\n", err)
			return nil, exitFailure
		}
		all := snap.DriftReports()
		if *c.source != "" {
			r, ok := snap.Drift(*c.source)
			all = nil
			if ok {
				all = []drift.Report{r}
			}
		}
		if len(all) == 0 {
			fmt.Fprintf(c.stderr, "mapper drift: no drift report%s in samples topic %s (run the workers with --samples-topic %s)\n", ofSource(*c.source), *c.topic, *c.topic)
			return nil, exitFailure
		}
		return all, exitOK
	}
	if *c.source == "" {
		all, err := drift.ReadDir(*c.d)
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper drift: %v\n", err)
			return nil, exitFailure
		}
		if len(all) == 0 {
			fmt.Fprintf(c.stderr, "mapper drift: no drift report in %s (mapper run and mapper demo keep them beside the samples)\n", *c.d)
			return nil, exitFailure
		}
		return all, exitOK
	}
	r, err := drift.ReadFile(*c.d, *c.source)
	if err != nil {
		if errors.Is(err, drift.ErrNoReport) {
			fmt.Fprintf(c.stderr, "mapper drift: %v (mapper run and mapper demo keep it beside the samples)\n", err)
		} else {
			fmt.Fprintf(c.stderr, "mapper drift: %v\n", err)
		}
		return nil, exitFailure
	}
	return []drift.Report{r}, exitOK
}

func ofSource(s string) string {
	if s == "" {
		return ""
	}
	return " of " + s
}

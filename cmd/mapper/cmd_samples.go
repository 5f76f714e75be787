package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mapperhq/mapper/internal/progress"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/observe"
	"github.com/mapperhq/mapper/mapper/samples"
)

func samplesCommand() command {
	return command{
		name:  "samples",
		usage: "samples [--samples DIR] [--json] [--sort impact|name] | samples show --source NAME --category REASON[:FIELD] [-n N] | samples add --source NAME FILE... | samples values --source NAME [--category C] | samples pull --samples-topic T",
		short: "list, show and import kept samples by source and failure category",
		long: `
With no subcommand, lists every source and category of the samples directory:
records seen, samples kept, first and last seen; per source the categories
with most records come first (--sort name for alphabetical order).

  mapper samples values --source orders --category unknown_enum:status
      lists the most frequent failing values of a category with their counts.

  mapper samples show --source orders --category unknown_enum:status
      prints the samples of one category, payload pretty-printed with the
      failing field marked (<-- reason). --category clean shows clean samples.

  mapper samples add --source orders dump.jsonl ticket-4711.json
      maps payloads captured elsewhere (one JSON payload per *.json file, one
      per line in JSON-lines files) with today's rules and keeps them as
      samples of their categories, so that replay covers them.

  mapper samples pull --brokers kafka-1:9092 --samples-topic mapper.samples
      writes the samples and counts a group of workers shares through a
      samples topic (mapper run --samples-topic) as a samples directory.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdSamples{
				env:    e,
				dir:    declareSamplesDir(fs, e),
				asJSON: boolFlag(fs, e, "json", false, "print JSON instead of a table"),
				sortBy: declareSortFlag(fs, e),
			}
		},
	}
}

// cmdSamples is one invocation of `mapper samples`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdSamples struct {
	*env
	dir    *string
	asJSON *bool
	sortBy *string
}

func (c *cmdSamples) run(ctx context.Context, args []string) int {
	if len(args) > 0 {
		for _, sub := range samplesSubcommands(*c.dir) {
			if sub.name == "samples "+args[0] {
				return runCommandArgs(ctx, sub, c.env, args[1:])
			}
		}
		fmt.Fprintf(c.stderr, "mapper samples: unknown subcommand %q (want show, add, values or pull)\n", args[0])
		return exitUsage
	}
	if *c.sortBy != sortImpact && *c.sortBy != sortName {
		fmt.Fprintf(c.stderr, "mapper samples: --sort is %q; want impact or name\n", *c.sortBy)
		return exitUsage
	}
	return listSamples(c.env, *c.dir, *c.asJSON, *c.sortBy)
}

// samplesSubcommands are the subcommands of mapper samples; dir is the
// samples directory mapper samples was given, their --samples default.
func samplesSubcommands(dir string) []command {
	return []command{samplesValuesCommand(dir), samplesShowCommand(dir), samplesAddCommand(dir), samplesPullCommand(dir)}
}

func listSamples(e *env, dir string, asJSON bool, sortBy string) int {
	list, err := samples.List(dir)
	if sortBy == sortImpact {
		sortCategoriesByImpact(list)
	}
	if err != nil {
		if errors.Is(err, samples.ErrNotSamples) {
			fmt.Fprintf(e.stderr, "mapper samples: no samples in %s yet: run `mapper demo` or `mapper run` (they keep samples there), or `mapper samples add`\n", dir)
		} else {
			fmt.Fprintf(e.stderr, "mapper samples: %v\n", err)
		}
		return exitFailure
	}
	if asJSON {
		if list == nil {
			list = []samples.CategoryInfo{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(list); err != nil {
			fmt.Fprintf(e.stderr, "mapper samples: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	if len(list) == 0 {
		fmt.Fprintf(e.stdout, "no samples in %s\n", dir)
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tCATEGORY\tSEEN\tKEPT\tFIRST SEEN\tLAST SEEN")
	for _, c := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", displaySource(c.Source), c.Category, seenText(c.Seen), c.Kept, timeText(c.FirstSeen), timeText(c.LastSeen))
	}
	tw.Flush()
	return exitOK
}

func displaySource(s string) string {
	if s == "" {
		return mapper.Unrouted
	}
	return s
}

func seenText(n uint64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func samplesShowCommand(dir string) command {
	return command{
		name:  "samples show",
		usage: "samples show --source NAME --category REASON[:FIELD] [-n N] [--json]",
		long:  "Prints the samples of one source and category, payload pretty-printed with the failing fields marked.",
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdSamplesShow{categoryView{
				env:      e,
				fs:       fs,
				d:        fs.String("samples", dir, "directory of kept samples"),
				source:   fs.String("source", "", "the source (required; \"\" for records no source claimed, with --category unknown_source)"),
				category: fs.String("category", "", "the category: reason or reason:field as mapper samples lists it, or clean (required)"),
				n:        fs.Int("n", 0, "show at most N samples (0: all)"),
				asJSON:   fs.Bool("json", false, "print the samples as JSON lines, as stored"),
			}}
		},
	}
}

// categoryView holds the flags of the commands that print one source's
// categories (samples show, samples values), bound to their values once the
// flag set has parsed the arguments. Each command declares them with its
// own help text.
type categoryView struct {
	*env
	fs       *flag.FlagSet
	d        *string
	source   *string
	category *string
	n        *int
	asJSON   *bool
}

// cmdSamplesShow is one invocation of `mapper samples show`.
type cmdSamplesShow struct{ categoryView }

func (c *cmdSamplesShow) run(ctx context.Context, args []string) int {
	if *c.category == "" || len(args) > 0 {
		fmt.Fprintln(c.stderr, "mapper samples show: --category is required and no argument is taken")
		c.fs.Usage()
		return exitUsage
	}
	ss, err := samples.Read(*c.d, *c.source, *c.category)
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper samples show: %v\n", err)
		return exitFailure
	}
	if reason, _, _ := strings.Cut(*c.category, ":"); len(ss) == 0 && *c.category != samples.CleanCategory {
		if _, err := mapper.ParseReason(reason); err != nil {
			fmt.Fprintf(c.stderr, "mapper samples show: --category %q: %v\n", *c.category, err)
			return exitUsage
		}
	}
	if len(ss) == 0 {
		fmt.Fprintf(c.stderr, "mapper samples show: no samples of source %q category %q in %s; `mapper samples --samples %s` lists what there is\n", *c.source, *c.category, *c.d, *c.d)
		return exitFailure
	}
	if *c.n > 0 && len(ss) > *c.n {
		ss = ss[:*c.n]
	}
	for i := range ss {
		if *c.asJSON {
			b, err := json.Marshal(&ss[i])
			if err != nil {
				fmt.Fprintf(c.stderr, "mapper samples show: %v\n", err)
				return exitFailure
			}
			fmt.Fprintf(c.stdout, "%s\n", b)
			continue
		}
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		samples.WriteText(c.stdout, i+1, &ss[i])
	}
	return exitOK
}

func samplesAddCommand(dir string) command {
	return command{
		name:  "samples add",
		usage: "samples add --source NAME [--header K=V]... [--rules DIR] [--schemas DIR] FILE...",
		long: `Maps payloads captured elsewhere with today's rules and keeps them as samples of
their categories. A file holds one JSON payload, or one payload per line (JSON
lines, or any *.jsonl file); a line that is not JSON is kept as a
malformed_payload sample, not dropped. Each category keeps at most
--samples-per-category samples (the first one, then a random sample).
--header K=V (repeatable) gives every payload's record headers, as mapper map
takes them: the source's accept predicates read them (a payload the source
does not accept is kept as unknown_source), and they are kept with the
samples, so replay routes the samples as it routes live ones. Without
--header there is nothing to route by: the payloads are taken as the
source's, and replay maps them so too.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdSamplesAdd{
				env:    e,
				fs:     fs,
				dir:    dir,
				rd:     declareRuleDirs(fs, e),
				sf:     declareSampleFlags(fs, e),
				source: fs.String("source", "", "the source whose rules map the payloads (required)"),
				hf:     declareHeaderFlag(fs),
			}
		},
	}
}

// cmdSamplesAdd is one invocation of `mapper samples add`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdSamplesAdd struct {
	*env
	fs     *flag.FlagSet
	dir    string // the samples directory `mapper samples` was given
	rd     ruleDirs
	sf     *sampleFlags
	source *string
	hf     *[]mapper.Header
}

func (c *cmdSamplesAdd) run(ctx context.Context, files []string) int {
	if !flagGiven(c.fs, "samples") {
		// The directory given to `mapper samples` (flag or
		// MAPPER_SAMPLES) unless add names its own.
		*c.sf.dir = c.dir
	}
	if *c.source == "" || len(files) == 0 {
		fmt.Fprintln(c.stderr, "mapper samples add: --source and at least one FILE are required")
		c.fs.Usage()
		return exitUsage
	}
	eng, err := c.rd.load()
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper samples add: %v\n", err)
		return exitFailure
	}
	src := eng.Source(*c.source)
	if src == nil {
		fmt.Fprintf(c.stderr, "mapper samples add: no source %q in %s (sources: %s)\n", *c.source, *c.rd.rules, sourceNames(eng))
		return exitFailure
	}
	var payloads []samples.Payload
	for _, f := range files {
		ps, err := samples.ReadPayloads(f)
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper samples add: %v\n", err)
			return exitFailure
		}
		payloads = append(payloads, ps...)
	}
	opts := c.sf.options()
	opts.OnError = observe.ReportOnce(nil, c.stderr)
	st, err := observe.NewSampleStore(*c.sf.dir, opts)
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper samples add: %v\n", err)
		return exitFailure
	}
	vals, err := observe.NewValueProfiler(*c.sf.dir, nil, observe.ReportOnce(nil, c.stderr))
	if err != nil {
		_ = st.Close()
		fmt.Fprintf(c.stderr, "mapper samples add: %v\n", err)
		return exitFailure
	}
	counts := map[string]uint64{}
	var m mapper.Mapper
	var res mapper.Result
	bar := progress.New(c.stderr, int64(len(payloads)), "keeping samples of "+src.Name())
	for _, p := range payloads {
		bar.Add(1)
		if len(*c.hf) > 0 {
			m.MapRecord(src, *c.hf, p.Data, &res)
		} else {
			m.Map(src, p.Data, &res) // nothing to route by: the payloads are the source's
		}
		st.Add(src, *c.hf, p.Data, &res, p.Ref)
		vals.Observe(nil, src, p.Data, &res, 0)
		if len(res.Failures) == 0 {
			counts[samples.CleanCategory]++
		}
		for _, f := range res.Failures {
			counts[f.Category().String()]++
		}
	}
	bar.Finish()
	if err := errors.Join(st.Close(), vals.Close()); err != nil {
		fmt.Fprintf(c.stderr, "mapper samples add: %v\n", err)
		return exitFailure
	}
	stats := st.Stats()
	if err := printAdded(c.stdout, *c.sf.dir, src, len(payloads), len(files), counts); err != nil {
		fmt.Fprintf(c.stderr, "mapper samples add: %v\n", err)
		return exitFailure
	}
	if stats.Dropped > 0 || stats.TooLarge > 0 {
		fmt.Fprintf(c.stderr, "mapper samples add: %d payloads not kept (%d too large)\n", stats.Dropped+stats.TooLarge, stats.TooLarge)
		return exitFailure
	}
	return exitOK
}

func sourceNames(e *mapper.Engine) string {
	var names []string
	for _, s := range e.Sources() {
		names = append(names, s.Name())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

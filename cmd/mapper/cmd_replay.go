package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/mapperhq/mapper/internal/progress"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/observe"
	"github.com/mapperhq/mapper/mapper/registry"
	"github.com/mapperhq/mapper/mapper/replay"
	"github.com/mapperhq/mapper/mapper/replay/dlq"
	"github.com/mapperhq/mapper/mapper/samples"
)

func replayCommand() command {
	return command{
		name:  "replay",
		usage: "replay [--samples DIR | --samples-topic T] [--rules DIR] [--source NAME] [--json] [--show N] [--sort impact|name] | replay --source NAME [--baseline-rules DIR] [--baseline-schemas DIR] [--rules DIR] [--show N] --input FILE... | replay --from-topic DLQ_TOPIC --brokers HOST:PORT [--since T] [--until T] [--redrive] [--schema-registry URL --output-topic T]",
		short: "run kept samples (or a dead-letter topic) through today's rules: what a change fixes and breaks",
		long: `
Runs every kept sample through the rules in --rules and reports, per source and
category: samples, now mapped, still failing the same way, failing differently,
and newly failing (a regression: a record delivered before, clean samples
included, that is rejected now); plus each source's mapped ratio before and
after against its objective. Exit status 1 when anything is newly failing, so a
CI job can gate rule changes; 0 otherwise.

Samples stand for more records than they are: with the store's counts, each
category's projected records now mapped and newly failing carry a Wilson score
95% interval, and the mapped ratio after the change an interval summing those
of the categories that changed. Where a category has a value profile (see
mapper samples values), every profiled value is replayed with its count, which
projects an enum, layout or type fix exactly. Categories are listed by impact
(--sort name for alphabetical order).

With --input, replay is exact instead: every payload of the files (one JSON
payload per *.json file, one per line in JSON-lines files) is mapped with the
rules in --baseline-rules (default: the version of the source's rule file that
the samples in --samples were captured with, found in the rule file's git
history) on the schemas in --baseline-schemas (default: --schemas), and with
those in --rules on --schemas, on every core, and each category shows the
records before and after and the verdict of each record (now_mapped,
newly_failing, failing_differently, output_changed, same). --show N prints up
to N records per changed verdict, where they are in the files, with the
failures and output of both and their diff, masked with the redact paths of
both rule sets. Put --input last: every argument after it is an input file too.

With --from-topic the records come from a dead-letter topic instead, read from
--start-offset/--since up to --end-offset/--until (and never past the end
offsets when the read starts). With --redrive, the ones that map now are
re-published to the input topic they came from (original key, value and
headers, plus mapper.redriven_from), for the running worker to deliver.

With --schema-registry (as the worker runs), input values in the Confluent
wire format (a dead letter or a capture of framed records) are unframed
before mapping, as the worker does; a redrive re-publishes them framed, as
they came. And each output schema of --rules is checked against the
registry as mapper check does (subjects derived from --output-topic by
--subject-strategy; nothing is registered): an incompatible one is a line
quoting the registry's answer, nothing is redriven, and the exit status is 1.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			c := &cmdReplay{
				env:          e,
				rd:           declareRuleDirs(fs, e),
				dir:          declareSamplesDir(fs, e),
				source:       stringFlag(fs, e, "source", "", "replay only this source's samples"),
				asJSON:       boolFlag(fs, e, "json", false, "print the report as JSON"),
				show:         intFlag(fs, e, "show", 0, "print N examples per changed category (with --input: per changed verdict), with the diff of before and after"),
				fromTopic:    stringFlag(fs, e, "from-topic", "", "replay the records of this dead-letter topic instead of the samples"),
				conn:         kafkaconn.Register(fs, "localhost:9092"),
				since:        stringFlag(fs, e, "since", "", "with --from-topic: skip records dead-lettered before this time (RFC 3339, or a duration ago like 24h)"),
				until:        stringFlag(fs, e, "until", "", "with --from-topic: stop at records dead-lettered after this time (RFC 3339, or a duration ago)"),
				startOffset:  intFlag(fs, e, "start-offset", 0, "with --from-topic: first offset read in each partition"),
				endOffset:    intFlag(fs, e, "end-offset", 0, "with --from-topic: offset (exclusive) where each partition stops; 0 means its end"),
				redrive:      boolFlag(fs, e, "redrive", false, "with --from-topic: re-publish the records that map now to their origin topic"),
				redriveGroup: stringFlag(fs, e, "redrive-group", "mapper-redrive", "with --redrive: consumer group whose offsets on the dead-letter topic mark what was redriven, so a second redrive publishes nothing again; a new name starts afresh"),
				sortBy:       declareSortFlag(fs, e),
				baseline:     stringFlag(fs, e, "baseline-rules", "", "with --input: the rules directory to compare with (default: the version of the rule file the samples were captured with, from git history)"),
				baseSchemas:  stringFlag(fs, e, "baseline-schemas", "", "with --input: the schemas directory the baseline rules run on (default: --schemas), so that a schema change shows in BEFORE"),
				reg:          registry.Register(fs),
				output:       stringFlag(fs, e, "output-topic", "", "with --schema-registry: the output topic the worker writes (the subjects derive from it)"),
				samplesTopic: declareSamplesTopic(fs, e, "replay the samples a group of workers shares through this samples topic, read directly, instead of --samples"),
			}
			fs.Func("input", "replay every payload of this file exactly (repeatable; files after it are inputs too)", func(v string) error {
				c.inputs = append(c.inputs, v)
				return nil
			})
			return c
		},
	}
}

// cmdReplay is one invocation of `mapper replay`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdReplay struct {
	*env
	rd           ruleDirs
	dir          *string
	source       *string
	asJSON       *bool
	show         *int
	fromTopic    *string
	conn         *kafkaconn.Flags
	since        *string
	until        *string
	startOffset  *int
	endOffset    *int
	redrive      *bool
	redriveGroup *string
	sortBy       *string
	baseline     *string
	baseSchemas  *string
	samplesTopic *string
	reg          *registry.Flags
	output       *string
	inputs       []string // --input files, in the order given
}

func (c *cmdReplay) run(ctx context.Context, args []string) int {
	if *c.sortBy != sortImpact && *c.sortBy != sortName {
		fmt.Fprintf(c.stderr, "mapper replay: --sort is %q; want impact or name\n", *c.sortBy)
		return exitUsage
	}
	if *c.show < 0 {
		fmt.Fprintln(c.stderr, "mapper replay: --show must not be negative")
		return exitUsage
	}
	if len(c.inputs) > 0 {
		if *c.fromTopic != "" {
			fmt.Fprintln(c.stderr, "mapper replay: --input and --from-topic exclude each other")
			return exitUsage
		}
		return exactReplay(ctx, c.env, exactArgs{rd: c.rd, baselineDir: *c.baseline, baselineSchemas: *c.baseSchemas,
			samplesDir: *c.dir, source: *c.source, files: append(c.inputs, args...), asJSON: *c.asJSON, sortBy: *c.sortBy, show: *c.show,
			gate: c.gate, unframe: c.reg.Enabled()})
	}
	if *c.baseline != "" || *c.baseSchemas != "" {
		fmt.Fprintln(c.stderr, "mapper replay: --baseline-rules and --baseline-schemas need --input")
		return exitUsage
	}
	if len(args) > 0 {
		fmt.Fprintf(c.stderr, "mapper replay: unexpected argument %q\n", args[0])
		return exitUsage
	}
	if *c.fromTopic != "" && *c.samplesTopic != "" {
		fmt.Fprintln(c.stderr, "mapper replay: --from-topic and --samples-topic are two different inputs: give one")
		return exitUsage
	}
	if *c.fromTopic == "" && (*c.redrive || *c.since != "" || *c.until != "" || *c.startOffset != 0 || *c.endOffset != 0) {
		fmt.Fprintln(c.stderr, "mapper replay: --redrive, --since, --until, --start-offset and --end-offset need --from-topic")
		return exitUsage
	}
	eng, err := c.rd.load()
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper replay: %v\n", err)
		return exitFailure
	}
	if *c.source != "" && eng.Source(*c.source) == nil {
		fmt.Fprintf(c.stderr, "mapper replay: no source %q in %s (sources: %s)\n", *c.source, *c.rd.rules, sourceNames(eng))
		return exitFailure
	}
	gate, refused := c.gate(ctx, eng)
	if gate != exitOK && !refused {
		return gate
	}
	opts := replay.Options{Source: *c.source, Show: *c.show, Sort: *c.sortBy}
	var in []samples.Sample
	var recs []dlq.Record
	var kafka kafkaconn.Config
	if *c.fromTopic != "" {
		now := time.Now()
		b := dlq.Bounds{StartOffset: int64(*c.startOffset), EndOffset: int64(*c.endOffset)}
		if b.Since, err = parseWhen(*c.since, now); err == nil {
			b.Until, err = parseWhen(*c.until, now)
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper replay: %v\n", err)
			return exitUsage
		}
		kc, problems := c.conn.Config()
		if len(problems) > 0 {
			return reportProblems(c.env, "replay", problems)
		}
		kafka = kc
		bar := progress.New(c.stderr, -1, "reading "+*c.fromTopic)
		recs, err = dlq.Read(ctx, dlq.Config{Kafka: kafka, Topic: *c.fromTopic, Bounds: b, Progress: bar.Add})
		bar.Finish()
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper replay: %v\n", err)
			return exitFailure
		}
		for i := range recs {
			in = append(in, recs[i].Sample())
		}
		fmt.Fprintf(c.stderr, "mapper replay: read %d records of %s (%s)\n", len(recs), *c.fromTopic, dlq.Summary(recs))
	} else if *c.samplesTopic != "" {
		kc, problems := c.conn.Config()
		if len(problems) > 0 {
			return reportProblems(c.env, "replay", problems)
		}
		snap, err := pullSamples(ctx, c.env, "replay", observe.Shared{Kafka: kc, Topic: *c.samplesTopic})
		if err == nil {
			in, err = snap.Samples()
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper replay: %v\n", err)
			return exitFailure
		}
		opts.Counts = snap.Counts()
		opts.Profiles = snap.Profile
		fmt.Fprintf(c.stderr, "mapper replay: read %d samples of %s\n", len(in), *c.samplesTopic)
	} else {
		in, err = samples.ReadDir(*c.dir)
		if err == nil {
			opts.Counts, err = samples.Counts(*c.dir)
		}
		opts.Profiles = profilesIn(*c.dir, c.env)
		if err != nil {
			if errors.Is(err, samples.ErrNotSamples) {
				fmt.Fprintf(c.stderr, "mapper replay: no samples in %s: run `mapper demo` or `mapper run` to keep some, or `mapper samples add`\n", *c.dir)
			} else {
				fmt.Fprintf(c.stderr, "mapper replay: %v\n", err)
			}
			return exitFailure
		}
	}
	if c.reg.Enabled() {
		// As the worker does: a framed value is mapped as its payload.
		for i := range in {
			in[i].PayloadBase64, _ = registry.Unframe(in[i].PayloadBase64)
		}
	}
	var redo []dlq.Record
	bar := progress.New(c.stderr, int64(len(in)), "replaying")
	opts.Each = func(i int, v replay.Verdict, after *mapper.Result) {
		bar.Add(1)
		if *c.redrive && after.Outcome.Delivered() {
			redo = append(redo, recs[i])
		}
	}
	rep, err := replay.Run(ctx, eng, in, opts)
	bar.Finish()
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper replay: %v\n", err)
		return exitFailure
	}
	if *c.asJSON {
		err = rep.WriteJSON(c.stdout)
	} else {
		err = rep.WriteText(c.stdout)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper replay: %v\n", err)
		return exitFailure
	}
	if *c.redrive && refused {
		fmt.Fprintln(c.stderr, "mapper replay: nothing redriven: the rules' output schemas are refused by the schema registry")
	} else if *c.redrive {
		res, err := dlq.Redrive(ctx, dlq.RedriveConfig{Kafka: kafka, Group: *c.redriveGroup}, redo)
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper replay: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(c.stderr, "mapper replay: redrove %d of %d records to their origin topics (%d skipped: redriven before, per group %s)\n",
			res.Published, len(recs), res.Skipped, *c.redriveGroup)
	}
	if rep.Regressed() || refused {
		return exitFailure
	}
	return exitOK
}

// gate checks eng's output schemas against the registry when
// --schema-registry is given, as mapper check does: the exit status, and
// whether the registry refused a schema (false when it could not be
// asked: then the status says why replay stops).
func (c *cmdReplay) gate(ctx context.Context, eng *mapper.Engine) (code int, refused bool) {
	if !c.reg.Enabled() {
		return exitOK, false
	}
	kc, problems := c.conn.Config()
	if len(problems) > 0 {
		return reportProblems(c.env, "replay", problems), false
	}
	return gateOnRegistry(ctx, c.env, "replay", c.reg, *c.output, kc.WithDefaults().ConnectTimeout, eng, c.stderr)
}

// parseWhen reads a time flag: RFC 3339, or a duration meaning that long
// before now. Empty is the zero time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-01-02T15:04:05Z) nor a duration ago (24h)", s)
}

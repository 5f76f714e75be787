package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	mapperfiles "github.com/mapperhq/mapper"
	"github.com/mapperhq/mapper/internal/progress"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/demo"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/registry"
	"github.com/mapperhq/mapper/mapper/samples"
	"github.com/mapperhq/mapper/mapper/stream"
)

func demoCommand() command {
	return command{
		name:  "demo",
		usage: "demo [--rate N] [--duration D] [flags]",
		short: "run the worker on an embedded Kafka broker fed from the fixtures, with a live summary",
		long: `Demo starts a Kafka-protocol broker inside the process, creates the rules' input
topics and the output and dead-letter topics, produces the fixtures into the
input topics at a steady rate and runs the same worker as mapper run on them,
showing outcomes and the top failure categories live. Nothing to set up.

It uses the rules, schemas and fixtures built into the binary unless --rules,
--schemas or --fixtures (or their MAPPER_* variables) name directories.
Ctrl-C stops it cleanly.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdDemo{
				env:        e,
				fs:         fs,
				dirs:       declareRuleDirs(fs, e),
				fixtures:   stringFlag(fs, e, "fixtures", "", "directory of fixtures/<source>/*.json|*.jsonl; empty means the built-in ones"),
				rate:       intFlag(fs, e, "rate", 100, "records produced per second"),
				duration:   stringFlag(fs, e, "duration", "0", "stop after this long (like 30s); 0 runs until Ctrl-C"),
				refresh:    stringFlag(fs, e, "refresh", "1s", "how often the summary is redrawn"),
				partitions: intFlag(fs, e, "partitions", 3, "partitions of every demo topic"),
				connect:    durationFlag(fs, e, "connect-timeout", 10*time.Second, "with --schema-registry: how long start-up keeps trying a registry that does not answer before it gives up (exit 1)"),
				wf:         declareWorkerFlags(fs, e, "127.0.0.1:0", "warn"),
			}
		},
	}
}

// cmdDemo is one invocation of `mapper demo`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdDemo struct {
	*env
	fs         *flag.FlagSet
	dirs       ruleDirs
	fixtures   *string
	rate       *int
	duration   *string
	refresh    *string
	partitions *int
	connect    *time.Duration
	wf         *workerFlags
}

func (c *cmdDemo) run(ctx context.Context, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(c.stderr, "mapper demo: unexpected arguments %q\n", args)
		return exitUsage
	}
	explicit := map[string]bool{}
	// Set on the command line, by MAPPER_* or by --config.
	c.fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	var cfg stream.Config
	var problems []string
	c.wf.apply(&cfg, &problems)
	dur, err := time.ParseDuration(*c.duration)
	if err != nil || dur < 0 {
		problems = append(problems, fmt.Sprintf("--duration %q: want a duration like 30s, or 0", *c.duration))
	}
	every, err := time.ParseDuration(*c.refresh)
	if err != nil || every <= 0 {
		problems = append(problems, fmt.Sprintf("--refresh %q: want a positive duration like 1s", *c.refresh))
	}
	if *c.rate <= 0 {
		problems = append(problems, fmt.Sprintf("--rate %d: must be 1 or more", *c.rate))
	}
	if *c.partitions <= 0 {
		problems = append(problems, fmt.Sprintf("--partitions %d: must be 1 or more", *c.partitions))
	}
	rs := demoRuleSources(c.dirs, explicit["rules"] || explicit["schemas"])
	eng, err := rs.live()
	if err != nil {
		problems = append(problems, loadProblems(err)...)
	}
	if len(problems) > 0 {
		return reportProblems(c.env, "demo", problems)
	}
	fixFS := mapperfiles.Fixtures()
	if *c.fixtures != "" {
		fixFS = os.DirFS(*c.fixtures)
	}
	fx, unclaimed, err := demo.LoadFixtures(fixFS, eng)
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper demo: %v\n", err)
		return exitFailure
	}

	const output, dlq = "mapper.demo.output", "mapper.demo.dead-letter"
	broker, err := demo.StartBroker(eng, *c.partitions, output, dlq)
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper demo: %v\n", err)
		return exitFailure
	}
	defer broker.Close()
	addr := broker.ListenAddrs()[0]

	cfg.Kafka = kafkaconn.Config{Brokers: []string{addr}, ConnectTimeout: *c.connect}
	cfg.GroupID = "mapper-demo"
	cfg.OutputTopic, cfg.DeadLetterTopic = output, dlq
	cfg.Engine = eng
	cfg.Topics = demo.Topics(eng)
	cfg.HeartbeatInterval = time.Second
	cfg.JoinGroupBackoff = 200 * time.Millisecond
	logger := c.wf.log.logger(c.stderr)
	sw, code := newWorker(ctx, c.env, "demo", c.wf, cfg, rs, logger)
	if sw == nil {
		return code
	}
	statusURL := ""
	if sw.listener != nil {
		statusURL = "http://" + sw.listener.Addr().String() + "/"
	}
	fmt.Fprintf(c.stdout, "embedded broker on %s; producing %d records/s from the fixtures of %d sources into %v\n",
		addr, *c.rate, len(fx), cfg.Topics)
	demo.WriteTopics(c.stdout, eng, cfg.Topics)
	if sw.registry != nil {
		writeRegistryBindings(c.stdout, output, sw.registry)
	}

	runCtx := ctx
	if dur > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, dur)
		defer cancel()
	}
	pw := cfg.Kafka.Writer(nil, "")
	pw.Balancer, pw.BatchTimeout, pw.BatchSize = &kafka.Hash{}, 5*time.Millisecond, 1000
	prod := demo.NewProducer(pw, fx, unclaimed, float64(*c.rate))
	defer pw.Close()

	start := time.Now()
	tty := progress.IsTerminal(c.stdout)
	draw := func() {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		lags, lagErr := sw.w.Lag(lctx)
		cancel()
		var lag int64
		for _, l := range lags {
			lag += l.Lag
		}
		if tty {
			fmt.Fprint(c.stdout, "\033[H\033[2J")
		} else {
			fmt.Fprintln(c.stdout, "----")
		}
		demo.WriteSummary(c.stdout, eng, time.Since(start), prod.Produced(), sw.w.Counts(8), lag, lagErr, statusURL)
		writeReleaseSummary(c.stdout, sw.release.Status())
	}

	// Either side ending early (the producer failing, the worker
	// stopping) stops the other and the summary.
	g, gctx := errgroup.WithContext(runCtx)
	var prodErr, runErr error
	g.Go(func() error { prodErr = prod.Run(gctx); return prodErr })
	g.Go(func() error {
		if runErr = sw.run(gctx); runErr == nil && gctx.Err() == nil {
			return errors.New("worker stopped")
		}
		return runErr
	})
	t := time.NewTicker(every)
loop:
	for {
		select {
		case <-gctx.Done():
			break loop
		case <-t.C:
			draw()
		}
	}
	t.Stop()
	fmt.Fprintln(c.stdout, "\nstopping: delivering and committing what is in flight…")
	_ = g.Wait()
	draw()
	if prodErr != nil {
		fmt.Fprintf(c.stderr, "mapper demo: %v\n", prodErr)
		return exitFailure
	}
	if runErr != nil {
		fmt.Fprintf(c.stderr, "mapper demo: %v\n", runErr)
		return exitFailure
	}
	fmt.Fprintln(c.stdout, "stopped cleanly")
	writeNextSteps(c.stdout, *c.wf.observers.samples.dir, *c.wf.observers.noSamples)
	return exitOK
}

// writeRegistryBindings says which subject, version and schema id each
// source's output records are framed with.
func writeRegistryBindings(out io.Writer, topic string, reg *registry.Client) {
	fmt.Fprintf(out, "  topic %s: records in the wire format of schema registry %s\n", topic, reg.URL())
	for _, b := range reg.Bindings() {
		who := b.Source
		if b.Candidate {
			who = "candidate " + b.Source
		}
		if b.SchemaID == 0 {
			fmt.Fprintf(out, "    %s: %s compatible with subject %s (shadow: not registered)\n", who, b.Schema, b.Subject)
			continue
		}
		fmt.Fprintf(out, "    %s: %s as subject %s version %d, schema id %d\n", who, b.Schema, b.Subject, b.Version, b.SchemaID)
	}
}

// writeNextSteps ends the demo's last screen with where the samples are
// and the commands to run next.
func writeNextSteps(out io.Writer, dir string, noSamples bool) {
	if noSamples {
		fmt.Fprintln(out, "\nno samples kept (--no-samples); run the demo without it to keep samples for `mapper samples` and `mapper replay`")
		return
	}
	flagText := ""
	if dir != "samples" {
		flagText = " --samples " + dir
	}
	list, err := samples.List(dir)
	if err != nil || len(list) == 0 {
		fmt.Fprintf(out, "\nno samples written to %s yet\n", dir)
		return
	}
	fmt.Fprintf(out, "\nsamples of %d categories kept in %s/\nnext:\n", len(list), strings.TrimSuffix(dir, "/"))
	fmt.Fprintf(out, "  mapper samples%s                  # what failed, by source and category\n", flagText)
	if src := mostFailing(list); src != "" {
		fmt.Fprintf(out, "  mapper suggest%s --source %s --out proposed   # fixes from those failures, as candidate rules with tests\n", flagText, src)
	}
	if hasUnrouted(list) {
		fmt.Fprintf(out, "  mapper suggest%s --source unrouted --out started   # starter sources for the records no source accepts\n", flagText)
	}
	fmt.Fprintf(out, "  mapper drift%s                    # how the traffic differs from the input contracts\n", flagText)
	fmt.Fprintf(out, "  mapper replay%s --rules rules     # after editing rules/: what the change fixes and breaks\n", flagText)
}

// mostFailing is the source (not unrouted records) of the failing
// category seen most often, where a fix helps most; "" when none.
func mostFailing(list []samples.CategoryInfo) string {
	best, bestSeen := "", uint64(0)
	for _, c := range list {
		if c.Source == "" || c.Source == mapper.Unrouted || c.Category == samples.CleanCategory {
			continue
		}
		n := max(c.Seen, uint64(c.Kept))
		if best == "" || n > bestSeen || (n == bestSeen && c.Source < best) {
			best, bestSeen = c.Source, n
		}
	}
	return best
}

// hasUnrouted reports whether records no source accepts were kept.
func hasUnrouted(list []samples.CategoryInfo) bool {
	for _, c := range list {
		if (c.Source == "" || c.Source == mapper.Unrouted) && c.Category == string(mapper.ReasonUnknownSource) {
			return true
		}
	}
	return false
}

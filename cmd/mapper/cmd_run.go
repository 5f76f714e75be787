package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/observe"
	"github.com/mapperhq/mapper/mapper/stream"
)

func runCommand() command {
	return command{
		name:  "run",
		usage: "run --brokers HOST:PORT[,…] --output-topic T --dlq-topic T [flags]",
		short: "consume the rules' input topics, map every record, write the output and dead-letter topics",
		long: `Run joins a Kafka consumer group on the topics the rule files claim (or --topics),
maps every record, writes mapped and degraded records to --output-topic and the
original bytes of rejected ones to --dlq-topic, and commits offsets only after
those writes are acknowledged (at-least-once: nothing is lost, a record may come
twice after a crash or rebalance).

The first SIGINT/SIGTERM stops fetching and delivers and commits what is in
flight within --shutdown-timeout; a second one exits at once.

SIGHUP (or a change seen by --watch-rules) reloads the rules between two
batches of records; rules with problems are refused and the running ones stay.
--candidate-rules tries other rules beside them, in shadow or as a canary,
and --max-reject-ratio pauses a source whose records are suddenly rejected.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdRunWorker{
				env:          e,
				dirs:         declareRuleDirs(fs, e),
				conn:         kafkaconn.Register(fs, "localhost:9092"),
				group:        stringFlag(fs, e, "group", "mapper", "consumer group id"),
				topics:       stringFlag(fs, e, "topics", "", "comma-separated input topics; empty means every topic the rules claim"),
				output:       stringFlag(fs, e, "output-topic", "", "topic for mapped and degraded records (required)"),
				dlq:          stringFlag(fs, e, "dlq-topic", "", "dead-letter topic for rejected records (required)"),
				wf:           declareWorkerFlags(fs, e, "127.0.0.1:8080", "info"),
				samplesTopic: declareSamplesTopic(fs, e, "compacted topic the group shares samples, counts and announced Sentry categories through (with --samples, this worker's own copy); empty means local samples only"),
			}
		},
	}
}

// cmdRunWorker is one invocation of `mapper run`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdRunWorker struct {
	*env
	dirs         ruleDirs
	conn         *kafkaconn.Flags
	group        *string
	topics       *string
	output       *string
	dlq          *string
	wf           *workerFlags
	samplesTopic *string
}

func (c *cmdRunWorker) run(ctx context.Context, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(c.stderr, "mapper run: unexpected arguments %q\n", args)
		return exitUsage
	}
	// Every problem of the flags, the environment and the rules
	// is listed before anything starts.
	kc, problems := c.conn.Config()
	cfg := stream.Config{
		Kafka: kc, GroupID: *c.group, Topics: splitList(*c.topics),
		OutputTopic: *c.output, DeadLetterTopic: *c.dlq,
	}
	c.wf.apply(&cfg, &problems)
	if *c.output == "" {
		problems = append(problems, "no output topic given (--output-topic or MAPPER_OUTPUT_TOPIC)")
	}
	if *c.dlq == "" {
		problems = append(problems, "no dead-letter topic given (--dlq-topic or MAPPER_DLQ_TOPIC)")
	}
	if *c.samplesTopic != "" {
		c.wf.observers.shared = &observe.Shared{Kafka: kc, Topic: *c.samplesTopic}
	}
	eng, err := c.dirs.load()
	if err != nil {
		problems = append(problems, loadProblems(err)...)
	}
	cfg.Engine = eng
	if len(problems) == 0 {
		problems = configProblems(cfg)
	}
	if len(problems) > 0 {
		return reportProblems(c.env, "run", problems)
	}
	logger := c.wf.log.logger(c.stderr)
	sw, code := newWorker(ctx, c.env, "run", c.wf, cfg, dirRuleSources(c.dirs), logger)
	if sw == nil {
		return code
	}
	if err := sw.run(ctx); err != nil {
		return c.wf.failed(c.env, logger, "run", err)
	}
	return exitOK
}

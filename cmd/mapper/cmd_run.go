package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/mapperhq/mapper/mapper/kafkaconn"
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
		setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) int {
			dirs := declareRuleDirs(fs, e)
			conn := kafkaconn.Register(fs, e.getenv, "localhost:9092")
			group := stringFlag(fs, e, "group", "mapper", "consumer group id")
			topics := stringFlag(fs, e, "topics", "", "comma-separated input topics; empty means every topic the rules claim")
			output := stringFlag(fs, e, "output-topic", "", "topic for mapped and degraded records (required)")
			dlq := stringFlag(fs, e, "dlq-topic", "", "dead-letter topic for rejected records (required)")
			wf := declareWorkerFlags(fs, e, ":8080")
			samplesTopic := declareSamplesTopic(fs, e, "compacted topic the group shares samples, counts and announced Sentry categories through (with --samples, this worker's own copy); empty means local samples only")
			return func(ctx context.Context, args []string) int {
				if len(args) > 0 {
					fmt.Fprintf(e.stderr, "mapper run: unexpected arguments %q\n", args)
					return exitUsage
				}
				kc, problems := conn.Config()
				cfg := stream.Config{
					Kafka: kc, GroupID: *group, Topics: splitList(*topics),
					OutputTopic: *output, DeadLetterTopic: *dlq,
				}
				wf.apply(&cfg, &problems)
				if len(problems) > 0 {
					return reportProblems(e, "run", problems)
				}
				if *samplesTopic != "" {
					wf.observers.shared = &sharedSamplesSettings{kafka: kc, topic: *samplesTopic}
				}
				eng, err := dirs.load()
				if err != nil {
					fmt.Fprintf(e.stderr, "mapper run: %v\n", err)
					return exitFailure
				}
				cfg.Engine = eng
				logger := slog.New(slog.NewTextHandler(e.stderr, nil))
				sw, code := newWorker(ctx, e, "run", wf, cfg, dirRuleSources(dirs), logger)
				if sw == nil {
					return code
				}
				if err := sw.run(ctx); err != nil {
					fmt.Fprintf(e.stderr, "mapper run: %v\n", err)
					return exitFailure
				}
				return exitOK
			}
		},
	}
}

package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

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
flight within --shutdown-timeout; a second one exits at once.`,
		setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) int {
			dirs := declareRuleDirs(fs, e)
			brokers := stringFlag(fs, e, "brokers", "localhost:9092", "comma-separated bootstrap brokers")
			group := stringFlag(fs, e, "group", "mapper", "consumer group id")
			topics := stringFlag(fs, e, "topics", "", "comma-separated input topics; empty means every topic the rules claim")
			output := stringFlag(fs, e, "output-topic", "", "topic for mapped and degraded records (required)")
			dlq := stringFlag(fs, e, "dlq-topic", "", "dead-letter topic for rejected records (required)")
			clientID := stringFlag(fs, e, "client-id", "mapper", "client id sent to the brokers")
			useTLS := boolFlag(fs, e, "tls", false, "connect with TLS (implied by the other --tls-* flags)")
			tlsCA := stringFlag(fs, e, "tls-ca", "", "PEM file of the CA that signs the brokers' certificates (default: system roots)")
			tlsCert := stringFlag(fs, e, "tls-cert", "", "PEM client certificate (with --tls-key)")
			tlsKey := stringFlag(fs, e, "tls-key", "", "PEM client key (with --tls-cert)")
			tlsSkip := boolFlag(fs, e, "tls-skip-verify", false, "do not verify the brokers' certificates (tests only)")
			saslMech := stringFlag(fs, e, "sasl-mechanism", "", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty means no SASL")
			saslUser := stringFlag(fs, e, "sasl-user", "", "SASL user")
			saslPass := stringFlag(fs, e, "sasl-password", "", "SASL password (prefer the env variable to the flag)")
			wf := declareWorkerFlags(fs, e, ":8080")
			return func(ctx context.Context, args []string) int {
				if len(args) > 0 {
					fmt.Fprintf(e.stderr, "mapper run: unexpected arguments %q\n", args)
					return exitUsage
				}
				cfg := stream.Config{
					Brokers: splitList(*brokers), GroupID: *group, Topics: splitList(*topics),
					OutputTopic: *output, DeadLetterTopic: *dlq, ClientID: *clientID,
				}
				var problems []string
				wf.apply(&cfg, &problems)
				if *useTLS || *tlsCA != "" || *tlsCert != "" || *tlsKey != "" || *tlsSkip {
					tc, err := stream.TLSConfig(*tlsCA, *tlsCert, *tlsKey, *tlsSkip)
					if err != nil {
						problems = append(problems, err.Error())
					}
					cfg.TLS = tc
				}
				mech, err := stream.SASLMechanism(*saslMech, *saslUser, *saslPass)
				if err != nil {
					problems = append(problems, err.Error())
				}
				cfg.SASL = mech
				if len(problems) > 0 {
					return reportProblems(e, "run", problems)
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

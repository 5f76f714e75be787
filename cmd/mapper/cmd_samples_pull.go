package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/mapperhq/mapper/mapper/kafkaconn"
)

func samplesPullCommand(dir string) command {
	return command{
		name:  "samples pull",
		usage: "samples pull --samples-topic T [--brokers HOST:PORT[,…]] [--samples DIR]",
		long: `Reads the samples topic that a group of workers (mapper run --samples-topic)
shares and writes it as a samples directory: every category's samples (at most
K per category across all workers) and the counts summed over the workers, so
that mapper samples, samples show, samples values, replay and suggest work on
the whole group's view. DIR must be new, empty, or pulled before (then it is
replaced).`,
		setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) int {
			d := fs.String("samples", dir, "directory to write the samples into (env MAPPER_SAMPLES)")
			topic := declareSamplesTopic(fs, e, "the samples topic to pull (required)")
			conn := kafkaconn.Register(fs, e.getenv, "localhost:9092")
			return func(ctx context.Context, args []string) int {
				if len(args) > 0 {
					fmt.Fprintf(e.stderr, "mapper samples pull: unexpected argument %q\n", args[0])
					return exitUsage
				}
				kc, problems := conn.Config()
				if *topic == "" {
					problems = append(problems, "--samples-topic: no samples topic given")
				}
				if len(problems) > 0 {
					return reportProblems(e, "samples pull", problems)
				}
				snap, err := pullSamples(ctx, e, "samples pull", sharedSamplesSettings{kafka: kc, topic: *topic})
				if err != nil {
					fmt.Fprintf(e.stderr, "mapper samples pull: %v\n", err)
					return exitFailure
				}
				files, err := snap.WriteDir(*d)
				if err != nil {
					fmt.Fprintf(e.stderr, "mapper samples pull: %v\n", err)
					return exitFailure
				}
				var seen uint64
				for _, s := range snap.Index().Sources {
					seen += s.Records
				}
				fmt.Fprintf(e.stdout, "pulled %s into %s: %d samples of %d categories; %d records seen by %d workers (%d topic records read)\n",
					*topic, *d, snap.Kept(), files, seen, snap.Workers(), snap.Records)
				return exitOK
			}
		},
	}
}

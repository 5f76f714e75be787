package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/observe"
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
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdSamplesPull{
				env:   e,
				d:     fs.String("samples", dir, "directory to write the samples into"),
				topic: declareSamplesTopic(fs, e, "the samples topic to pull (required)"),
				conn:  kafkaconn.Register(fs, "localhost:9092"),
			}
		},
	}
}

// cmdSamplesPull is one invocation of `mapper samples pull`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdSamplesPull struct {
	*env
	d     *string
	topic *string
	conn  *kafkaconn.Flags
}

func (c *cmdSamplesPull) run(ctx context.Context, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(c.stderr, "mapper samples pull: unexpected argument %q\n", args[0])
		return exitUsage
	}
	kc, problems := c.conn.Config()
	if *c.topic == "" {
		problems = append(problems, "--samples-topic: no samples topic given")
	}
	if len(problems) > 0 {
		return reportProblems(c.env, "samples pull", problems)
	}
	snap, err := pullSamples(ctx, c.env, "samples pull", observe.Shared{Kafka: kc, Topic: *c.topic})
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper samples pull: %v\n", err)
		return exitFailure
	}
	files, err := snap.WriteDir(*c.d)
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper samples pull: %v\n", err)
		return exitFailure
	}
	var seen uint64
	for _, s := range snap.Index().Sources {
		seen += s.Records
	}
	fmt.Fprintf(c.stdout, "pulled %s into %s: %d samples of %d categories; %d records seen by %d workers (%d topic records read)\n",
		*c.topic, *c.d, snap.Kept(), files, seen, snap.Workers(), snap.Records)
	return exitOK
}

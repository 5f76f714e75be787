package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/registry"
	"github.com/mapperhq/mapper/mapper/tap"
)

func tapCommand() command {
	return command{
		name:  "tap",
		usage: "tap --topic T [--from-beginning] [--outcome O[,O]] [--category REASON[:FIELD]] [--json] [--max N] [flags]",
		short: "follow an output or dead-letter topic and print its records with the mapper.* headers decoded",
		long: `Tap follows a topic the worker writes and prints each record with its mapper.*
headers decoded: source and rules version, outcome, failures with their details,
and where the input record was read. It starts at the end of every partition
(--from-beginning: at the start), joins no consumer group and commits nothing.

Values are masked with the redact paths of the record's source (--rules): a
dead letter's value is the original payload, an output value the domain record
(its fields read from redacted paths are masked). The values of records no
source claimed are withheld.

A value in the Confluent wire format (the worker's output with
--schema-registry) is shown as its payload with its schema id; with
--schema-registry, tap also says which subject and version the id is.

--outcome keeps records with these outcomes; --category keeps records with a
failure of this category (reason:field, or a reason for every field). --json
prints one JSON object a line. Ctrl-C stops it.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdTap{
				env:       e,
				dirs:      declareRuleDirs(fs, e),
				conn:      kafkaconn.Register(fs, "localhost:9092"),
				topic:     stringFlag(fs, e, "topic", "", "the topic to follow (required): the output or dead-letter topic"),
				fromStart: boolFlag(fs, e, "from-beginning", false, "start at the first record of every partition instead of the end"),
				outcome:   stringFlag(fs, e, "outcome", "", "comma-separated outcomes to show: mapped, degraded, rejected (default all)"),
				category:  stringFlag(fs, e, "category", "", "show only records with a failure of this category: reason:field, or a reason"),
				asJSON:    boolFlag(fs, e, "json", false, "print one JSON object a line"),
				maxN:      intFlag(fs, e, "max", 0, "stop after this many records (0: follow until Ctrl-C)"),
				maxValue:  intFlag(fs, e, "max-value-bytes", tap.DefaultMaxValueBytes, "longest value printed in text form"),
				lf:        declareLogFlags(fs, e, "warn"),
				reg:       registry.Register(fs),
			}
		},
	}
}

// cmdTap is one invocation of `mapper tap`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdTap struct {
	*env
	dirs      ruleDirs
	conn      *kafkaconn.Flags
	topic     *string
	fromStart *bool
	outcome   *string
	category  *string
	asJSON    *bool
	maxN      *int
	maxValue  *int
	lf        *logFlags
	reg       *registry.Flags
}

func (c *cmdTap) run(ctx context.Context, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(c.stderr, "mapper tap: unexpected argument %q\n", args[0])
		return exitUsage
	}
	kc, problems := c.conn.Config()
	if *c.topic == "" {
		problems = append(problems, "--topic is required")
	}
	filter := tap.Filter{Outcomes: splitList(*c.outcome), Category: *c.category}
	problems = append(problems, filter.Problems()...)
	if *c.maxN < 0 {
		problems = append(problems, fmt.Sprintf("--max %d: must be 0 or more", *c.maxN))
	}
	c.lf.check(&problems)
	eng, err := c.dirs.load()
	if err != nil {
		problems = append(problems, loadProblems(err)...)
	}
	if _, ps := c.reg.Config(); len(ps) > 0 {
		problems = append(problems, ps...)
	}
	if len(problems) > 0 {
		return reportProblems(c.env, "tap", problems)
	}
	// The registry only names the subject and version of a framed value's
	// id: one that does not answer is said once, and tap goes on.
	reg, err := connectRegistry(ctx, c.reg, 0)
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper tap: %v; framed values are shown with their schema id only\n", err)
		reg = nil
	}
	c.lf.logger(c.stderr).Info("following", "topic", *c.topic, "brokers", kc.Brokers, "from_beginning", *c.fromStart)
	out := bufio.NewWriter(c.stdout)
	defer out.Flush()
	err = tap.Follow(ctx, tap.Config{Kafka: kc, Topic: *c.topic, Engine: eng, FromBeginning: *c.fromStart, Filter: filter, Max: *c.maxN},
		func(r *tap.Record) error {
			if reg != nil && r.SchemaID != 0 {
				r.Schema = reg.Describe(ctx, r.SchemaID)
			}
			var err error
			if *c.asJSON {
				err = tap.WriteJSON(out, r)
			} else {
				err = tap.WriteText(out, r, *c.maxValue)
			}
			if err == nil {
				// A person watches: show each record as it comes.
				err = out.Flush()
			}
			return err
		})
	if err != nil {
		if errors.Is(err, tap.ErrNoTopic) {
			fmt.Fprintf(c.stderr, "mapper tap: %v (scripts/kafka.sh topic NAME PARTITIONS creates one on a local Kafka)\n", err)
			return exitFailure
		}
		fmt.Fprintf(c.stderr, "mapper tap: %v\n", err)
		return exitFailure
	}
	return exitOK
}

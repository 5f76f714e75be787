package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/mapperhq/mapper/mapper/observe"
	"github.com/mapperhq/mapper/mapper/sampletopic"
)

// declareSamplesTopic declares --samples-topic (env MAPPER_SAMPLES_TOPIC).
func declareSamplesTopic(fs *flag.FlagSet, e *env, usage string) *string {
	return stringFlag(fs, e, "samples-topic", "", usage)
}

// pullSamples reads the samples topic the settings name into a Snapshot,
// reporting skipped records on e.stderr.
func pullSamples(ctx context.Context, e *env, cmd string, s observe.Shared) (*sampletopic.Snapshot, error) {
	snap, err := sampletopic.Read(ctx, sampletopic.Config{Kafka: s.Kafka, Topic: s.Topic}, sampletopic.ReadOptions{})
	if err != nil {
		return nil, err
	}
	for _, why := range snap.SkippedWhy {
		fmt.Fprintf(e.stderr, "mapper %s: skipped %s\n", cmd, why)
	}
	if n := snap.Skipped - len(snap.SkippedWhy); n > 0 {
		fmt.Fprintf(e.stderr, "mapper %s: skipped %d more records not understood\n", cmd, n)
	}
	return snap, nil
}

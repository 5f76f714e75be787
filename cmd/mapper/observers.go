package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/stream"
)

// observerFlags holds the flags of everything that watches the worker's
// records (metrics, alerts, samples). declareObserverFlags declares them on
// both mapper run and mapper demo.
type observerFlags struct{}

func declareObserverFlags(fs *flag.FlagSet, e *env) *observerFlags {
	return &observerFlags{}
}

// buildObservers returns the observers mapper run and mapper demo attach to
// the worker, and a function that flushes and closes them after the worker
// has stopped. It returns an error for configuration that cannot work, before
// anything starts.
func buildObservers(ctx context.Context, e *env, of *observerFlags, eng *mapper.Engine, logger *slog.Logger) ([]stream.Observer, func() error, error) {
	return nil, func() error { return nil }, nil
}

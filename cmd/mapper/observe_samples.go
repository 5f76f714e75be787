package main

import (
	"flag"
	"fmt"
	"log/slog"
	"sync"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// sampleFlags are the sample store's flags, shared by run, demo, samples
// and replay.
type sampleFlags struct {
	dir         *string
	perCategory *int
	clean       *int
	maxMB       *int
}

// declareSamplesDir declares only --samples (default "samples", env
// MAPPER_SAMPLES).
func declareSamplesDir(fs *flag.FlagSet, e *env) *string {
	return stringFlag(fs, e, "samples", "samples", "directory of kept samples")
}

// declareSampleFlags declares --samples and the store's limits.
func declareSampleFlags(fs *flag.FlagSet, e *env) *sampleFlags {
	return &sampleFlags{
		dir:         declareSamplesDir(fs, e),
		perCategory: intFlag(fs, e, "samples-per-category", samples.DefaultPerCategory, "samples kept per source and failure category: the first record plus a random sample of the rest"),
		clean:       intFlag(fs, e, "samples-clean", samples.DefaultClean, "clean records kept per source for regression checks (negative: none)"),
		maxMB:       intFlag(fs, e, "samples-max-mb", samples.DefaultMaxBytes>>20, "cap on the sample files' total size, in MiB"),
	}
}

// options returns the limits the flags give.
func (f *sampleFlags) options() sampleOptions {
	return sampleOptions{PerCategory: *f.perCategory, Clean: *f.clean, MaxBytes: int64(*f.maxMB) << 20}
}

// sampleOptions are the store's limits; zero values mean the store's
// defaults (see samples.Config).
type sampleOptions struct {
	PerCategory int
	Clean       int
	MaxBytes    int64
	// OnKept is told of every record kept (for the samples.kept metric).
	OnKept func(source string, reason mapper.Reason)
	// Sink, when set, is told of the samples and counts too (the samples
	// topic's writer).
	Sink samples.Sink
}

// newSampleStore opens the sample store in dir for a command that maps
// records (run, demo, samples add). The store is an observer of the
// worker: pass it in the worker's Observers and Close it after the worker
// stopped. Write errors are reported to logger (on e.stderr when nil), each
// kind once.
func newSampleStore(e *env, dir string, opts sampleOptions, logger *slog.Logger) (*samples.Store, error) {
	if opts.PerCategory < 0 {
		return nil, fmt.Errorf("samples: --samples-per-category must be at least 1, not %d", opts.PerCategory)
	}
	if opts.MaxBytes < 0 {
		return nil, fmt.Errorf("samples: --samples-max-mb must be positive, not %d", opts.MaxBytes>>20)
	}
	st, err := samples.Open(samples.Config{
		Dir:         dir,
		PerCategory: opts.PerCategory,
		Clean:       opts.Clean,
		MaxBytes:    opts.MaxBytes,
		OnKept:      opts.OnKept,
		Sink:        opts.Sink,
		OnError:     reportOnce(e, logger),
	})
	if err != nil {
		return nil, fmt.Errorf("open samples %s: %w", dir, err)
	}
	return st, nil
}

// reportOnce returns an error handler for the sample files' writers: it
// reports each distinct error once, to logger (on e.stderr when nil). It
// is safe for concurrent use.
func reportOnce(e *env, logger *slog.Logger) func(error) {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if msg := err.Error(); !seen[msg] {
			seen[msg] = true
			if logger != nil {
				logger.Warn("samples", "error", msg)
			} else {
				fmt.Fprintf(e.stderr, "mapper: %v\n", err)
			}
		}
	}
}

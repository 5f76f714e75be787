package main

import (
	"flag"

	"github.com/mapperhq/mapper/mapper/observe"
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
func (f *sampleFlags) options() observe.SampleOptions {
	return observe.SampleOptions{PerCategory: *f.perCategory, Clean: *f.clean, MaxBytes: int64(*f.maxMB) << 20}
}

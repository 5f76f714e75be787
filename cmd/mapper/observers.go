package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/metrics"
	"github.com/mapperhq/mapper/mapper/observe"
)

// observerFlags holds the flags of everything that watches the worker's
// records: metrics, alerts and samples. declareObserverFlags declares them
// on both mapper run and mapper demo.
type observerFlags struct {
	telemetry *telemetryFlags
	samples   *sampleFlags
	noSamples *bool
	getenv    func(string) string
	// shared, when set (mapper run --samples-topic), also writes the
	// samples and counts to a samples topic and asks it before a
	// category's first Sentry event.
	shared *observe.Shared
}

func declareObserverFlags(fs *flag.FlagSet, e *env) *observerFlags {
	return &observerFlags{
		telemetry: declareTelemetryFlags(fs, e),
		samples:   declareSampleFlags(fs, e),
		noSamples: boolFlag(fs, e, "no-samples", false, "keep no samples"),
		getenv:    e.getenv,
	}
}

// check appends a problem for every observer setting that cannot work:
// the Datadog agent address (DD_DOGSTATSD_URL, DD_DOGSTATSD_PORT), the
// metrics' field cap, the Sentry interval and the sample store's limits.
func (of *observerFlags) check(problems *[]string) {
	add := func(format string, args ...any) { *problems = append(*problems, fmt.Sprintf(format, args...)) }
	if tf := of.telemetry; *tf.metrics {
		if _, err := metrics.AddrFromEnv(of.getenv); err != nil {
			add("metrics: %v", err)
		}
		if *tf.maxFields <= 0 {
			add("--metrics-max-fields %d: must be 1 or more", *tf.maxFields)
		}
	}
	if dsn := of.getenv("SENTRY_DSN"); dsn != "" {
		if err := alerts.CheckDSN(dsn); err != nil {
			add("alerts: %v", err)
		}
	}
	if *of.telemetry.sentryInterval <= 0 {
		add("--sentry-interval %v: must be positive", *of.telemetry.sentryInterval)
	}
	if !*of.noSamples {
		if n := *of.samples.perCategory; n < 0 {
			add("--samples-per-category %d: must be 0 (default) or more", n)
		}
		if n := *of.samples.maxMB; n < 0 {
			add("--samples-max-mb %d: must be 0 (default) or more", n)
		}
	}
}

// buildObservers starts what watches the worker (see observe.Build) as
// the flags and the environment say; on error nothing is left running.
func buildObservers(ctx context.Context, e *env, of *observerFlags, eng *mapper.Engine, logger *slog.Logger) (*observe.Set, error) {
	opts := of.samples.options()
	if eng != nil {
		// The values of the headers the rules route on are kept with the
		// unrouted records' structural profiles (mapper suggest --source
		// unrouted reads them).
		opts.RoutingHeaders = eng.RoutingHeaders()
	}
	return observe.Build(ctx, observe.Config{
		Telemetry:  of.telemetry.settings(e, logger),
		NoSamples:  *of.noSamples,
		SamplesDir: *of.samples.dir,
		Samples:    opts,
		Shared:     of.shared,
		Stderr:     e.stderr,
	})
}

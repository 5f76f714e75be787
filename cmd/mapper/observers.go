package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/mapperhq/mapper/internal/ratelog"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/metrics"
	"github.com/mapperhq/mapper/mapper/samples"
	"github.com/mapperhq/mapper/mapper/stream"
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
	shared *sharedSamplesSettings
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

// observers is what watches a worker: the observers to attach, the metrics
// client (nil when metrics are off) for the lag gauges, and close, which
// flushes and closes them all after the worker has stopped.
type observers struct {
	list    []stream.Observer
	metrics *metrics.Client
	alerts  *alerts.Alerter // nil when Sentry is off
	samples *samples.Store  // nil with --no-samples
	drift   *drift.Observer
	close   func() error
}

// buildObservers starts the metrics client, the Sentry alerter and the
// sample store as the flags and environment say. It returns an error for
// configuration that cannot work, before anything starts; on error nothing
// is left running.
func buildObservers(ctx context.Context, e *env, of *observerFlags, _ *mapper.Engine, logger *slog.Logger) (*observers, error) {
	var shared *sharedSamples
	if of.shared != nil {
		if *of.noSamples {
			return nil, errors.New("--samples-topic shares the samples: it cannot go with --no-samples")
		}
		var err error
		if shared, err = openSharedSamples(ctx, of.shared, *of.samples.dir, logger); err != nil {
			return nil, err
		}
	}
	mc, err := newMetrics(e, of.telemetry, logger)
	if err != nil {
		closeShared(shared)
		return nil, err
	}
	var ledger alerts.Ledger
	if shared != nil {
		ledger = shared.ledger
	}
	al, err := newSharedAlerts(e, of.telemetry, logger, mc, ledger)
	if err != nil {
		closeShared(shared)
		_ = mc.Close()
		return nil, err
	}
	o := &observers{metrics: mc, alerts: al}
	if mc != nil {
		o.list = append(o.list, mc, deadLetterCounter{mc})
	}
	if al != nil {
		o.list = append(o.list, al)
	}
	var closers []func() error
	if !*of.noSamples {
		opts := of.samples.options()
		if mc != nil {
			opts.OnKept = mc.SampleKept
		}
		if shared != nil {
			opts.Sink = shared.writer
		}
		st, err := newSampleStore(e, *of.samples.dir, opts, logger)
		if err != nil {
			closeShared(shared)
			_ = al.Close()
			_ = mc.Close()
			return nil, err
		}
		var valuesSink samples.ValuesSink
		if shared != nil {
			valuesSink = shared.writer
		}
		vals, err := newValueProfiler(e, *of.samples.dir, valuesSink)
		if err != nil {
			_ = st.Close()
			closeShared(shared)
			_ = al.Close()
			_ = mc.Close()
			return nil, err
		}
		var driftSink drift.Sink
		if shared != nil {
			driftSink = shared.writer
		}
		dr, err := newDriftObserver(e, *of.samples.dir, driftSink, mc, al)
		if err != nil {
			_ = vals.Close()
			_ = st.Close()
			closeShared(shared)
			_ = al.Close()
			_ = mc.Close()
			return nil, err
		}
		o.list = append(o.list, st, vals, dr)
		o.samples, o.drift = st, dr
		if shared != nil {
			o.list = append(o.list, durableCounts{store: st, writer: shared.writer,
				log: &ratelog.Logger{Logger: logger, Every: time.Minute}})
		}
		// The store and the value profiles hand their last counts to the
		// topic's writer as they close.
		closers = append(closers, st.Close, vals.Close, dr.Close)
		if shared != nil {
			closers = append(closers, shared.writer.Close)
		}
	}
	if o.drift == nil {
		// Without samples the reports are kept in memory only, for /status.
		dr, err := newDriftObserver(e, "", nil, mc, al)
		if err != nil {
			_ = al.Close()
			_ = mc.Close()
			return nil, err
		}
		o.list = append(o.list, dr)
		o.drift = dr
		closers = append(closers, dr.Close)
	}
	// Alerts first: their fate is counted in metrics, which close last.
	closers = append(closers, al.Close, mc.Close)
	o.close = func() error {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c())
		}
		return errors.Join(errs...)
	}
	return o, nil
}

// deadLetterCounter counts, as mapper.dlq.records, the dead-letter writes
// the brokers acknowledged: told by the worker's delivery hook, so a record
// is counted once it is written, not when it is mapped nor when its write is
// abandoned. (A record redelivered after a crash is written, and counted,
// again.)
type deadLetterCounter struct{ mc *metrics.Client }

// Observe does nothing: records are counted when delivered.
func (deadLetterCounter) Observe(*mapper.Origin, *mapper.Source, []byte, *mapper.Result, time.Duration) {
}

// Delivered counts acknowledged dead-letter writes.
func (d deadLetterCounter) Delivered(dl stream.Delivery) {
	if !dl.DeadLetter {
		return
	}
	name := dl.Source
	if name == "" {
		name = metrics.UnknownSource
	}
	d.mc.DLQRecords(name, dl.Records)
}

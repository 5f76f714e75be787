package observe

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/mapperhq/mapper/internal/ratelog"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/metrics"
	"github.com/mapperhq/mapper/mapper/samples"
	"github.com/mapperhq/mapper/mapper/stream"
)

// Config says what watches a worker.
type Config struct {
	Telemetry
	// NoSamples keeps no samples (and no value profiles).
	NoSamples bool
	// SamplesDir is the sample store's directory.
	SamplesDir string
	// Samples are the store's limits (OnKept, Sink and OnError are set by
	// Build).
	Samples SampleOptions
	// Shared, when not nil, also writes the samples and counts to a
	// samples topic and asks it before a category's first Sentry event.
	Shared *Shared
	// Stderr receives the sample files' write errors when Logger is nil.
	Stderr io.Writer
}

// Set is what watches a worker: the observers to attach, the metrics
// client (nil when metrics are off) for the lag gauges, the alerter (nil
// when Sentry is off) and the sample store (nil with NoSamples) for the
// release controller's events, and the drift reports for /status.
type Set struct {
	List    []stream.Observer
	Metrics *metrics.Client
	Alerts  *alerts.Alerter
	Samples *samples.Store
	Drift   *drift.Observer
	closers []func() error
}

// Close flushes and closes every observer, after the worker has stopped:
// the sample store and profiles first (they hand their last counts to the
// samples topic's writer), then alerts, whose fate metrics count, then
// metrics.
func (s *Set) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// Build starts the metrics client, the Sentry alerter, the sample store,
// value profiles and drift reports, and the samples topic's writer, as cfg says. It
// returns an error for configuration that cannot work, before anything
// starts; on error nothing is left running.
func Build(ctx context.Context, cfg Config) (*Set, error) {
	var shared *sharedSamples
	if cfg.Shared != nil {
		if cfg.NoSamples {
			return nil, errors.New("--samples-topic shares the samples: it cannot go with --no-samples")
		}
		var err error
		if shared, err = openSharedSamples(ctx, cfg.Shared, cfg.SamplesDir, cfg.Logger); err != nil {
			return nil, err
		}
	}
	mc, err := NewMetrics(cfg.Telemetry)
	if err != nil {
		closeShared(shared)
		return nil, err
	}
	var ledger alerts.Ledger
	if shared != nil {
		ledger = shared.ledger
	}
	al, err := NewAlerts(cfg.Telemetry, mc, ledger)
	if err != nil {
		closeShared(shared)
		_ = mc.Close()
		return nil, err
	}
	o := &Set{Metrics: mc, Alerts: al}
	if mc != nil {
		o.List = append(o.List, BatchMetrics{mc}, DeadLetterCounter{mc})
	}
	if al != nil {
		o.List = append(o.List, al)
	}
	if !cfg.NoSamples {
		opts := cfg.Samples
		opts.OnError = ReportOnce(cfg.Logger, cfg.Stderr)
		if mc != nil {
			opts.OnKept = mc.SampleKept
		}
		if shared != nil {
			opts.Sink = shared.writer
		}
		st, err := NewSampleStore(cfg.SamplesDir, opts)
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
		vals, err := NewValueProfiler(cfg.SamplesDir, valuesSink, ReportOnce(nil, cfg.Stderr))
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
		dr, err := NewDrift(cfg.SamplesDir, driftSink, mc, al, ReportOnce(nil, cfg.Stderr))
		if err != nil {
			_ = vals.Close()
			_ = st.Close()
			closeShared(shared)
			_ = al.Close()
			_ = mc.Close()
			return nil, err
		}
		o.List = append(o.List, st, vals, BatchDrift{dr})
		o.Samples, o.Drift = st, dr
		if shared != nil {
			o.List = append(o.List, durableCounts{store: st, writer: shared.writer,
				log: &ratelog.Logger{Logger: cfg.Logger, Every: time.Minute}})
		}
		// The store and the value profiles hand their last counts to the
		// topic's writer as they close.
		o.closers = append(o.closers, st.Close, vals.Close, dr.Close)
		if shared != nil {
			o.closers = append(o.closers, shared.writer.Close)
		}
	}
	if o.Drift == nil {
		// Without samples the reports are kept in memory only, for /status.
		dr, err := NewDrift("", nil, mc, al, ReportOnce(nil, cfg.Stderr))
		if err != nil {
			_ = al.Close()
			_ = mc.Close()
			return nil, err
		}
		o.List = append(o.List, BatchDrift{dr})
		o.Drift = dr
		o.closers = append(o.closers, dr.Close)
	}
	// Alerts first: their fate is counted in metrics, which close last.
	o.closers = append(o.closers, al.Close, mc.Close)
	return o, nil
}

// BatchMetrics is the metrics client as the worker's observer: each
// mapping goroutine counts its records in a metrics.Batch, sent once per
// batch, where Observe would send a count per record.
type BatchMetrics struct{ *metrics.Client }

// NewBatchTally returns one mapping goroutine's counts.
func (m BatchMetrics) NewBatchTally() stream.BatchTally { return m.Client.NewBatch() }

// DeadLetterCounter counts, as mapper.dlq.records, the dead-letter writes
// the brokers acknowledged: told by the worker's delivery hook, so a record
// is counted once it is written, not when it is mapped nor when its write is
// abandoned. (A record redelivered after a crash is written, and counted,
// again.)
type DeadLetterCounter struct{ Metrics *metrics.Client }

// Observe does nothing: records are counted when delivered.
func (DeadLetterCounter) Observe(*mapper.Origin, *mapper.Source, []byte, *mapper.Result, time.Duration) {
}

// Delivered counts acknowledged dead-letter writes.
func (d DeadLetterCounter) Delivered(dl stream.Delivery) {
	if !dl.DeadLetter {
		return
	}
	name := dl.Source
	if name == "" {
		name = metrics.UnknownSource
	}
	d.Metrics.DLQRecords(name, dl.Records)
}

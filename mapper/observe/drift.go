package observe

import (
	"fmt"

	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/metrics"
	"github.com/mapperhq/mapper/mapper/stream"
)

// NewDrift opens the drift reports kept in the samples directory dir (""
// keeps none on disk), for a command that maps records (run, demo).
// Reports go to sink when not nil (the samples topic's writer), field
// counts to mc as mapper.drift.fields, and each new drift to al as one
// Sentry event. Write errors go to onError.
func NewDrift(dir string, sink drift.Sink, mc *metrics.Client, al *alerts.Alerter, onError func(error)) (*drift.Observer, error) {
	cfg := drift.Config{Dir: dir, OnError: onError, Sink: sink}
	if mc != nil {
		cfg.Gauges = mc
	}
	if al != nil {
		cfg.Announcer = driftAlerts{al}
	}
	o, err := drift.Open(cfg)
	if err != nil {
		return nil, fmt.Errorf("open drift reports %s: %w", dir, err)
	}
	return o, nil
}

// BatchDrift is the drift reports as the worker's observer: each mapping
// goroutine keeps its records and their drift in a drift.Tally, added to
// the reports once per batch, where Observe would take the source's lock
// once per drifting record.
type BatchDrift struct{ *drift.Observer }

// NewBatchTally returns one mapping goroutine's part of the reports.
func (d BatchDrift) NewBatchTally() stream.BatchTally { return driftTally{d.Observer.NewTally()} }

// driftTally is a drift.Tally, which does not need to know how long a
// record took: the worker reads no clock for it.
type driftTally struct{ *drift.Tally }

// Untimed tells the worker that Observe ignores took.
func (driftTally) Untimed() {}

// driftAlerts sends one Sentry event per new drift, fingerprinted by
// source, drift kind and path (and rules version): once for the group of
// workers when they share a samples topic (its ledger decides), else once
// per process. The event holds the path and counts, never a value.
type driftAlerts struct{ al *alerts.Alerter }

func (d driftAlerts) NewDrift(source string, rulesVersion int, e drift.Entry) {
	d.al.Notify(alerts.Notice{
		Kind: alerts.NoticeDrift + string(e.Kind), Source: source, RulesVersion: rulesVersion, Field: e.Path,
		Message: fmt.Sprintf("%s: %s at %s (input contract drift)", source, e.Kind, e.Path),
		Warning: true, Shared: true,
		Detail: map[string]any{"kind": string(e.Kind), "path": e.Path, "count": e.Count, "share": e.Share,
			"first_seen": e.FirstSeen, "report": "mapper drift --source " + source},
	})
}

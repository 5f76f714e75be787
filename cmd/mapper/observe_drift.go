package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/metrics"
	"github.com/mapperhq/mapper/mapper/stream"
)

// newDriftObserver opens the drift reports kept in the samples directory
// dir ("" keeps none on disk), for a command that maps records (run,
// demo). Reports go to sink when not nil (the samples topic's writer),
// field counts to mc as mapper.drift.fields, and each new drift to al as
// one Sentry event. Write errors are reported on e.stderr, each kind once.
func newDriftObserver(e *env, dir string, sink drift.Sink, mc *metrics.Client, al *alerts.Alerter) (*drift.Observer, error) {
	cfg := drift.Config{Dir: dir, OnError: reportOnce(e, nil), Sink: sink}
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

// statusWithDrift is the /status document: the worker's status and the
// drift report of every source.
type statusWithDrift struct {
	stream.Status
	Drift []drift.Report `json:"drift"`
}

// statusOf returns the /status document of w with the drift reports of d
// (none when d is nil).
func statusOf(w *stream.Worker, d *drift.Observer) func(ctx context.Context) statusWithDrift {
	return func(ctx context.Context) statusWithDrift {
		st := statusWithDrift{Status: w.Status(ctx, 20), Drift: []drift.Report{}}
		if d != nil {
			st.Drift = d.Reports()
		}
		return st
	}
}

// statusHandler serves the /status JSON: the worker's status with the
// drift reports.
func statusHandler(status func(context.Context) statusWithDrift, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		rw.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(rw)
		enc.SetIndent("", "  ")
		if err := enc.Encode(status(ctx)); err != nil && !errors.Is(err, context.Canceled) {
			logger.Warn("write status", "error", err)
		}
	})
}

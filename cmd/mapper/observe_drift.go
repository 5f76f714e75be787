package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/stream"
)

// statusWithDrift is the /status document: the worker's status and the
// drift report of every source.
type statusWithDrift struct {
	stream.Status
	Drift []drift.Report `json:"drift"`
}

// statusOf returns the /status document of w with the drift reports of d
// (none when d is nil).
func statusOf(w *stream.Worker, d *drift.Observer) func(ctx context.Context, lag bool) statusWithDrift {
	return func(ctx context.Context, lag bool) statusWithDrift {
		st := statusWithDrift{Status: w.StatusOf(ctx, 20, lag), Drift: []drift.Report{}}
		if d != nil {
			st.Drift = d.Reports()
		}
		return st
	}
}

// statusHandler serves the /status JSON: the worker's status with the
// drift reports.
func statusHandler(status func(context.Context, bool) statusWithDrift, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		lag, err := stream.LagQuery(r)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		rw.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(rw)
		enc.SetIndent("", "  ")
		if err := enc.Encode(status(ctx, lag)); err != nil && !errors.Is(err, context.Canceled) {
			logger.Warn("write status", "error", err)
		}
	})
}

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

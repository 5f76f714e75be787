package main

import (
	"flag"
	"log/slog"
	"time"

	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/metrics"
	"github.com/mapperhq/mapper/mapper/observe"
)

// telemetryFlags are the flags of the DogStatsD metrics and Sentry alerts
// that mapper run and mapper demo share. Where they send to comes from the
// Datadog and Sentry SDKs' own variables (DD_AGENT_HOST, DD_DOGSTATSD_URL,
// SENTRY_DSN, …), read by observe.NewMetrics and observe.NewAlerts.
type telemetryFlags struct {
	metrics        *bool
	maxFields      *int
	sentryInterval *time.Duration
}

// declareTelemetryFlags declares --metrics, --metrics-max-fields and
// --sentry-interval on fs.
func declareTelemetryFlags(fs *flag.FlagSet, e *env) *telemetryFlags {
	return &telemetryFlags{
		metrics: boolFlag(fs, e, "metrics", true,
			"send DogStatsD metrics (to DD_DOGSTATSD_URL, else DD_AGENT_HOST:DD_DOGSTATSD_PORT, else localhost:8125)"),
		maxFields: intFlag(fs, e, "metrics-max-fields", metrics.DefaultMaxFieldsPerSource,
			"distinct field tag values per source; beyond them failures are tagged field:other"),
		sentryInterval: durationFlag(fs, e, "sentry-interval", alerts.DefaultInterval,
			"least time between two Sentry events of one failure category (Sentry is on when SENTRY_DSN is set)"),
	}
}

// settings are the telemetry the flags and the environment give.
func (tf *telemetryFlags) settings(e *env, logger *slog.Logger) observe.Telemetry {
	return observe.Telemetry{
		Getenv:             e.getenv,
		Metrics:            *tf.metrics,
		MaxFieldsPerSource: *tf.maxFields,
		SentryInterval:     *tf.sentryInterval,
		Logger:             logger,
	}
}

package main

import (
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/metrics"
)

// telemetryFlags are the flags of the DogStatsD metrics and Sentry alerts
// that mapper run and mapper demo share. Where they send to comes from the
// Datadog and Sentry SDKs' own variables (DD_AGENT_HOST, DD_DOGSTATSD_URL,
// SENTRY_DSN, …), read by newMetrics and newAlerts.
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

// newMetrics starts the DogStatsD client, or returns nil (metrics off) when
// --metrics=false. The agent address comes from DD_DOGSTATSD_URL
// ("udp://host:port", "unix:///path"), else DD_AGENT_HOST and
// DD_DOGSTATSD_PORT, else localhost:8125; constant tags from DD_ENV,
// DD_SERVICE (default "mapper") and DD_VERSION. A nil *metrics.Client is a
// valid no-op observer. Close it after the worker stops.
func newMetrics(e *env, tf *telemetryFlags, logger *slog.Logger) (*metrics.Client, error) {
	if tf != nil && !*tf.metrics {
		return nil, nil
	}
	addr, err := metrics.AddrFromEnv(e.getenv)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	tags := metrics.TagsFromEnv(e.getenv)
	if e.getenv("DD_SERVICE") == "" {
		tags = append(tags, "service:mapper")
	}
	cfg := metrics.Config{Addr: addr, Tags: tags, Logger: logger}
	if tf != nil {
		cfg.MaxFieldsPerSource = *tf.maxFields
		if cfg.MaxFieldsPerSource <= 0 {
			return nil, fmt.Errorf("metrics: --metrics-max-fields is %d; want 1 or more", cfg.MaxFieldsPerSource)
		}
	}
	return metrics.New(cfg)
}

// newAlerts starts the Sentry alerter from SENTRY_DSN, SENTRY_ENVIRONMENT
// (default DD_ENV) and SENTRY_RELEASE (default DD_VERSION), or returns nil
// (alerts off) when SENTRY_DSN is unset. stats, when not nil, is told what
// became of each event; a *metrics.Client (nil included) fits. A nil
// *alerts.Alerter is a valid no-op observer. Close it after the worker stops:
// it sends what is queued for at most two seconds.
func newAlerts(e *env, tf *telemetryFlags, logger *slog.Logger, stats alerts.Stats) (*alerts.Alerter, error) {
	return newSharedAlerts(e, tf, logger, stats, nil)
}

// newSharedAlerts is newAlerts for a worker of a group that shares its
// announced categories: ledger, when not nil, is asked before each
// category's first event (see alerts.Ledger).
func newSharedAlerts(e *env, tf *telemetryFlags, logger *slog.Logger, stats alerts.Stats, ledger alerts.Ledger) (*alerts.Alerter, error) {
	dsn := e.getenv("SENTRY_DSN")
	if dsn == "" {
		return nil, nil
	}
	cfg := alerts.Config{
		DSN:         dsn,
		Environment: telemetryFirstSet(e.getenv("SENTRY_ENVIRONMENT"), e.getenv("DD_ENV")),
		Release:     telemetryFirstSet(e.getenv("SENTRY_RELEASE"), e.getenv("DD_VERSION")),
		Stats:       stats,
		Logger:      logger,
		Ledger:      ledger,
	}
	if tf != nil {
		if *tf.sentryInterval <= 0 {
			return nil, fmt.Errorf("alerts: --sentry-interval is %v; want a positive duration", *tf.sentryInterval)
		}
		cfg.Interval = *tf.sentryInterval
	}
	return alerts.New(cfg)
}

func telemetryFirstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

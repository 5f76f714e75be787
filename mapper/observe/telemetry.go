package observe

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/metrics"
)

// Telemetry says whether and how metrics and Sentry events are sent.
type Telemetry struct {
	// Getenv reads the Datadog and Sentry variables (os.Getenv, or a map
	// in tests). Required.
	Getenv func(string) string
	// Metrics false sends no metrics.
	Metrics bool
	// MaxFieldsPerSource caps the distinct field tags per source (must be
	// 1 or more when Metrics is set).
	MaxFieldsPerSource int
	// SentryInterval is the least time between two events of one failure
	// category (must be positive when SENTRY_DSN is set).
	SentryInterval time.Duration
	// Logger receives the clients' own warnings; nil discards them.
	Logger *slog.Logger
}

// NewMetrics starts the DogStatsD client, or returns nil (metrics off) when
// t.Metrics is false. The agent address comes from DD_DOGSTATSD_URL
// ("udp://host:port", "unix:///path"), else DD_AGENT_HOST and
// DD_DOGSTATSD_PORT, else localhost:8125; constant tags from DD_ENV,
// DD_SERVICE (default "mapper") and DD_VERSION. A nil *metrics.Client is a
// valid no-op observer. Close it after the worker stops.
func NewMetrics(t Telemetry) (*metrics.Client, error) {
	if !t.Metrics {
		return nil, nil
	}
	addr, err := metrics.AddrFromEnv(t.Getenv)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	tags := metrics.TagsFromEnv(t.Getenv)
	if t.Getenv("DD_SERVICE") == "" {
		tags = append(tags, "service:mapper")
	}
	if t.MaxFieldsPerSource <= 0 {
		return nil, fmt.Errorf("metrics: --metrics-max-fields is %d; want 1 or more", t.MaxFieldsPerSource)
	}
	return metrics.New(metrics.Config{Addr: addr, Tags: tags, Logger: t.Logger, MaxFieldsPerSource: t.MaxFieldsPerSource})
}

// NewAlerts starts the Sentry alerter from SENTRY_DSN, SENTRY_ENVIRONMENT
// (default DD_ENV) and SENTRY_RELEASE (default DD_VERSION), or returns nil
// (alerts off) when SENTRY_DSN is unset. stats, when not nil, is told what
// became of each event; a *metrics.Client (nil included) fits. ledger,
// when not nil, is asked before each category's first event (a group that
// shares its announced categories, see alerts.Ledger). A nil
// *alerts.Alerter is a valid no-op observer. Close it after the worker
// stops: it sends what is queued for at most two seconds.
func NewAlerts(t Telemetry, stats alerts.Stats, ledger alerts.Ledger) (*alerts.Alerter, error) {
	dsn := t.Getenv("SENTRY_DSN")
	if dsn == "" {
		return nil, nil
	}
	if t.SentryInterval <= 0 {
		return nil, fmt.Errorf("alerts: --sentry-interval is %v; want a positive duration", t.SentryInterval)
	}
	return alerts.New(alerts.Config{
		DSN:         dsn,
		Environment: firstSet(t.Getenv("SENTRY_ENVIRONMENT"), t.Getenv("DD_ENV")),
		Release:     firstSet(t.Getenv("SENTRY_RELEASE"), t.Getenv("DD_VERSION")),
		Interval:    t.SentryInterval,
		Stats:       stats,
		Logger:      t.Logger,
		Ledger:      ledger,
	})
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

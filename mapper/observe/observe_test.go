package observe

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper/stream"
)

func TestBuild(t *testing.T) {
	noEnv := func(string) string { return "" }
	t.Run("samples without metrics or Sentry: the store, the value profiles and the drift reports", func(t *testing.T) {
		dir := t.TempDir()
		set, err := Build(context.Background(), Config{Telemetry: Telemetry{Getenv: noEnv}, SamplesDir: dir, Stderr: &bytes.Buffer{}})
		if err != nil {
			t.Fatal(err)
		}
		if set.Metrics != nil || set.Alerts != nil || set.Samples == nil || set.Drift == nil || len(set.List) != 3 {
			t.Errorf("got metrics %v, alerts %v, samples %v, drift %v, %d observers; want only the store, the profiles and the drift reports", set.Metrics, set.Alerts, set.Samples, set.Drift, len(set.List))
		}
		if err := set.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("samples directory: %v", err)
		}
	})
	t.Run("no samples, no metrics, no Sentry: only the drift reports, in memory, for /status", func(t *testing.T) {
		set, err := Build(context.Background(), Config{Telemetry: Telemetry{Getenv: noEnv}, NoSamples: true})
		if err != nil || len(set.List) != 1 || set.Drift == nil || set.Samples != nil {
			t.Fatalf("got %v observers, %v", set, err)
		}
		// The worker counts the drift reports' records per batch.
		bo, ok := set.List[0].(stream.BatchObserver)
		if !ok {
			t.Fatalf("the drift reports' observer is a %T, not a stream.BatchObserver", set.List[0])
		}
		// It needs no clock read around each record.
		if _, ok := bo.NewBatchTally().(stream.Untimed); !ok {
			t.Errorf("the drift reports' tally is not stream.Untimed")
		}
		if err := set.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a shared samples topic needs samples", func(t *testing.T) {
		_, err := Build(context.Background(), Config{Telemetry: Telemetry{Getenv: noEnv}, NoSamples: true, Shared: &Shared{Topic: "s"}})
		if err == nil || !strings.Contains(err.Error(), "--no-samples") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("a bad Datadog address starts nothing", func(t *testing.T) {
		env := map[string]string{"DD_DOGSTATSD_URL": "tcp://agent:8125"}
		_, err := Build(context.Background(), Config{Telemetry: Telemetry{Getenv: func(k string) string { return env[k] }, Metrics: true, MaxFieldsPerSource: 10},
			SamplesDir: filepath.Join(t.TempDir(), "s")})
		if err == nil || !strings.Contains(err.Error(), "DD_DOGSTATSD_URL") {
			t.Errorf("err %v", err)
		}
	})
}

func TestReportOnceReportsEachErrorOnce(t *testing.T) {
	var out bytes.Buffer
	report := ReportOnce(nil, &out)
	for range 3 {
		report(errors.New("disk full"))
	}
	report(errors.New("permission denied"))
	if got := out.String(); got != "mapper: disk full\nmapper: permission denied\n" {
		t.Errorf("got %q", got)
	}
}

var _ stream.Observer = DeadLetterCounter{}

package main

import (
	"bytes"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/cli"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/observe"
)

func telemetryEnv(m map[string]string) *env {
	return &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return m[k] }}
}

func parseTelemetryFlags(t testing.TB, e *env, args ...string) *telemetryFlags {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	tf := declareTelemetryFlags(fs, e)
	if _, err := cli.Parse(fs, args, e.getenv, nil); err != nil {
		t.Fatal(err)
	}
	return tf
}

func TestNewMetricsReadsTheDatadogVariables(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	e := telemetryEnv(map[string]string{"DD_DOGSTATSD_URL": "udp://" + conn.LocalAddr().String(), "DD_ENV": "test", "DD_VERSION": "9.9.9"})
	c, err := observe.NewMetrics(parseTelemetryFlags(t, e).settings(e, nil))
	if err != nil || c == nil {
		t.Fatalf("newMetrics = %v, %v", c, err)
	}
	res := mapper.UnknownSource("t")
	c.Observe(&mapper.Origin{Topic: "t"}, nil, nil, &res, time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got := readDatagrams(conn)
	for _, want := range []string{"mapper.records:1|c|#", "env:test", "version:9.9.9", "service:mapper", "outcome:rejected"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("datagrams lack %q:\n%s", want, got)
		}
	}
}

func TestNewMetricsConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		off     bool
		wantErr string
	}{
		{"--metrics=false turns metrics off", nil, []string{"--metrics=false"}, true, ""},
		{"MAPPER_METRICS=false turns metrics off", map[string]string{"MAPPER_METRICS": "false"}, nil, true, ""},
		{"a malformed DD_DOGSTATSD_URL is refused", map[string]string{"DD_DOGSTATSD_URL": "tcp://h:1"}, nil, false, "DD_DOGSTATSD_URL"},
		{"a zero field cap is refused", nil, []string{"--metrics-max-fields=0"}, false, "--metrics-max-fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := telemetryEnv(tt.env)
			c, err := observe.NewMetrics(parseTelemetryFlags(t, e, tt.args...).settings(e, nil))
			if c != nil {
				c.Close()
			}
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want one naming %s", err, tt.wantErr)
				}
			case tt.off:
				if err != nil || c != nil {
					t.Errorf("got %v, %v; want metrics off", c, err)
				}
			}
		})
	}
}

func TestNewAlertsReadsTheSentryVariables(t *testing.T) {
	t.Run("no SENTRY_DSN means no alerter", func(t *testing.T) {
		e := telemetryEnv(nil)
		a, err := observe.NewAlerts(parseTelemetryFlags(t, e).settings(e, nil), nil, nil)
		if a != nil || err != nil {
			t.Errorf("got %v, %v; want nil, nil", a, err)
		}
	})
	t.Run("a malformed SENTRY_DSN is refused", func(t *testing.T) {
		e := telemetryEnv(map[string]string{"SENTRY_DSN": "nope"})
		if _, err := observe.NewAlerts(parseTelemetryFlags(t, e).settings(e, nil), nil, nil); err == nil || !strings.Contains(err.Error(), "SENTRY_DSN") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("environment and release reach the event", func(t *testing.T) {
		var mu sync.Mutex
		var bodies [][]byte
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, b)
			mu.Unlock()
		}))
		defer srv.Close()
		e := telemetryEnv(map[string]string{
			"SENTRY_DSN":         "http://key@" + strings.TrimPrefix(srv.URL, "http://") + "/7",
			"SENTRY_ENVIRONMENT": "staging", "SENTRY_RELEASE": "mapper@2.0.0",
		})
		a, err := observe.NewAlerts(parseTelemetryFlags(t, e, "--sentry-interval=1m").settings(e, nil), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		res := mapper.UnknownSource("t")
		a.Observe(&mapper.Origin{Topic: "t"}, nil, nil, &res, 0)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(bodies) != 1 {
			t.Fatalf("got %d requests, want 1", len(bodies))
		}
		for _, want := range []string{`"environment":"staging"`, `"release":"mapper@2.0.0"`, `"interval":"1m0s"`} {
			if !bytes.Contains(bodies[0], []byte(want)) {
				t.Errorf("event lacks %s:\n%s", want, bodies[0])
			}
		}
	})
}

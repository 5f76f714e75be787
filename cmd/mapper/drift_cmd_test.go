package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/drift"
)

// gaugeSink keeps the last value of one DogStatsD gauge per tag set, from
// datagrams on a loopback UDP port.
type gaugeSink struct {
	conn   net.PacketConn
	metric string
	mu     sync.Mutex
	last   map[string]float64 // tags as sent → value
	done   chan struct{}
}

func (s *gaugeSink) addr() string { return "udp://" + s.conn.LocalAddr().String() }

func newGaugeSink(t *testing.T, metric string) *gaugeSink {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &gaugeSink{conn: conn, metric: metric, last: map[string]float64{}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 1<<16)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			for _, line := range strings.Split(string(buf[:n]), "\n") {
				name, rest, ok := strings.Cut(line, ":")
				fields := strings.Split(rest, "|")
				if !ok || name != metric || len(fields) < 3 || fields[1] != "g" {
					continue
				}
				v, err := strconv.ParseFloat(fields[0], 64)
				if err != nil {
					continue
				}
				for _, f := range fields[2:] {
					if strings.HasPrefix(f, "#") {
						s.mu.Lock()
						s.last[f[1:]] = v
						s.mu.Unlock()
					}
				}
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); <-s.done })
	return s
}

// get returns the last value of the gauge whose tags include every tag.
func (s *gaugeSink) get(tags ...string) (float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.last {
		have := map[string]bool{}
		for _, tg := range strings.Split(k, ",") {
			have[tg] = true
		}
		all := true
		for _, tg := range tags {
			all = all && have[tg]
		}
		if all {
			return v, true
		}
	}
	return 0, false
}

// olderReleaseAbsent are the required properties the older-release GitHub
// fixtures lack.
var olderReleaseAbsent = []string{"issue.active_lock_reason", "issue.reactions",
	"pull_request.active_lock_reason", "pull_request.auto_merge", "pull_request.draft"}

// TestDemoReportsDrift runs the demo (the real worker on the embedded
// broker, fed the fixtures with their older-release GitHub payloads) with
// DogStatsD on a UDP port and Sentry on an HTTP endpoint: /status, the
// status page in headless Chromium, the mapper.drift.fields gauge, one
// Sentry event per new drift and then `mapper drift` all show the required
// properties the older release lacks, with counts.
func TestDemoReportsDrift(t *testing.T) {
	gauges := newGaugeSink(t, "mapper.drift.fields")
	sentry := newSentrySink(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := startRun(t, ctx, map[string]string{"MAPPER_SAMPLES": dir, "DD_DOGSTATSD_URL": gauges.addr(), "SENTRY_DSN": sentry.dsn},
		"demo", "--rate", "300", "--refresh", "1h")

	var st statusWithDrift
	deadline := time.Now().Add(90 * time.Second)
	for {
		st = statusWithDrift{}
		if resp, err := http.Get(r.statusURL + "/status"); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
		}
		n := 0
		for _, rep := range st.Drift {
			if rep.Source == "github-work-items" {
				n = len(rep.Of(drift.KindAbsentRequired))
			}
		}
		if n == len(olderReleaseAbsent) {
			break
		}
		select {
		case code := <-r.done:
			t.Fatalf("demo ended with %d: %s", code, r.stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("/status never reported the absent properties: %+v", st.Drift)
		}
	}
	if st.State == "" || st.Counts.Mapped == 0 {
		t.Errorf("/status lost the worker's own keys: state %q, counts %+v", st.State, st.Counts)
	}
	// The counts without the lag keep the drift; a bad lag value is a 400.
	var counts statusWithDrift
	if resp, err := http.Get(r.statusURL + "/status?lag=false"); err != nil {
		t.Fatal(err)
	} else {
		err = json.NewDecoder(resp.Body).Decode(&counts)
		resp.Body.Close()
		if err != nil || !counts.LagSkipped || len(counts.Lag) != 0 || len(counts.Drift) == 0 || counts.Counts.Mapped == 0 {
			t.Errorf("/status?lag=false: %v; lag_skipped %v, %d lag entries, %d drift reports, %d mapped; want the counts and drift without the lag",
				err, counts.LagSkipped, len(counts.Lag), len(counts.Drift), counts.Counts.Mapped)
		}
	}
	if resp, err := http.Get(r.statusURL + "/status?lag=sometimes"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("/status?lag=sometimes: %d, want 400", resp.StatusCode)
	}

	t.Run("the gauge arrives over UDP", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			v, ok := gauges.get("source:github-work-items", "kind:absent_required")
			if ok && v == float64(len(olderReleaseAbsent)) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("mapper.drift.fields{source:github-work-items,kind:absent_required} = %v (%v), want %d", v, ok, len(olderReleaseAbsent))
			}
			time.Sleep(100 * time.Millisecond)
		}
		if _, ok := gauges.get("source:orders", "kind:new_type"); !ok {
			t.Error("no gauge for the orders' new types")
		}
	})

	t.Run("the status page shows the Drift section in a browser", func(t *testing.T) {
		bin := browser(t)
		dom := string(headless(t, bin, r.statusURL+"/", "--window-size=1280,1000", "--dump-dom"))
		for _, want := range []string{
			`<section id="drift">`, "<h2>Drift <small>",
			`<h3 data-drift-source="github-work-items">`, "<code>issue.reactions</code>",
			"mapper drift --samples " + dir + " --source github-work-items",
		} {
			if !strings.Contains(dom, want) {
				t.Errorf("the page in the browser lacks %q", want)
			}
		}
		if t.Failed() {
			t.Logf("DOM:\n%s", dom)
		}
	})

	cancel()
	select {
	case code := <-r.done:
		if code != exitOK {
			t.Fatalf("demo exit %d: %s", code, r.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("demo did not stop")
	}

	t.Run("one Sentry event per new drift", func(t *testing.T) {
		for _, p := range olderReleaseAbsent {
			n := 0
			sentry.mu.Lock()
			for _, b := range sentry.bodies {
				if bytes.Contains(b, []byte(`"fingerprint":["drift_absent_required","github-work-items",`)) && bytes.Contains(b, []byte(`,"`+p+`"],`)) {
					n++
				}
			}
			sentry.mu.Unlock()
			if n != 1 {
				t.Errorf("%d Sentry events for the drift absent_required at %s, want 1", n, p)
			}
		}
		if t.Failed() {
			sentry.mu.Lock()
			for _, b := range sentry.bodies {
				if bytes.Contains(b, []byte("drift_")) {
					t.Logf("%s", b)
					break
				}
			}
			sentry.mu.Unlock()
		}
	})

	t.Run("mapper drift lists the absent properties with counts", func(t *testing.T) {
		code, stdout, stderr := runCmd(t, context.Background(), nil, "drift", "--samples", dir, "--source", "github-work-items")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, p := range olderReleaseAbsent {
			if !strings.Contains(stdout, "absent_required  "+p+" ") {
				t.Errorf("no line for %s:\n%s", p, stdout)
			}
		}
		code, stdout, stderr = runCmd(t, context.Background(), nil, "drift", "--samples", dir, "--source", "github-work-items", "--json")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var rep drift.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		for _, e := range rep.Of(drift.KindAbsentRequired) {
			if e.Count == 0 || e.Share <= 0 || e.Share > 1 || e.FirstSeen.IsZero() {
				t.Errorf("entry %+v lacks its count, share or first seen", e)
			}
		}
	})

	t.Run("a source with no report is an error", func(t *testing.T) {
		code, _, stderr := runCmd(t, context.Background(), nil, "drift", "--samples", dir, "--source", "nope")
		if code != exitFailure || !strings.Contains(stderr, "no drift report of nope") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
}

// TestDriftOutput holds `mapper drift` text and JSON in golden files: a
// report kept while the GitHub fixtures, their older release and drifted
// copies (a new enum value, a type change, a new property) were mapped,
// with a fixed clock.
func TestDriftOutput(t *testing.T) {
	eng, err := mapper.Load("../../rules", "../../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("github-work-items")
	at := time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	o, err := drift.Open(drift.Config{Dir: dir, FlushInterval: time.Hour, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("../../fixtures/github-work-items", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	edit := func(f func(issue map[string]any)) []byte {
		var doc map[string]any
		if err := json.Unmarshal(read("issues.opened.payload.json"), &doc); err != nil {
			t.Fatal(err)
		}
		f(doc["issue"].(map[string]any))
		b, _ := json.Marshal(doc)
		return b
	}
	payloads := [][]byte{
		read("issues.opened.payload.json"), read("pull_request.opened.payload.json"),
		read("issues.opened.older-release.payload.json"), read("pull_request.opened.older-release.payload.json"),
		edit(func(is map[string]any) { is["state"] = "archived" }),
		edit(func(is map[string]any) { is["locked"] = "no" }),
		edit(func(is map[string]any) { is["sub_issues_summary"] = map[string]any{"total": 0} }),
	}
	for _, p := range payloads {
		res := src.Map(p)
		o.Observe(nil, src, p, &res, 0)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, golden string }{{"text", "github.txt"}, {"json", "github.json"}} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"drift", "--samples", dir, "--source", "github-work-items"}
			if tc.name == "json" {
				args = append(args, "--json")
			}
			code, stdout, stderr := runCmd(t, context.Background(), nil, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden(t, filepath.Join("testdata", "drift", tc.golden), stdout)
		})
	}
}

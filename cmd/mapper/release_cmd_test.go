package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/internal/syncbuf"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/stream"
)

// orderVariants are edits of the shipped orders rules: a candidate (v2)
// that accepts status "on-hold" (one more enum value) and refuses currency
// BRL (another field broken), rules that reject everything (v3), rules
// with a typo (v4, refused at load) and good rules again (v5).
var orderVariants = map[string][][2]string{
	"live": nil,
	"candidate": {
		{"version: 1", "version: 2"},
		{"currency:    { from: currency, required: true }", "currency:    { from: currency, required: true, enum: { EUR: EUR, USD: USD, GBP: GBP, JPY: JPY } }"},
		{"enum: { paid: PAID, pending: PENDING,", "enum: { paid: PAID, pending: PENDING, on-hold: PENDING,"},
	},
	"reject-all": {{"version: 1", "version: 3"}, {"id:          { from: order_id,", "id:          { from: order_number,"}},
	"broken":     {{"version: 1", "version: 4"}, {"transform: [trim, lowercase]", "transform: [trim, lowercse]"}},
	"fixed":      {{"version: 1", "version: 5"}},
}

// writeOrdersRules writes the shipped orders rules, edited as variant
// says and fed by topic, into dir (replacing the file atomically).
func writeOrdersRules(t *testing.T, dir, topic, variant string) {
	t.Helper()
	data, err := os.ReadFile("../../rules/orders.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), "topics: [partner.orders.raw]", "topics: ["+topic+"]", 1)
	edits, ok := orderVariants[variant]
	if !ok {
		t.Fatalf("no rules variant %q", variant)
	}
	for _, r := range edits {
		if !strings.Contains(s, r[0]) {
			t.Fatalf("rules/orders.yaml no longer has %q", r[0])
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".orders.yaml.tmp")
	if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "orders.yaml")); err != nil {
		t.Fatal(err)
	}
}

// orderFixtures returns the shipped order fixtures (generated partner data
// with its defects) as records with distinct keys.
func orderFixtures(t *testing.T) []kafka.Message {
	t.Helper()
	var msgs []kafka.Message
	for _, name := range []string{"../../fixtures/orders/generated.jsonl", "../../fixtures/orders/defects.jsonl"} {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
				msgs = append(msgs, kafka.Message{Key: fmt.Appendf(nil, "order-%d", len(msgs)), Value: bytes.Clone(line)})
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return msgs
}

// statsdSink collects the counts of one metric, by one tag, from DogStatsD
// datagrams on a loopback UDP port.
type statsdSink struct {
	conn   net.PacketConn
	mu     sync.Mutex
	counts map[string]float64
	done   chan struct{}
}

func newStatsdSink(t *testing.T, metric, tag string) *statsdSink {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &statsdSink{conn: conn, counts: map[string]float64{}, done: make(chan struct{})}
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
				if !ok || name != metric {
					continue
				}
				fields := strings.Split(rest, "|")
				v, err := strconv.ParseFloat(fields[0], 64)
				if err != nil || len(fields) < 2 || fields[1] != "c" {
					continue
				}
				for _, f := range fields[2:] {
					if !strings.HasPrefix(f, "#") {
						continue
					}
					for _, tg := range strings.Split(f[1:], ",") {
						if k, val, _ := strings.Cut(tg, ":"); k == tag {
							s.mu.Lock()
							s.counts[val] += v
							s.mu.Unlock()
						}
					}
				}
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); <-s.done })
	return s
}

func (s *statsdSink) addr() string { return "udp://" + s.conn.LocalAddr().String() }

// await returns the count of val once it is want, or what it is after a
// few seconds: the packets of a run that just ended may still be on their
// way to the sink's goroutine.
func (s *statsdSink) await(val string, want float64) float64 {
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		got := s.counts[val]
		s.mu.Unlock()
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runningCmd is a command line running in the background.
type runningCmd struct {
	done      chan int
	stderr    *syncbuf.Buffer
	statusURL string
}

// startRun runs `mapper ARGS --status-addr 127.0.0.1:PORT` until ctx ends,
// with env as the environment (samples in a temporary directory unless
// MAPPER_SAMPLES is set).
func startRun(t *testing.T, ctx context.Context, env map[string]string, args ...string) *runningCmd {
	t.Helper()
	port := kafkatest.FreePort(t)
	r := &runningCmd{done: make(chan int, 1), stderr: &syncbuf.Buffer{}, statusURL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	samples := t.TempDir()
	args = append(args, "--status-addr", fmt.Sprintf("127.0.0.1:%d", port))
	go func() {
		r.done <- run(ctx, args, strings.NewReader(""), io.Discard, r.stderr, func(k string) string {
			if v, ok := env[k]; ok || k != "MAPPER_SAMPLES" {
				return v
			}
			return samples
		})
	}()
	return r
}

// waitStatus polls /status until cond holds (failing the test after 90s or
// if the command ends) and returns the status that satisfied it.
func (r *runningCmd) waitStatus(t *testing.T, what string, cond func(stream.Status) bool) stream.Status {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, err := getStatus(r.statusURL + "/status")
		if err == nil && cond(st) {
			return st
		}
		select {
		case code := <-r.done:
			t.Fatalf("mapper ended with %d before %s:\n%s", code, what, r.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("not %s within 90s: %+v, %v\n%s", what, st.Counts, err, r.stderr.String())
		}
	}
}

// sentrySink is an httptest server standing in for Sentry's ingest
// endpoint; it keeps every request body.
type sentrySink struct {
	dsn    string
	mu     sync.Mutex
	bodies [][]byte
}

func newSentrySink(t *testing.T) *sentrySink {
	t.Helper()
	s := &sentrySink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, b)
		s.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	s.dsn = "http://key@" + strings.TrimPrefix(srv.URL, "http://") + "/1"
	return s
}

// count returns how many requests contain sub.
func (s *sentrySink) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.bodies {
		if bytes.Contains(b, []byte(sub)) {
			n++
		}
	}
	return n
}

// changedByMask reports whether redaction masks r (letters become x or X,
// digits 0).
func changedByMask(r rune) bool {
	return (unicode.IsLetter(r) && r != 'x' && r != 'X') || (unicode.IsDigit(r) && r != '0')
}

// getStatus reads the worker's /status page.
func getStatus(url string) (stream.Status, error) {
	var st stream.Status
	resp, err := http.Get(url)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

// TestRunShadowCountsWhatReplaySays runs `mapper run --candidate-rules`
// with a candidate that maps one more status and breaks the currency:
// /status and the metrics count now_mapped and newly_failing records as
// `mapper replay` of the kept candidate samples does, and only the live
// rules' results are delivered.
func TestRunShadowCountsWhatReplaySays(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in, out, dlq := b.Topic(t, "orders", 3), b.Topic(t, "out", 3), b.Topic(t, "dlq", 1)
			tmp := t.TempDir()
			rules, cand, samplesDir := filepath.Join(tmp, "rules"), filepath.Join(tmp, "candidate"), filepath.Join(tmp, "samples")
			writeOrdersRules(t, rules, in, "live")
			writeOrdersRules(t, cand, in, "candidate")
			sink := newStatsdSink(t, "mapper.candidate.records", "verdict")
			sentry := newSentrySink(t)
			msgs := orderFixtures(t)
			b.Produce(t, in, msgs...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := startRun(t, ctx, map[string]string{"DD_DOGSTATSD_URL": sink.addr(), "MAPPER_SAMPLES": samplesDir, "SENTRY_DSN": sentry.dsn},
				"run", "--rules", rules, "--schemas", "../../schemas", "--candidate-rules", cand,
				"--brokers", b.Addr, "--group", kafkatest.UniqueName("g"), "--output-topic", out, "--dlq-topic", dlq,
				"--samples-per-category", "100000")
			st := r.waitStatus(t, "every record committed", func(st stream.Status) bool { return st.Counts.Committed >= int64(len(msgs)) })
			cancel()
			if code := <-r.done; code != exitOK {
				t.Fatalf("exit %d:\n%s", code, r.stderr.String())
			}

			if st.Rules["orders"] != 1 || st.Candidate == nil || st.Candidate.Versions["orders"] != 2 || st.Candidate.Mode != "shadow" {
				t.Fatalf("status rules %v candidate %+v", st.Rules, st.Candidate)
			}
			code, stdout, stderr := runCmd(t, context.Background(), nil, "replay", "--samples", samplesDir,
				"--rules", cand, "--schemas", "../../schemas", "--source", "orders", "--json")
			if code != exitFailure { // the candidate regresses: replay says so
				t.Fatalf("replay exit %d, want 1 (a regression); stderr:\n%s", code, stderr)
			}
			var rep struct {
				Rows []struct {
					Category     string `json:"category"`
					Samples      int    `json:"samples"`
					NowMapped    int    `json:"now_mapped"`
					NewlyFailing int    `json:"newly_failing"`
				} `json:"rows"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("replay --json: %v\n%s", err, stdout)
			}
			replay := map[mapper.Verdict]int{}
			for _, r := range rep.Rows {
				switch r.Category {
				case "candidate:now_mapped":
					replay[mapper.VerdictNowMapped] = r.NowMapped
				case "candidate:newly_failing":
					replay[mapper.VerdictNewlyFailing] = r.NewlyFailing
				}
			}
			for _, v := range []mapper.Verdict{mapper.VerdictNowMapped, mapper.VerdictNewlyFailing} {
				status := st.Candidate.Verdicts[v]
				if status == 0 {
					t.Errorf("status counts no %s record", v)
				}
				if int64(replay[v]) != status {
					t.Errorf("%s: status %d, replay of the kept samples %d", v, status, replay[v])
				}
				if m := sink.await(string(v), float64(status)); int64(m) != status {
					t.Errorf("%s: metric mapper.candidate.records %v, status %d", v, m, status)
				}
			}
			t.Logf("verdicts: status %v, replay %v", st.Candidate.Verdicts, replay)
			var total int64
			for _, n := range st.Candidate.Verdicts {
				total += n
			}
			if total != int64(len(msgs)) {
				t.Errorf("verdicts add up to %d, want one per record (%d)", total, len(msgs))
			}
			// One Sentry event for the candidate's newly failing records, and
			// no customer e-mail (a redacted path) in any event or sample.
			if n := sentry.count(`"kind":"candidate_newly_failing"`); n != 1 {
				t.Errorf("%d Sentry events for the candidate's newly failing records, want 1", n)
			}
			var kept []byte
			err := filepath.WalkDir(samplesDir, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					b, rerr := os.ReadFile(path)
					kept = append(kept, b...)
					return rerr
				}
				return err
			})
			if err != nil || !bytes.Contains(kept, []byte("candidate:newly_failing")) {
				t.Fatalf("no candidate samples kept (%v)", err)
			}
			for _, m := range msgs {
				var p struct {
					Customer struct {
						Email any `json:"email"`
					} `json:"customer"`
				}
				if json.Unmarshal(m.Value, &p) != nil {
					continue
				}
				// A value that masking leaves as it is (" X@  ") proves nothing.
				email, ok := p.Customer.Email.(string)
				if !ok || !strings.ContainsFunc(email, changedByMask) {
					continue
				}
				if sentry.count(email) > 0 {
					t.Errorf("a Sentry event carries the redacted e-mail %q", email)
				}
				if bytes.Contains(kept, []byte(email)) {
					t.Errorf("a kept sample carries the redacted e-mail %q", email)
				}
			}
			// What was delivered is the live rules' only, once per record.
			n := 0
			for _, topic := range []string{out, dlq} {
				for _, m := range b.ReadAll(t, topic) {
					n++
					if v, _ := kafkatest.Header(m, stream.HeaderRulesVersion); v != "1" {
						t.Fatalf("a record delivered with rules version %q, want only the live 1", v)
					}
				}
			}
			if n != len(msgs) {
				t.Errorf("%d records delivered for %d inputs", n, len(msgs))
			}
		})
	}
}

// TestRunReloadsRulesAndPausesASourceThatRejectsEverything drives `mapper
// run --watch-rules --max-reject-ratio 0.5`: a broken rules file is refused
// with its position and the running rules stay; rules that reject everything
// pause the source (503 on /readyz, the dead-letter topic barely touched)
// instead of dead-lettering the feed; fixed rules, loaded on SIGHUP, resume
// it, and every record is delivered exactly once.
func TestRunReloadsRulesAndPausesASourceThatRejectsEverything(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in, out, dlq := b.Topic(t, "orders", 3), b.Topic(t, "out", 3), b.Topic(t, "dlq", 1)
			rules := filepath.Join(t.TempDir(), "rules")
			writeOrdersRules(t, rules, in, "live")
			live, err := mapper.Load(rules, "../../schemas", mapper.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// Records the live rules deliver: only the bad deploy rejects.
			var clean []kafka.Message
			for _, m := range orderFixtures(t) {
				if res := live.Sources()[0].Map(m.Value); res.Outcome.Delivered() {
					clean = append(clean, m)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := startRun(t, ctx, map[string]string{"MAPPER_METRICS": "false"},
				"run", "--rules", rules, "--schemas", "../../schemas", "--watch-rules", "50ms",
				"--max-reject-ratio", "0.5", "--breaker-min-records", "20",
				"--brokers", b.Addr, "--group", kafkatest.UniqueName("g"), "--output-topic", out, "--dlq-topic", dlq)
			b.Produce(t, in, clean[:60]...)
			r.waitStatus(t, "the first records committed", func(st stream.Status) bool { return st.Counts.Committed >= 60 })

			writeOrdersRules(t, rules, in, "broken")
			want := `orders.yaml:13:58: unknown transform "lowercse" (did you mean "lowercase"?)`
			for deadline := time.Now().Add(30 * time.Second); !strings.Contains(r.stderr.String(), want); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the refused reload did not print %q:\n%s", want, r.stderr.String())
				}
			}
			if st, err := getStatus(r.statusURL + "/status"); err != nil || st.Rules["orders"] != 1 {
				t.Fatalf("after a refused reload: rules %v (%v), want version 1 running", st.Rules, err)
			}

			writeOrdersRules(t, rules, in, "reject-all")
			r.waitStatus(t, "the reject-all rules loaded", func(st stream.Status) bool { return st.Rules["orders"] == 3 })
			dlqBefore := mustStatus(t, r).Counts.DeadLtr
			b.Produce(t, in, clean[60:]...)
			st := r.waitStatus(t, "the source paused", func(st stream.Status) bool { return len(st.Paused) == 1 })
			resp, err := http.Get(r.statusURL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "paused: source orders") {
				t.Errorf("/readyz while paused: %d %q", resp.StatusCode, body)
			}
			time.Sleep(300 * time.Millisecond) // room to dead-letter the rest, were it not paused
			st = mustStatus(t, r)
			if added := st.Counts.DeadLtr - dlqBefore; added > 40 || st.Counts.Committed >= int64(len(clean)) {
				t.Errorf("paused source: %d records dead-lettered, %d of %d committed", added, st.Counts.Committed, len(clean))
			}

			writeOrdersRules(t, rules, in, "fixed")
			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			st = r.waitStatus(t, "every record committed", func(st stream.Status) bool {
				return st.Counts.Committed >= int64(len(clean)) && st.Rules["orders"] == 5
			})
			if len(st.Paused) != 0 || !st.Ready {
				t.Errorf("not resumed after the reload: paused %+v, ready %t", st.Paused, st.Ready)
			}
			cancel()
			if code := <-r.done; code != exitOK {
				t.Fatalf("exit %d:\n%s", code, r.stderr.String())
			}
			for _, w := range []string{"reload refused; the running rules stay", "rules reloaded: live orders v3", "reject-ratio breaker tripped", "rules reloaded: live orders v5"} {
				if !strings.Contains(r.stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr.String())
				}
			}
			seen := map[kafkatest.Coord]int{}
			for _, topic := range []string{out, dlq} {
				for _, m := range b.ReadAll(t, topic) {
					tp, _ := kafkatest.Header(m, stream.HeaderOriginTopic)
					p, _ := kafkatest.Header(m, stream.HeaderOriginPartition)
					o, _ := kafkatest.Header(m, stream.HeaderOriginOffset)
					pn, _ := strconv.Atoi(p)
					on, _ := strconv.ParseInt(o, 10, 64)
					seen[kafkatest.Coord{Topic: tp, Partition: pn, Offset: on}]++
				}
			}
			for _, m := range b.ReadAll(t, in) {
				if n := seen[kafkatest.Coord{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}]; n != 1 {
					t.Errorf("input %s/%d@%d delivered %d times, want once", m.Topic, m.Partition, m.Offset, n)
				}
			}
		})
	}
}

func mustStatus(t *testing.T, r *runningCmd) stream.Status {
	t.Helper()
	st, err := getStatus(r.statusURL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRunRefusesBadReleaseSettingsBeforeStarting(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken")
	writeOrdersRules(t, broken, "partner.orders.raw", "broken")
	base := []string{"run", "--rules", "../../rules", "--schemas", "../../schemas", "--brokers", "127.0.0.1:1",
		"--output-topic", "o", "--dlq-topic", "d", "--status-addr", ""}
	for _, tt := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown candidate mode", []string{"--candidate-mode", "blue-green"}, exitUsage,
			[]string{`--candidate-mode "blue-green": want shadow or canary`}},
		{"canary without candidate", []string{"--candidate-mode", "canary"}, exitUsage,
			[]string{"--candidate-mode canary needs --candidate-rules"}},
		{"ratios out of range, every one reported", []string{"--canary-share", "1.5", "--max-reject-ratio", "half"}, exitUsage,
			[]string{`--canary-share "1.5": want a number from 0 to 1`, `--max-reject-ratio "half": want a number from 0 to 1`}},
		{"bad durations", []string{"--watch-rules", "soon", "--canary-window", "0"}, exitUsage,
			[]string{`--watch-rules "soon": want a positive duration`, `--canary-window "0": want a positive duration`}},
		{"broken candidate rules stop start-up with their positions", []string{"--candidate-rules", broken}, exitFailure,
			[]string{"candidate rules " + broken, `orders.yaml:13:58: unknown transform "lowercse" (did you mean "lowercase"?)`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code, _, stderr := runCmd(t, ctx, map[string]string{"MAPPER_METRICS": "false"}, append(append([]string(nil), base...), tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestDemoWithCandidateRules runs `mapper demo` with a shadow candidate and
// with a canary that rejects every order: the summary shows the verdicts,
// and the canary is rolled back.
func TestDemoWithCandidateRules(t *testing.T) {
	for _, tt := range []struct {
		name    string
		variant string
		args    []string
		want    []string
	}{
		{"shadow", "candidate", nil, []string{"candidate rules (shadow)", "same  now_mapped  newly_failing"}},
		{"canary rolled back", "reject-all", []string{"--candidate-mode", "canary", "--canary-share", "0.2"},
			[]string{"candidate rules (canary)", "live records  canary records", "ROLLED BACK orders: candidate delivered 0.0% of 20 canary records"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cand := filepath.Join(t.TempDir(), "candidate")
			writeOrdersRules(t, cand, "partner.orders.raw", tt.variant)
			args := append([]string{"demo", "--candidate-rules", cand, "--duration", "4s", "--rate", "300", "--refresh", "1h", "--status-addr", ""}, tt.args...)
			code, stdout, stderr := runCmd(t, context.Background(), map[string]string{"MAPPER_METRICS": "false"}, args...)
			if code != exitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("summary lacks %q:\n%s", w, stdout)
				}
			}
			var live, cv int
			for _, line := range strings.Split(stdout, "\n") {
				if _, err := fmt.Sscanf(line, "orders v%d v%d", &live, &cv); err == nil {
					break
				}
			}
			if want := map[string]int{"candidate": 2, "reject-all": 3}[tt.variant]; live != 1 || cv != want {
				t.Errorf("candidate row shows live v%d candidate v%d, want v1 and v%d:\n%s", live, cv, want, stdout)
			}
		})
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/stream"
)

// writeOrdersRules writes the shipped orders rules, fed by topic, into dir;
// candidate also makes them version 2, accepting status "on-hold" (one
// more enum value) and refusing currency BRL (another field broken).
func writeOrdersRules(t *testing.T, dir, topic string, candidate bool) {
	t.Helper()
	data, err := os.ReadFile("../../rules/orders.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), "topics: [partner.orders.raw]", "topics: ["+topic+"]", 1)
	if candidate {
		for _, r := range [][2]string{
			{"version: 1", "version: 2"},
			{"currency:    { from: currency, required: true }", "currency:    { from: currency, required: true, enum: { EUR: EUR, USD: USD, GBP: GBP, JPY: JPY } }"},
			{"enum: { paid: PAID, pending: PENDING,", "enum: { paid: PAID, pending: PENDING, on-hold: PENDING,"},
		} {
			if !strings.Contains(s, r[0]) {
				t.Fatalf("rules/orders.yaml no longer has %q", r[0])
			}
			s = strings.Replace(s, r[0], r[1], 1)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "orders.yaml"), []byte(s), 0o644); err != nil {
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

func (s *statsdSink) get(val string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[val]
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
			writeOrdersRules(t, rules, in, false)
			writeOrdersRules(t, cand, in, true)
			sink := newStatsdSink(t, "mapper.candidate.records", "verdict")
			port := kafkatest.FreePort(t)
			statusURL := fmt.Sprintf("http://127.0.0.1:%d/status", port)

			msgs := orderFixtures(t)
			b.Produce(t, in, msgs...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type result struct {
				code   int
				stderr string
			}
			done := make(chan result, 1)
			go func() {
				code, _, stderr := runCmd(t, ctx, map[string]string{"DD_DOGSTATSD_URL": sink.addr(), "MAPPER_SAMPLES": samplesDir},
					"run", "--rules", rules, "--schemas", "../../schemas", "--candidate-rules", cand,
					"--brokers", b.Addr, "--group", kafkatest.UniqueName("g"), "--output-topic", out, "--dlq-topic", dlq,
					"--status-addr", fmt.Sprintf("127.0.0.1:%d", port), "--samples-per-category", "100000")
				done <- result{code, stderr}
			}()
			var st stream.Status
			deadline := time.Now().Add(90 * time.Second)
			for {
				var err error
				st, err = getStatus(statusURL)
				if err == nil && st.Counts.Committed >= int64(len(msgs)) {
					break
				}
				select {
				case r := <-done:
					t.Fatalf("mapper run ended early with %d:\n%s", r.code, r.stderr)
				case <-time.After(50 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("not every record committed within 90s: %+v, %v", st.Counts, err)
				}
			}
			cancel()
			if r := <-done; r.code != exitOK {
				t.Fatalf("exit %d:\n%s", r.code, r.stderr)
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
				if m := sink.get(string(v)); int64(m) != status {
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

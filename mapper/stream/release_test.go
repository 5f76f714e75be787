package stream_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/internal/syncbuf"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/release"
	"github.com/mapperhq/mapper/mapper/stream"
)

// The rule sets of these tests are the release package's: live (orders v1),
// candidate (v2: accepts status "on-hold", refuses currency BRL),
// reject-all (v3) and broken (an unknown transform).
const releaseData = "../release/testdata"

// releaseRules writes the rules of testdata set into dir with their input
// topic set to topic (dir is created if needed; the file is replaced
// atomically).
func releaseRules(tb testing.TB, set, dir, topic string) {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(releaseData, set, "orders.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	data = bytes.Replace(data, []byte("topics: [partner.orders.raw]"), []byte("topics: ["+topic+"]"), 1)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	tmp := filepath.Join(dir, ".orders.yaml.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "orders.yaml")); err != nil {
		tb.Fatal(err)
	}
}

func loadRules(tb testing.TB, dir string) *mapper.Engine {
	tb.Helper()
	e, err := mapper.Load(dir, filepath.Join(releaseData, "schemas"), mapper.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// releaseSet returns the engine of testdata set for topic.
func releaseSet(tb testing.TB, set, topic string) *mapper.Engine {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), set)
	releaseRules(tb, set, dir, topic)
	return loadRules(tb, dir)
}

// orderRecords returns n records of the generated partner orders (real
// defects included), each with its own key.
func orderRecords(tb testing.TB, n, from int) []kafka.Message {
	tb.Helper()
	f, err := os.Open(filepath.Join(releaseData, "orders.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: fmt.Appendf(nil, "order-%d", from+i), Value: lines[(from+i)%len(lines)]}
	}
	return msgs
}

// copies maps every input record to the output and dead-letter records
// written for it.
func copies(t *testing.T, b *kafkatest.Broker, out, dlq string) map[kafkatest.Coord][]kafka.Message {
	t.Helper()
	got := map[kafkatest.Coord][]kafka.Message{}
	for _, topic := range []string{out, dlq} {
		for _, m := range b.ReadAll(t, topic) {
			c := originOf(t, m)
			got[c] = append(got[c], m)
		}
	}
	return got
}

func versionOf(t *testing.T, m kafka.Message) int {
	t.Helper()
	v, _ := kafkatest.Header(m, stream.HeaderRulesVersion)
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("record without a rules version header: %v", m.Headers)
	}
	return n
}

func TestShadowDeliversLiveResultsAndCountsVerdicts(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in, out, dlq := b.Topic(t, "orders", 3), b.Topic(t, "out", 3), b.Topic(t, "dlq", 1)
			live, cand := releaseSet(t, "live", in), releaseSet(t, "candidate", in)
			rel, err := release.New(release.Config{Live: live, Candidate: cand})
			if err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(b, live, kafkatest.UniqueName("g"), []string{in}, out, dlq)
			cfg.Release = rel
			r := start(t, cfg)
			msgs := orderRecords(t, 300, 0)
			b.Produce(t, in, msgs...)
			waitLagZero(t, r.w, 60*time.Second)

			want := map[mapper.Verdict]int64{}
			for _, m := range msgs {
				lr, cr := live.Sources()[0].Map(m.Value), cand.Sources()[0].Map(m.Value)
				want[mapper.Compare(&lr, &cr)]++
			}
			st := r.w.Status(context.Background(), 5)
			if st.Candidate == nil {
				t.Fatal("status has no candidate")
			}
			for _, v := range mapper.Verdicts() {
				if got := st.Candidate.Verdicts[v]; got != want[v] {
					t.Errorf("status verdict %s = %d, want %d", v, got, want[v])
				}
			}
			if want[mapper.VerdictNowMapped] == 0 || want[mapper.VerdictNewlyFailing] == 0 {
				t.Fatalf("the records should have both now_mapped and newly_failing verdicts: %v", want)
			}
			if st.Rules[live.Sources()[0].Name()] != 1 || st.Candidate.Versions["orders"] != 2 {
				t.Errorf("status versions: rules %v, candidate %v", st.Rules, st.Candidate.Versions)
			}
			// Only the live rules' results were delivered, once each.
			verifyDelivered(t, b, live, []string{in}, out, dlq)
			for c, ms := range copies(t, b, out, dlq) {
				for _, m := range ms {
					if v := versionOf(t, m); v != 1 {
						t.Errorf("%s delivered with rules version %d", c, v)
					}
				}
			}
		})
	}
}

func TestCanaryThatRejectsEverythingIsRolledBackWithNothingLost(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in, out, dlq := b.Topic(t, "orders", 3), b.Topic(t, "out", 3), b.Topic(t, "dlq", 1)
			live, bad := releaseSet(t, "live", in), releaseSet(t, "reject-all", in)
			const window = time.Minute
			var logs syncbuf.Buffer
			rel, err := release.New(release.Config{
				Live: live, Candidate: bad, Mode: release.ModeCanary, CanaryShare: 0.2,
				CanaryMaxDrop: 0.1, CanaryWindow: window, CanaryMinRecords: 20, Logger: newTextLogger(&logs),
			})
			if err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(b, live, kafkatest.UniqueName("g"), []string{in}, out, dlq)
			cfg.Release = rel
			cfg.BatchSize = 20 // several batches: the rollback lands between them
			began := time.Now()
			r := start(t, cfg)
			msgs := orderRecords(t, 600, 0)
			b.Produce(t, in, msgs...)
			waitLagZero(t, r.w, 90*time.Second)

			st := r.w.Status(context.Background(), 5).Candidate
			if st == nil || !st.RolledBack || len(st.Sources) != 1 || st.Sources[0].RolledBack == nil {
				t.Fatalf("candidate not rolled back: %+v", st)
			}
			rb := st.Sources[0].RolledBack
			if took := rb.At.Sub(began); took > window {
				t.Errorf("rolled back %v after start, later than its window %v", took, window)
			}
			if rb.Records != 20 {
				t.Errorf("rolled back after %d canary records, want the 20 of the minimum", rb.Records)
			}
			if n := strings.Count(logs.String(), "canary rolled back"); n != 1 {
				t.Errorf("the rollback was logged %d times, want once", n)
			}
			// Nothing lost: every input is in the output or the dead-letter
			// topic, with the candidate's version only for canary records
			// mapped before the rollback.
			got := copies(t, b, out, dlq)
			var canary int
			for _, m := range b.ReadAll(t, in) {
				cs := got[coord(m)]
				if len(cs) == 0 {
					t.Fatalf("input %s lost", coord(m))
				}
				for _, c := range cs {
					if versionOf(t, c) == 3 {
						canary++
						if c.Topic != dlq {
							t.Errorf("%s: a candidate result that rejects everything reached the output", coord(m))
						}
					}
				}
			}
			if canary != int(st.Sources[0].CanaryRecords) || canary < 20 || canary > 60 {
				t.Errorf("%d records delivered with the candidate; status says %d; want 20 to a few batches more", canary, st.Sources[0].CanaryRecords)
			}
		})
	}
}

func TestReloadKeepsRulesOnProblemsAndSwapsWithoutLossOrDuplicates(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in, out, dlq := b.Topic(t, "orders", 3), b.Topic(t, "out", 3), b.Topic(t, "dlq", 1)
			dir := filepath.Join(t.TempDir(), "rules")
			releaseRules(t, "live", dir, in)
			load := func() (*mapper.Engine, *mapper.Engine, error) {
				e, err := mapper.Load(dir, filepath.Join(releaseData, "schemas"), mapper.Options{})
				return e, nil, err
			}
			live := loadRules(t, dir)
			rel, err := release.New(release.Config{Live: live})
			if err != nil {
				t.Fatal(err)
			}
			reloader := release.NewReloader(rel, load, dir)
			var problems bytes.Buffer
			reloader.Out = &problems
			cfg := testConfig(b, live, kafkatest.UniqueName("g"), []string{in}, out, dlq)
			cfg.Release = rel
			cfg.BatchSize = 25
			r := start(t, cfg)

			// Records flow while the rules are reloaded twice.
			const n = 900
			produced := make(chan struct{})
			go func() {
				defer close(produced)
				for i := 0; i < n; i += 30 {
					if err := b.ProduceCtx(context.Background(), in, orderRecords(t, 30, i)...); err != nil {
						t.Error(err)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
			waitUntil(t, func() bool { c := r.w.Counts(0); return c.Output+c.DeadLtr >= 150 })
			releaseRules(t, "broken", dir, in)
			if err := reloader.Reload(); err == nil {
				t.Fatal("a broken rule file was accepted")
			}
			if !strings.Contains(problems.String(), `orders.yaml:10:58: unknown transform "lowercse" (did you mean "lowercase"?)`) {
				t.Errorf("the problems were not printed with their positions:\n%s", problems.String())
			}
			if v := r.w.Status(context.Background(), 0).Rules["orders"]; v != 1 {
				t.Fatalf("status shows rules version %d after a refused reload, want 1", v)
			}
			releaseRules(t, "candidate", dir, in) // version 2
			if err := reloader.Reload(); err != nil {
				t.Fatal(err)
			}
			if v := r.w.Status(context.Background(), 0).Rules["orders"]; v != 2 {
				t.Fatalf("status shows rules version %d after a good reload, want 2", v)
			}
			<-produced
			if err := b.WaitEnd(context.Background(), in, n); err != nil {
				t.Fatal(err)
			}
			waitLagZero(t, r.w, 90*time.Second)

			got := copies(t, b, out, dlq)
			versions := map[int]int{}
			lastV1 := map[int]int64{}
			firstV2 := map[int]int64{}
			for _, m := range b.ReadAll(t, in) {
				cs := got[coord(m)]
				if len(cs) != 1 {
					t.Fatalf("input %s delivered %d times, want once", coord(m), len(cs))
				}
				v := versionOf(t, cs[0])
				versions[v]++
				if v == 1 {
					lastV1[m.Partition] = max(lastV1[m.Partition], m.Offset)
				} else if f, ok := firstV2[m.Partition]; !ok || m.Offset < f {
					firstV2[m.Partition] = m.Offset
				}
			}
			if versions[1] == 0 || versions[2] == 0 || versions[1]+versions[2] != n {
				t.Errorf("records by rules version: %v, want both versions and %d in all", versions, n)
			}
			for p, f := range firstV2 {
				if l, ok := lastV1[p]; ok && l > f {
					t.Errorf("partition %d: version 1 at offset %d after version 2 at %d: the swap was not between records", p, l, f)
				}
			}
		})
	}
}

func TestBreakerPausesASourceThatRejectsEverything(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in, out, dlq := b.Topic(t, "orders", 3), b.Topic(t, "out", 3), b.Topic(t, "dlq", 1)
			other := b.Topic(t, "unclaimed", 1) // another feed: it must go on while orders pause
			live, bad := releaseSet(t, "live", in), releaseSet(t, "reject-all", in)
			rel, err := release.New(release.Config{Live: live, MaxRejectRatio: 0.5, BreakerWindow: time.Minute, BreakerMinRecords: 20})
			if err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(b, live, kafkatest.UniqueName("g"), []string{in, other}, out, dlq)
			cfg.Release = rel
			cfg.BatchSize = 10
			r := start(t, cfg)
			srv := httptest.NewServer(r.w.Handler())
			defer srv.Close()

			// Records the live rules map, so that only the bad deploy can
			// trip the breaker.
			var clean []kafka.Message
			for _, m := range orderRecords(t, 1000, 0) {
				if res := live.Sources()[0].Map(m.Value); res.Outcome.Delivered() && len(clean) < 600 {
					clean = append(clean, m)
				}
			}
			b.Produce(t, in, clean[:100]...)
			waitLagZero(t, r.w, 60*time.Second)
			dlqBefore := r.w.Counts(0).DeadLtr

			// A deploy of rules that reject everything.
			if err := rel.Swap(bad, nil); err != nil {
				t.Fatal(err)
			}
			b.Produce(t, in, clean[100:]...)
			waitUntil(t, func() bool { return len(rel.Paused()) == 1 })
			code, body := get(t, srv.URL+"/readyz")
			if code != http.StatusServiceUnavailable || !strings.Contains(body, "paused: source orders") || !strings.Contains(body, "max-reject-ratio") {
				t.Errorf("/readyz while paused: %d %q", code, body)
			}
			// Give the worker time it would need to dead-letter much more.
			time.Sleep(500 * time.Millisecond)
			c := r.w.Counts(0)
			if added := c.DeadLtr - dlqBefore; added > 40 {
				t.Errorf("%d records dead-lettered after the bad deploy, want at most the breaker's window of 20 and a batch or two", added)
			}
			if c.Committed >= 600 {
				t.Errorf("all %d records committed while paused", c.Committed)
			}
			st := r.w.Status(context.Background(), 0)
			if len(st.Paused) != 1 || st.Paused[0].Source != "orders" {
				t.Errorf("status paused: %+v", st.Paused)
			}
			// The pause holds the orders partitions only: another feed's
			// records are delivered and committed meanwhile.
			b.Produce(t, other, orderRecords(t, 30, 0)...)
			waitUntil(t, func() bool {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				lags, err := r.w.Lag(ctx)
				if err != nil {
					return false
				}
				for _, l := range lags {
					if l.Topic == other && (l.Lag != 0 || l.Committed < 30) {
						return false
					}
				}
				return true
			})
			if len(rel.Paused()) != 1 {
				t.Fatal("the pause ended by itself")
			}

			// A reload resumes; nothing is lost.
			if err := rel.Swap(live, nil); err != nil {
				t.Fatal(err)
			}
			waitLagZero(t, r.w, 60*time.Second)
			if code, _ := get(t, srv.URL+"/readyz"); code != http.StatusOK {
				t.Errorf("/readyz after the reload: %d", code)
			}
			got := copies(t, b, out, dlq)
			for _, m := range b.ReadAll(t, in) {
				if len(got[coord(m)]) == 0 {
					t.Fatalf("input %s lost", coord(m))
				}
			}
		})
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func waitUntil(tb testing.TB, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	tb.Fatal("condition not met within 60s")
}

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/samples"
	"github.com/mapperhq/mapper/mapper/sampletopic"
)

// sharedRules writes the shipped orders rules, claiming a fresh input
// topic, into a temporary directory, and returns it with the topic.
func sharedRules(t *testing.T) (dir, topic string) {
	t.Helper()
	b, err := os.ReadFile("../../rules/orders.yaml")
	if err != nil {
		t.Fatal(err)
	}
	topic = kafkatest.UniqueName("orders-raw")
	dir = t.TempDir()
	b = bytes.Replace(b, []byte("partner.orders.raw"), []byte(topic), 1)
	if err := os.WriteFile(filepath.Join(dir, "orders.yaml"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, topic
}

// orderStream returns n order payloads, the shipped fixtures (generated
// orders and the defective ones) over and over, as keyed records.
func orderStream(t *testing.T, n, from int) []kafka.Message {
	t.Helper()
	var lines [][]byte
	for _, f := range []string{"../../fixtures/orders/generated.jsonl", "../../fixtures/orders/defects.jsonl"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines = append(lines, l)
			}
		}
	}
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: fmt.Appendf(nil, "order-%d", from+i), Value: lines[(from+i)%len(lines)], Partition: -1}
	}
	return msgs
}

// wantSeen maps the records with the rules and counts each category the
// sample store counts (clean for mapped records without failure).
func wantSeen(t *testing.T, rules string, msgs []kafka.Message) map[string]uint64 {
	t.Helper()
	eng, err := mapper.Load(rules, "../../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("orders")
	want := map[string]uint64{}
	for _, m := range msgs {
		res := src.Map(m.Value)
		if len(res.Failures) == 0 && res.Outcome == mapper.OutcomeMapped {
			want[samples.CleanCategory]++
		}
		seen := map[string]bool{}
		for _, f := range res.Failures {
			if c := f.Category().String(); !seen[c] {
				seen[c] = true
				want[c]++
			}
		}
	}
	return want
}

// fingerprintServer stands in for Sentry's ingest endpoint and counts the
// events it receives by fingerprint.
type fingerprintServer struct {
	dsn string
	mu  sync.Mutex
	got map[string]int
	bad []string
}

func newFingerprintServer(t *testing.T) *fingerprintServer {
	s := &fingerprintServer{got: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				s.fail(err.Error())
				return
			}
			body = zr
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			s.fail(err.Error())
			return
		}
		// An envelope: header line, then item header and payload lines.
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		var prevEvent bool
		for sc.Scan() {
			line := sc.Bytes()
			var hdr struct {
				Type string `json:"type"`
			}
			if prevEvent {
				var ev struct {
					Fingerprint []string `json:"fingerprint"`
				}
				if err := json.Unmarshal(line, &ev); err != nil {
					s.fail(err.Error())
				}
				s.mu.Lock()
				s.got[strings.Join(ev.Fingerprint, "|")]++
				s.mu.Unlock()
				prevEvent = false
				continue
			}
			if json.Unmarshal(line, &hdr) == nil && hdr.Type == "event" {
				prevEvent = true
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	s.dsn = "http://public@" + strings.TrimPrefix(srv.URL, "http://") + "/7"
	return s
}

func (s *fingerprintServer) fail(msg string) {
	s.mu.Lock()
	s.bad = append(s.bad, msg)
	s.mu.Unlock()
}

func (s *fingerprintServer) events() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.got {
		out[k] = v
	}
	return out
}

// sharedWorker is one `mapper run --samples-topic` in the background.
type sharedWorker struct {
	cancel context.CancelFunc
	done   chan result
}

type result struct {
	code           int
	stdout, stderr string
}

func startSharedWorker(t *testing.T, env map[string]string, args ...string) *sharedWorker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &sharedWorker{cancel: cancel, done: make(chan result, 1)}
	go func() {
		code, o, e := runCmd(t, ctx, env, args...)
		w.done <- result{code, o, e}
	}()
	return w
}

// stop cancels the worker and waits for it; a negative wantCode takes any
// exit code.
func (w *sharedWorker) stop(t *testing.T, wantCode int) result {
	t.Helper()
	w.cancel()
	select {
	case r := <-w.done:
		if wantCode >= 0 && r.code != wantCode {
			t.Errorf("mapper run exit %d, want %d; stderr:\n%s", r.code, wantCode, r.stderr)
		}
		return r
	case <-time.After(2 * time.Minute):
		t.Fatal("mapper run did not stop")
	}
	return result{}
}

// waitDelivered waits until the output and dead-letter topics hold n
// records together, and returns how many they hold.
func waitDelivered(t *testing.T, b *kafkatest.Broker, out, dlq string, n int64, workers ...*sharedWorker) int64 {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for {
		o, err1 := b.End(context.Background(), out)
		d, err2 := b.End(context.Background(), dlq)
		if err1 == nil && err2 == nil && o+d >= n {
			return o + d
		}
		failIfEnded(t, workers)
		if time.Now().After(deadline) {
			t.Fatalf("output+dead-letter records %d+%d (%v %v), want %d", o, d, err1, err2, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// failIfEnded fails the test if one of the workers has ended.
func failIfEnded(t *testing.T, workers []*sharedWorker) {
	t.Helper()
	for _, w := range workers {
		select {
		case r := <-w.done:
			t.Fatalf("mapper run ended early with %d:\n%s", r.code, r.stderr)
		default:
		}
	}
}

// waitMembers waits until the group is stable with n members, each
// assigned at least one partition.
func waitMembers(t *testing.T, b *kafkatest.Broker, group string, n int, workers ...*sharedWorker) {
	t.Helper()
	cl := b.Conn().Client(nil, 10*time.Second)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := cl.DescribeGroups(context.Background(), &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		ready := 0
		var state string
		if err == nil && len(resp.Groups) == 1 {
			state = resp.Groups[0].GroupState
			for _, m := range resp.Groups[0].Members {
				for _, tp := range m.MemberAssignments.Topics {
					if len(tp.Partitions) > 0 {
						ready++
						break
					}
				}
			}
		}
		if state == "Stable" && ready == n {
			return
		}
		failIfEnded(t, workers)
		if time.Now().After(deadline) {
			t.Fatalf("group %s: state %q, %d of %d members with partitions (%v)", group, state, ready, n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestThreeWorkersShareOneViewThroughTheSamplesTopic(t *testing.T) {
	const orders = 30000
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			rules, input := sharedRules(t)
			if err := b.CreateTopic(context.Background(), input, 6); err != nil {
				t.Fatal(err)
			}
			out, dlq := b.Topic(t, "mapped", 3), b.Topic(t, "dead-letter", 3)
			topic := b.TopicWithPolicy(t, "samples", 3, "compact")
			sentry := newFingerprintServer(t)
			msgs := orderStream(t, orders, 0)
			env := map[string]string{"MAPPER_BROKERS": b.Addr, "SENTRY_DSN": sentry.dsn, "MAPPER_METRICS": "false"}
			group := kafkatest.UniqueName("group")
			run := func(dir string) []string {
				return []string{"run", "--rules", rules, "--schemas", "../../schemas", "--group", group,
					"--output-topic", out, "--dlq-topic", dlq, "--status-addr", "", "--samples", dir, "--samples-topic", topic}
			}
			var workers []*sharedWorker
			for range 3 {
				workers = append(workers, startSharedWorker(t, env, run(t.TempDir())...))
			}
			// The orders come once all three share the partitions.
			waitMembers(t, b, group, 3, workers...)
			b.Produce(t, input, msgs...)
			waitDelivered(t, b, out, dlq, orders, workers...)
			for _, w := range workers {
				w.stop(t, exitOK)
			}
			delivered, err := b.End(context.Background(), out)
			if err != nil {
				t.Fatal(err)
			}
			dead, _ := b.End(context.Background(), dlq)
			mapped := delivered + dead // every record mapped went to one of them
			redelivered := uint64(mapped - orders)
			t.Logf("%d orders, %d records mapped (%d redelivered)", orders, mapped, redelivered)

			// One directory for the whole group.
			dir := filepath.Join(t.TempDir(), "pulled")
			code, stdout, stderr := runCmd(t, context.Background(), nil, "samples", "pull", "--brokers", b.Addr, "--samples-topic", topic, "--samples", dir)
			if code != exitOK || !strings.Contains(stdout, "seen by 3 workers") {
				t.Fatalf("samples pull: exit %d\n%s%s", code, stdout, stderr)
			}
			counts, err := samples.Counts(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := counts["orders"].Records; got != uint64(mapped) {
				t.Errorf("pulled RECORDS %d; want the %d records mapped", got, mapped)
			}
			// The group's drift report, read from the topic, counts the
			// same records, and the pulled directory holds it too.
			code, stdout, stderr = runCmd(t, context.Background(), nil, "drift", "--brokers", b.Addr, "--samples-topic", topic, "--source", "orders", "--json")
			var rep drift.Report
			if code != exitOK || json.Unmarshal([]byte(stdout), &rep) != nil {
				t.Fatalf("drift --samples-topic: exit %d\n%s%s", code, stdout, stderr)
			}
			if rep.Records != uint64(mapped) || len(rep.Entries) == 0 {
				t.Errorf("the group's drift report counts %d records with %d entries; want the %d records mapped", rep.Records, len(rep.Entries), mapped)
			}
			if pulled, err := drift.ReadFile(dir, "orders"); err != nil || pulled.Records != rep.Records {
				t.Errorf("pulled drift report: %d records, %v; want %d", pulled.Records, err, rep.Records)
			}
			want := wantSeen(t, rules, msgs)
			list, err := samples.List(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != len(want) {
				t.Errorf("pulled %d categories; want %d (%v)", len(list), len(want), want)
			}
			var sumSeen, sumWant uint64
			for _, c := range list {
				w := want[c.Category]
				if c.Seen < w || c.Seen > w+redelivered {
					t.Errorf("%s: SEEN %d; want %d (+ up to %d redelivered)", c.Category, c.Seen, w, redelivered)
				}
				if c.Kept < 1 || c.Kept > samples.DefaultPerCategory {
					t.Errorf("%s: KEPT %d; want 1..%d across all workers", c.Category, c.Kept, samples.DefaultPerCategory)
				}
				sumSeen += c.Seen
				sumWant += w
			}
			t.Logf("SEEN summed over categories %d, mapping the orders once gives %d", sumSeen, sumWant)
			code, stdout, stderr = runCmd(t, context.Background(), nil, "samples", "--samples", dir)
			if code != exitOK || !strings.Contains(stdout, "invalid_format:created") {
				t.Errorf("samples over the pulled directory: exit %d\n%s%s", code, stdout, stderr)
			}

			// The workers' value profiles are merged into the pulled
			// directory: the unknown statuses with the counts that mapping
			// the orders locally gives.
			checkPulledStatuses(t, dir, wantStatuses(t, rules, msgs), redelivered)
			// suggest, which reads the profiles, proposes them as enum entries.
			code, stdout, stderr = runCmd(t, context.Background(), nil, "suggest", "--samples", dir, "--rules", rules,
				"--schemas", "../../schemas", "--source", "orders", "--out", filepath.Join(t.TempDir(), "candidate"))
			if code != exitOK || !strings.Contains(stdout, `"on-hold"`) || !strings.Contains(stdout, `"PAID_OUT"`) {
				t.Errorf("suggest over the pulled directory: exit %d\n%s%s", code, stdout, stderr)
			}

			// Replay works over the pulled directory, and straight from the topic.
			code, fromDir, stderr := runCmd(t, context.Background(), nil, "replay", "--samples", dir, "--rules", rules, "--schemas", "../../schemas")
			if code != exitOK || !strings.Contains(fromDir, "orders") || !strings.Contains(fromDir, "none newly failing") {
				t.Errorf("replay --samples: exit %d\n%s%s", code, fromDir, stderr)
			}
			code, fromTopic, stderr := runCmd(t, context.Background(), nil, "replay", "--samples-topic", topic, "--brokers", b.Addr, "--rules", rules, "--schemas", "../../schemas")
			if code != exitOK || fromTopic != fromDir {
				t.Errorf("replay --samples-topic: exit %d; its report differs from the pulled directory's:\n%s\n---\n%s%s", code, fromTopic, fromDir, stderr)
			}

			// Each failure category was announced once for the whole group.
			events := sentry.events()
			for c := range want {
				if c == samples.CleanCategory {
					continue
				}
				r, f := samples.SplitCategory(c)
				fp := strings.Join([]string{"orders", string(r), f, "1"}, "|")
				if events[fp] != 1 {
					t.Errorf("category %s announced %d times; want once", c, events[fp])
				}
			}
			// Each new drift of the input contract too; the rest are the
			// categories.
			categories, drifts := 0, 0
			for fp, n := range events {
				if !strings.HasPrefix(fp, alerts.NoticeDrift) {
					categories++
					continue
				}
				drifts++
				if n != 1 {
					t.Errorf("drift %s announced %d times; want once", fp, n)
				}
			}
			if categories != len(want)-1 || drifts != len(rep.Entries) {
				t.Errorf("Sentry got %d category and %d drift fingerprints; want %d and %d: %v", categories, drifts, len(want)-1, len(rep.Entries), events)
			}

			// A restarted worker (new pod, empty directory) announces nothing
			// the group announced, and its counts add to the group's.
			more := orderStream(t, 3000, orders)
			b.Produce(t, input, more...)
			w := startSharedWorker(t, env, run(t.TempDir())...)
			waitDelivered(t, b, out, dlq, mapped+3000, w)
			w.stop(t, exitOK)
			if after := sentry.events(); len(after) != len(events) || fmt.Sprint(after) != fmt.Sprint(events) {
				t.Errorf("the restarted worker sent Sentry events: before %v, after %v", events, after)
			}
			snap, err := sampletopic.Read(context.Background(), sampletopic.Config{Kafka: b.Conn(), Topic: topic}, sampletopic.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := snap.Counts()["orders"].Records; got < uint64(mapped+3000) {
				t.Errorf("records after the restart %d; want at least %d", got, mapped+3000)
			}
			if sentry.bad != nil {
				t.Errorf("Sentry endpoint: %v", sentry.bad)
			}
		})
	}
}

func TestAWorkerKilledMidRunLosesNoCount(t *testing.T) {
	const orders = 10000
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			rules, input := sharedRules(t)
			if err := b.CreateTopic(context.Background(), input, 4); err != nil {
				t.Fatal(err)
			}
			out, dlq := b.Topic(t, "mapped", 2), b.Topic(t, "dead-letter", 2)
			topic := b.TopicWithPolicy(t, "samples", 2, "compact")
			b.Produce(t, input, orderStream(t, orders, 0)...)
			env := map[string]string{"MAPPER_BROKERS": b.Addr, "MAPPER_METRICS": "false"}
			group := kafkatest.UniqueName("group")
			run := func(dir string, extra ...string) []string {
				return append([]string{"run", "--rules", rules, "--schemas", "../../schemas", "--group", group,
					"--output-topic", out, "--dlq-topic", dlq, "--status-addr", "", "--samples", dir, "--samples-topic", topic,
					"--batch-size", "200"}, extra...)
			}
			// The first worker is stopped mid-run without draining: what it
			// had in flight is not committed and is consumed again. (A fast
			// worker may have written everything by then; more records
			// after the stop give the second one work either way.)
			first := startSharedWorker(t, env, run(t.TempDir(), "--shutdown-timeout", "1ms")...)
			// At every moment the topic's counts cover the records the group
			// committed: what a kill at that moment would leave. More orders
			// come in waves while it runs.
			const waves, wave = 10, 1000
			checks := countsCoverCommits(t, b, group, input, 4, topic, waves, func(i int) {
				b.Produce(t, input, orderStream(t, wave, orders+i*wave)...)
			}, first)
			t.Logf("%d moments with records committed: the topic counted them all each time", checks)
			r := first.stop(t, -1) // 1 when records were in flight, 0 if none
			const later = 2000
			b.Produce(t, input, orderStream(t, later, orders+waves*wave)...)
			second := startSharedWorker(t, env, run(t.TempDir())...)
			mapped := waitDelivered(t, b, out, dlq, orders+waves*wave+later, second)
			second.stop(t, exitOK)
			snap, err := sampletopic.Read(context.Background(), sampletopic.Config{Kafka: b.Conn(), Topic: topic}, sampletopic.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := snap.Counts()["orders"].Records
			all := uint64(orders + waves*wave + later)
			if got < all || snap.Workers() != 2 {
				t.Fatalf("records counted %d by %d workers; want at least %d by 2 (first worker's exit %d:\n%s)", got, snap.Workers(), all, r.code, r.stderr)
			}
			t.Logf("%d orders: %d records written, %d counted (%d over-counted: redelivered after the kill)", all, mapped, got, got-all)
		})
	}
}

func TestABadSamplesTopicStopsTheStart(t *testing.T) {
	b := kafkatest.StartKfake(t)
	rules, input := sharedRules(t)
	if err := b.CreateTopic(context.Background(), input, 1); err != nil {
		t.Fatal(err)
	}
	out, dlq := b.Topic(t, "mapped", 1), b.Topic(t, "dead-letter", 1)
	plain := b.TopicWithPolicy(t, "samples", 1, "delete")
	b.Produce(t, input, orderStream(t, 10, 0)...)
	run := []string{"run", "--brokers", b.Addr, "--rules", rules, "--schemas", "../../schemas", "--output-topic", out, "--dlq-topic", dlq, "--status-addr", "", "--metrics=false"}
	for _, tt := range []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"a topic that is not compacted", append(run, "--samples-topic", plain), exitFailure,
			[]string{"samples topic is not compacted", "cleanup.policy=delete", "cleanup.policy=compact"}},
		{"a topic that does not exist", append(run, "--samples-topic", "nowhere"), exitFailure,
			[]string{"samples topic does not exist: nowhere"}},
		{"shared samples without samples", append(run, "--samples-topic", plain, "--no-samples"), exitFailure,
			[]string{"cannot go with --no-samples"}},
		{"pull without a topic", []string{"samples", "pull", "--brokers", b.Addr}, exitUsage,
			[]string{"--samples-topic: no samples topic given"}},
		{"replay from two inputs", []string{"replay", "--from-topic", dlq, "--samples-topic", plain}, exitUsage,
			[]string{"give one"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			code, _, stderr := runCmd(t, ctx, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			for _, w := range tt.wants {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	// No record was touched: nothing was consumed, written or committed.
	if n, err := b.End(context.Background(), out); err != nil || n != 0 {
		t.Errorf("output topic holds %d records (%v); want none", n, err)
	}
	if n, err := b.End(context.Background(), dlq); err != nil || n != 0 {
		t.Errorf("dead-letter topic holds %d records (%v); want none", n, err)
	}
}

// wantStatuses maps the records with the rules and counts the status of
// each record rejected as unknown_enum:status, as JSON text.
func wantStatuses(t *testing.T, rules string, msgs []kafka.Message) map[string]uint64 {
	t.Helper()
	eng, err := mapper.Load(rules, "../../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("orders")
	want := map[string]uint64{}
	for _, m := range msgs {
		res := src.Map(m.Value)
		for _, f := range res.Failures {
			if f.Category().String() != "unknown_enum:status" {
				continue
			}
			var order struct{ Status json.RawMessage }
			if err := json.Unmarshal(m.Value, &order); err != nil {
				t.Fatal(err)
			}
			want[string(order.Status)]++
		}
	}
	return want
}

// checkPulledStatuses runs mapper samples values over a pulled directory
// and compares the unknown statuses with want, allowing redelivered
// records to be counted twice.
func checkPulledStatuses(t *testing.T, dir string, want map[string]uint64, redelivered uint64) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("the orders have no unknown status")
	}
	args := []string{"samples", "values", "--samples", dir, "--source", "orders", "--category", "unknown_enum:status"}
	code, stdout, stderr := runCmd(t, context.Background(), nil, append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("samples values: exit %d\n%s%s", code, stdout, stderr)
	}
	var got []samples.ValueProfile
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || len(got) != 1 {
		t.Fatalf("samples values --json: %v (%d profiles)\n%s", err, len(got), stdout)
	}
	var total uint64
	for _, v := range got[0].Values {
		w := want[v.Value]
		if v.Count < w || v.Count > w+redelivered || v.Error != 0 {
			t.Errorf("status %s counted %d ±%d; want %d (+ up to %d redelivered)", v.Value, v.Count, v.Error, w, redelivered)
		}
		total += v.Count
	}
	if len(got[0].Values) != len(want) {
		t.Errorf("statuses %v; want %v", got[0].Values, want)
	}
	if got[0].Total != total {
		t.Errorf("total %d; the statuses add up to %d", got[0].Total, total)
	}
	_, text, _ := runCmd(t, context.Background(), nil, args...)
	t.Logf("mapper samples values over the pulled directory:\n%s", text)
	for v := range want {
		if !strings.Contains(text, v) {
			t.Errorf("samples values does not list %s:\n%s", v, text)
		}
	}
}

// countsCoverCommits feeds waves of records (wave(i) for i < waves) and
// checks, after each, several times, that the records counted in the
// samples topic are never fewer than the records the group has committed
// on the input topic (its committed offsets, the topic written from offset
// 0): the offsets are read first, then the counts, so that a count written
// after its commit shows. It returns how many checks saw records committed.
func countsCoverCommits(t *testing.T, b *kafkatest.Broker, group, input string, partitions int, samplesTopic string, waves int, wave func(i int), workers ...*sharedWorker) int {
	t.Helper()
	ctx := context.Background()
	cl := b.Conn().Client(nil, 10*time.Second)
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	checks := 0
	for i := range waves {
		wave(i)
		for range 10 {
			resp, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{input: parts}})
			if err != nil {
				t.Fatal(err)
			}
			var committed int64
			for _, p := range resp.Topics[input] {
				if p.CommittedOffset > 0 {
					committed += p.CommittedOffset
				}
			}
			snap, err := sampletopic.Read(ctx, sampletopic.Config{Kafka: b.Conn(), Topic: samplesTopic}, sampletopic.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if counted := snap.Counts()["orders"].Records; counted < uint64(committed) {
				t.Fatalf("the group committed %d records and the samples topic counts %d: a kill now would lose %d", committed, counted, uint64(committed)-counted)
			}
			if committed > 0 {
				checks++
			}
			failIfEnded(t, workers)
			time.Sleep(20 * time.Millisecond)
		}
	}
	if checks == 0 {
		t.Fatal("no check saw records committed")
	}
	return checks
}

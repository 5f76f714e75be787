package stream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/stream"
)

func TestNewRejectsBadConfiguration(t *testing.T) {
	e := loadEngine(t, "in")
	good := stream.Config{Kafka: kafkaconn.Config{Brokers: []string{"127.0.0.1:9092"}}, GroupID: "g", Topics: []string{"in"}, OutputTopic: "out", DeadLetterTopic: "dlq", Engine: e}
	tests := []struct {
		name   string
		change func(*stream.Config)
		want   []string // substrings of the error, one per problem
	}{
		{"no brokers", func(c *stream.Config) { c.Kafka.Brokers = nil }, []string{"no brokers"}},
		{"broker without port", func(c *stream.Config) { c.Kafka.Brokers = []string{"kafka"} }, []string{`broker "kafka" is not host:port`}},
		{"no group", func(c *stream.Config) { c.GroupID = "" }, []string{"no consumer group id"}},
		{"no output topic", func(c *stream.Config) { c.OutputTopic = "" }, []string{"no output topic"}},
		{"no dead-letter topic", func(c *stream.Config) { c.DeadLetterTopic = "" }, []string{"no dead-letter topic"}},
		{"output and dead-letter topic are one", func(c *stream.Config) { c.DeadLetterTopic = "out" }, []string{`output topic and dead-letter topic are both "out"`}},
		{"input topic is the output topic", func(c *stream.Config) { c.Topics = []string{"out"} }, []string{`topic "out" is both an input and an output topic`}},
		{"no engine", func(c *stream.Config) { c.Engine = nil }, []string{"no rules engine"}},
		{"negative concurrency", func(c *stream.Config) { c.Concurrency = -1 }, []string{"concurrency -1 is negative"}},
		{"negative batch size", func(c *stream.Config) { c.BatchSize = -5 }, []string{"batch size -5 is negative"}},
		{"heartbeat not shorter than session", func(c *stream.Config) { c.HeartbeatInterval, c.SessionTimeout = 10*time.Second, 6*time.Second }, []string{"heartbeat interval 10s is not shorter than the session timeout 6s"}},
		{"nil observer", func(c *stream.Config) { c.Observers = []stream.Observer{nil} }, []string{"observer 0 is nil"}},
		{"every problem at once", func(c *stream.Config) { c.Kafka.Brokers, c.GroupID, c.OutputTopic = nil, "", "" }, []string{"no brokers", "no consumer group id", "no output topic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.change(&cfg)
			_, err := stream.New(cfg)
			var ce *stream.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("New: got %v, want a *ConfigError", err)
			}
			if len(ce.Problems) != len(tt.want) {
				t.Fatalf("got problems %q, want %d", ce.Problems, len(tt.want))
			}
			for i, w := range tt.want {
				if !bytes.Contains([]byte(ce.Problems[i]), []byte(w)) {
					t.Errorf("problem %d = %q, want it to contain %q", i, ce.Problems[i], w)
				}
			}
		})
	}
	t.Run("a good configuration is accepted", func(t *testing.T) {
		if _, err := stream.New(good); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRunFailsAtStartOnMissingTopic(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in := b.Topic(t, "in", 1)
			out := b.Topic(t, "out", 1)
			missing := kafkatest.UniqueName("no-such-dlq")
			w, err := stream.New(testConfig(b, loadEngine(t, in), kafkatest.UniqueName("g"), []string{in}, out, missing))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = w.Run(ctx)
			if !errors.Is(err, stream.ErrMissingTopic) || !bytes.Contains([]byte(err.Error()), []byte(missing)) {
				t.Fatalf("Run: got %v, want ErrMissingTopic naming %s", err, missing)
			}
		})
	}
}

// verifyDelivered checks that every input record reached the output or the
// dead-letter topic at least once, as the engine says it should, and returns
// how many reached each.
func verifyDelivered(t *testing.T, b *kafkatest.Broker, e *mapper.Engine, inputs []string, out, dlq string) (nOut, nDLQ int) {
	t.Helper()
	var in []kafka.Message
	for _, topic := range inputs {
		in = append(in, b.ReadAll(t, topic)...)
	}
	got := map[kafkatest.Coord][]kafka.Message{}
	outs, dlqs := b.ReadAll(t, out), b.ReadAll(t, dlq)
	for _, m := range outs {
		got[originOf(t, m)] = append(got[originOf(t, m)], m)
	}
	for _, m := range dlqs {
		got[originOf(t, m)] = append(got[originOf(t, m)], m)
	}
	missing := 0
	for _, m := range in {
		c := coord(m)
		copies := got[c]
		if len(copies) == 0 {
			if missing++; missing <= 5 {
				t.Errorf("input record %s is in neither the output nor the dead-letter topic", c)
			}
			continue
		}
		src, want := expected(e, m)
		for _, o := range copies {
			if !bytes.Equal(o.Key, m.Key) {
				t.Errorf("%s: key %q, want the input key %q", c, o.Key, m.Key)
			}
			if h, _ := kafkatest.Header(o, stream.HeaderOutcome); h != string(want.Outcome) {
				t.Errorf("%s: outcome header %q, want %q", c, h, want.Outcome)
			}
			if src != nil {
				if h, _ := kafkatest.Header(o, stream.HeaderSource); h != src.Name() {
					t.Errorf("%s: source header %q, want %q", c, h, src.Name())
				}
				if h, _ := kafkatest.Header(o, stream.HeaderRulesVersion); h != strconv.Itoa(src.Version()) {
					t.Errorf("%s: rules version header %q, want %d", c, h, src.Version())
				}
			}
			var cats []string
			for _, h := range o.Headers {
				if h.Key == stream.HeaderFailure {
					cats = append(cats, string(h.Value))
				}
			}
			var wantCats []string
			for _, f := range want.Failures {
				wantCats = append(wantCats, f.Category().String())
			}
			if !slices.Equal(cats, wantCats) {
				t.Errorf("%s: failure headers %q, want %q", c, cats, wantCats)
			}
			if o.Topic == dlq {
				if want.Outcome.Delivered() {
					t.Errorf("%s: %s record dead-lettered", c, want.Outcome)
				}
				if !bytes.Equal(o.Value, m.Value) {
					t.Errorf("%s: dead-letter value %q differs from the input %q", c, o.Value, m.Value)
				}
				if len(o.Headers) < len(m.Headers) {
					t.Fatalf("%s: dead-letter record lost headers", c)
				}
				for i, h := range m.Headers {
					if o.Headers[i].Key != h.Key || !bytes.Equal(o.Headers[i].Value, h.Value) {
						t.Errorf("%s: dead-letter header %d = %s:%q, want the input's %s:%q", c, i, o.Headers[i].Key, o.Headers[i].Value, h.Key, h.Value)
					}
				}
				var details int
				for _, h := range o.Headers {
					if h.Key == stream.HeaderFailureDetail {
						details++
					}
				}
				if details != len(want.Failures) {
					t.Errorf("%s: %d detail headers, want %d", c, details, len(want.Failures))
				}
				if _, ok := kafkatest.Header(o, stream.HeaderDeadLetteredAt); !ok {
					t.Errorf("%s: no %s header", c, stream.HeaderDeadLetteredAt)
				}
			} else {
				if !want.Outcome.Delivered() {
					t.Errorf("%s: rejected record written to the output topic", c)
				}
				if !bytes.Equal(o.Value, want.Output) {
					t.Errorf("%s: output %s, want %s", c, o.Value, want.Output)
				}
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d input records lost", missing, len(in))
	}
	if len(in) == 0 {
		t.Fatal("no input records")
	}
	return len(outs), len(dlqs)
}

func TestWorkerDeliversEveryRecordWithHeaders(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in := b.Topic(t, "orders", 2)
			unclaimed := b.Topic(t, "unclaimed", 1)
			out, dlq := b.Topic(t, "out", 2), b.Topic(t, "dlq", 1)
			e := loadEngine(t, in)
			b.Produce(t, in, mixed(90)...)
			b.Produce(t, unclaimed, mixed(3)...)

			group := kafkatest.UniqueName("g")
			obs := &deliveryObserver{}
			cfg := testConfig(b, e, group, []string{in, unclaimed}, out, dlq)
			cfg.Observers = []stream.Observer{obs}
			r := start(t, cfg)
			waitLagZero(t, r.w, 60*time.Second)
			waitCommitted(r.w, 93, 10*time.Second)
			if got, unknown := obs.n.Load(), obs.unknown.Load(); got != 93 || unknown != 3 {
				t.Errorf("observer saw %d records (%d of no source), want 93 (3)", got, unknown)
			}
			if bad := obs.bad.Load(); bad != 0 {
				t.Errorf("observer got %d records whose origin or result did not match", bad)
			}

			// The status page is served from the same worker.
			srv := httptest.NewServer(r.w.Handler())
			defer srv.Close()
			for path, code := range map[string]int{"/healthz": 200, "/readyz": 200} {
				resp, err := http.Get(srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != code {
					t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, code)
				}
			}
			resp, err := http.Get(srv.URL + "/status")
			if err != nil {
				t.Fatal(err)
			}
			var st stream.Status
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if st.State != stream.StateRunning || st.LagError != "" || st.LagTotal != 0 || len(st.Lag) != 3 {
				t.Errorf("status: state %s, lag %+v total %d error %q; want running with 3 partitions at lag 0", st.State, st.Lag, st.LagTotal, st.LagError)
			}
			if n := st.Counts.Mapped + st.Counts.Degraded + st.Counts.Rejected; n != 93 || st.Counts.Committed != 93 {
				t.Errorf("status counts %d records, %d committed, want 93", n, st.Counts.Committed)
			}
			if len(st.Counts.TopFailures) == 0 {
				t.Errorf("status lists no failure categories")
			}
			// The counts without the lag, and a lag value it does not take.
			for _, tc := range []struct {
				query   string
				code    int
				skipped bool
			}{
				{"lag=false", 200, true},
				{"lag=0", 200, true},
				{"lag=true", 200, false},
				{"lag=maybe", http.StatusBadRequest, false},
			} {
				resp, err := http.Get(srv.URL + "/status?" + tc.query)
				if err != nil {
					t.Fatal(err)
				}
				var q stream.Status
				if resp.StatusCode == 200 {
					err = json.NewDecoder(resp.Body).Decode(&q)
				}
				resp.Body.Close()
				if err != nil || resp.StatusCode != tc.code {
					t.Errorf("GET /status?%s: %d (%v), want %d", tc.query, resp.StatusCode, err, tc.code)
					continue
				}
				if tc.code != 200 {
					continue
				}
				if q.LagSkipped != tc.skipped || (len(q.Lag) == 0) != tc.skipped || q.Counts.Committed != 93 {
					t.Errorf("GET /status?%s: lag_skipped %v, %d partitions' lag, %d committed; want skipped %v and 93 committed",
						tc.query, q.LagSkipped, len(q.Lag), q.Counts.Committed, tc.skipped)
				}
			}
			for _, tf := range st.Counts.TopFailures {
				if tf.Source == "" && tf.Category != string(mapper.ReasonUnknownSource) {
					t.Errorf("unclaimed topic's failure %+v, want unknown_source", tf)
				}
			}

			if err := r.stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			resp, err = http.Get(srv.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("GET /readyz after stop: %d, want 503", resp.StatusCode)
			}
			nOut, nDLQ := verifyDelivered(t, b, e, []string{in, unclaimed}, out, dlq)
			t.Logf("93 inputs → %d output, %d dead-letter; status %+v", nOut, nDLQ, st.Counts)
			if nOut == 0 || nDLQ == 0 {
				t.Errorf("the mix should reach both topics: %d output, %d dead-letter", nOut, nDLQ)
			}
			if nOut+nDLQ != 93 {
				t.Errorf("%d output + %d dead-letter records for 93 inputs in one clean run, want exactly one each", nOut, nDLQ)
			}
			// The delivery hook was told of every acknowledged write, by source.
			obs.mu.Lock()
			defer obs.mu.Unlock()
			var dead int
			for _, n := range obs.dead {
				dead += n
			}
			if obs.out != nOut || dead != nDLQ || obs.dead[""] != 3 || obs.dead["test-orders"] != nDLQ-3 {
				t.Errorf("delivery hook: %d output, dead letters by source %v; want %d output, %d dead letters (3 of no source)", obs.out, obs.dead, nOut, nDLQ)
			}
		})
	}
}

// TestNoLossAcrossKills stops the worker at random points, sometimes
// draining and sometimes abandoning everything in flight, and checks that
// every input record is still delivered once the last worker is done.
func TestNoLossAcrossKills(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in := b.Topic(t, "orders", 3)
			out, dlq := b.Topic(t, "out", 2), b.Topic(t, "dlq", 2)
			e := loadEngine(t, in)
			const n = 3000
			b.Produce(t, in, mixed(n)...)
			group := kafkatest.UniqueName("g")
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
			for kill := range 5 {
				cfg := testConfig(b, e, group, []string{in}, out, dlq)
				cfg.BatchSize = 50
				abrupt := kill%2 == 0
				if abrupt {
					cfg.ShutdownTimeout = -1 // abandon what is in flight, as a killed process would
				}
				r := start(t, cfg)
				// Let it work, then stop it somewhere in the middle.
				deadline := time.Now().Add(10 * time.Second)
				for r.w.Counts(0).Mapped+r.w.Counts(0).Rejected+r.w.Counts(0).Degraded == 0 && time.Now().Before(deadline) {
					time.Sleep(2 * time.Millisecond)
				}
				time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
				err := r.stop()
				c := r.w.Counts(0)
				t.Logf("kill %d (abrupt %v): mapped %d, committed %d, run error %v", kill, abrupt, c.Mapped+c.Degraded+c.Rejected, c.Committed, err)
				if err != nil && !errors.Is(err, stream.ErrShutdownTimeout) {
					t.Fatalf("Run: %v", err)
				}
				if !abrupt && err != nil {
					t.Fatalf("draining stop left records: %v", err)
				}
			}
			r := start(t, testConfig(b, e, group, []string{in}, out, dlq))
			waitLagZero(t, r.w, 60*time.Second)
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			nOut, nDLQ := verifyDelivered(t, b, e, []string{in}, out, dlq)
			t.Logf("%d inputs → %d output + %d dead-letter records (%d redelivered)", n, nOut, nDLQ, nOut+nDLQ-n)
		})
	}
}

// TestTwoWorkersShareAndRebalance runs two workers in one group; both get
// partitions, and when one stops the other takes over with nothing lost.
func TestTwoWorkersShareAndRebalance(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in := b.Topic(t, "orders", 4)
			out, dlq := b.Topic(t, "out", 2), b.Topic(t, "dlq", 2)
			e := loadEngine(t, in)
			group := kafkatest.UniqueName("g")
			b.Produce(t, in, mixed(400)...)

			w1 := start(t, testConfig(b, e, group, []string{in}, out, dlq))
			w2 := start(t, testConfig(b, e, group, []string{in}, out, dlq))
			waitMembers(t, b, group, 2)

			// Keep producing while both run, so both have work.
			produced := 400
			for i := range 5 {
				b.Produce(t, in, mixed(100)...)
				produced += 100
				_ = i
				time.Sleep(50 * time.Millisecond)
			}
			waitLagZero(t, w1.w, 60*time.Second)
			c1, c2 := w1.w.Counts(0), w2.w.Counts(0)
			if c1.Committed == 0 || c2.Committed == 0 {
				t.Errorf("both members should have worked: committed %d and %d", c1.Committed, c2.Committed)
			}

			// One stops: the other takes every partition.
			if err := w2.stop(); err != nil {
				t.Fatal(err)
			}
			b.Produce(t, in, mixed(300)...)
			produced += 300
			waitLagZero(t, w1.w, 60*time.Second)
			if err := w1.stop(); err != nil {
				t.Fatal(err)
			}
			nOut, nDLQ := verifyDelivered(t, b, e, []string{in}, out, dlq)
			if nOut+nDLQ < produced {
				t.Fatalf("%d records delivered for %d produced", nOut+nDLQ, produced)
			}
		})
	}
}

// waitMembers waits until the group has n members that each own partitions.
func waitMembers(t *testing.T, b *kafkatest.Broker, group string, n int) {
	t.Helper()
	cl := &kafka.Client{Addr: kafka.TCP(b.Addr), Transport: b.Transport}
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := cl.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		cancel()
		if err == nil && len(resp.Groups) == 1 {
			g := resp.Groups[0]
			owning := 0
			for _, m := range g.Members {
				parts := 0
				for _, t := range m.MemberAssignments.Topics {
					parts += len(t.Partitions)
				}
				if parts > 0 {
					owning++
				}
			}
			last = g.GroupState + " with " + strconv.Itoa(owning) + " members owning partitions"
			if g.GroupState == "Stable" && owning == n {
				return
			}
		} else if err != nil {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("group %s never had %d members owning partitions: %s", group, n, last)
}

// TestBrokerRestartLosesNothing stops the embedded broker while the worker
// runs and starts it again on the same port and data.
func TestBrokerRestartLosesNothing(t *testing.T) {
	dir := t.TempDir()
	port := kafkatest.FreePort(t)
	c, err := kafkatest.NewKfake(kafkatest.Persist(dir, port)...)
	if err != nil {
		t.Fatal(err)
	}
	b := kafkatest.FromKfake(c)
	in := b.Topic(t, "orders", 2)
	out, dlq := b.Topic(t, "out", 1), b.Topic(t, "dlq", 1)
	e := loadEngine(t, in)
	b.Produce(t, in, mixed(500)...)
	r := start(t, testConfig(b, e, kafkatest.UniqueName("g"), []string{in}, out, dlq))
	deadline := time.Now().Add(30 * time.Second)
	for r.w.Counts(0).Committed == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	c.Close()
	t.Logf("broker stopped after %d committed", r.w.Counts(0).Committed)
	time.Sleep(time.Second)
	c, err = kafkatest.NewKfake(kafkatest.Persist(dir, port)...)
	if err != nil {
		t.Fatalf("restart broker: %v", err)
	}
	defer c.Close()
	b = kafkatest.FromKfake(c)
	b.Produce(t, in, mixed(500)...)
	waitLagZero(t, r.w, 90*time.Second)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	cnt := r.w.Counts(0)
	t.Logf("fetch errors %d, write errors %d, commit errors %d", cnt.FetchErrors, cnt.WriteErrors, cnt.CommitErrors)
	nOut, nDLQ := verifyDelivered(t, b, e, []string{in}, out, dlq)
	if nOut+nDLQ < 1000 {
		t.Fatalf("%d delivered, want at least 1000", nOut+nDLQ)
	}
}

// countingObserver checks what the worker tells observers.
type countingObserver struct {
	n, unknown, bad atomic.Int64
}

func (o *countingObserver) Observe(origin *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, took time.Duration) {
	o.n.Add(1)
	if src == nil {
		o.unknown.Add(1)
		if res.Outcome != mapper.OutcomeRejected || len(res.Failures) != 1 || res.Failures[0].Reason != mapper.ReasonUnknownSource {
			o.bad.Add(1)
		}
		return
	}
	want := src.Map(payload)
	if origin.Topic == "" || origin.Offset < 0 || len(origin.Key) == 0 || len(origin.Headers) != 2 || res.Outcome != want.Outcome || took < 0 {
		o.bad.Add(1)
	}
}

// deliveryObserver counts acknowledged writes per topic kind and source.
type deliveryObserver struct {
	countingObserver
	mu   sync.Mutex
	dead map[string]int
	out  int
}

func (o *deliveryObserver) Delivered(d stream.Delivery) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d.DeadLetter {
		if o.dead == nil {
			o.dead = map[string]int{}
		}
		o.dead[d.Source] += d.Records
		return
	}
	o.out += d.Records
}

package release_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/release"
)

const topic = "partner.orders.raw"

func load(tb testing.TB, dir string) *mapper.Engine {
	tb.Helper()
	e, err := mapper.Load(filepath.Join("testdata", dir), "testdata/schemas", mapper.Options{})
	if err != nil {
		tb.Fatalf("load %s: %v", dir, err)
	}
	return e
}

// payloads are the orders of testdata/orders.jsonl: generated partner data
// with its real defects (bad JSON, unknown statuses, epoch timestamps).
func payloads(tb testing.TB) [][]byte {
	tb.Helper()
	f, err := os.Open("testdata/orders.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// recorder is an Events that keeps what it is told.
type recorder struct {
	mu        sync.Mutex
	verdicts  map[mapper.Verdict]int
	rollbacks []release.Rollback
	trips     []release.Trip
}

func (r *recorder) Compared(_ *mapper.Origin, _ []byte, _ *mapper.Source, _ *mapper.Result, _ *mapper.Source, _ *mapper.Result, v mapper.Verdict) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.verdicts == nil {
		r.verdicts = map[mapper.Verdict]int{}
	}
	r.verdicts[v]++
}

func (r *recorder) RolledBack(rb release.Rollback) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rollbacks = append(r.rollbacks, rb)
}

func (r *recorder) Tripped(t release.Trip) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trips = append(r.trips, t)
}

func origin(i int) *mapper.Origin {
	return &mapper.Origin{Topic: topic, Partition: i % 3, Offset: int64(i), Key: fmt.Appendf(nil, "order-%d", i)}
}

func TestShadowDeliversTheLiveResultAndCountsVerdicts(t *testing.T) {
	live, cand := load(t, "live"), load(t, "candidate")
	ev := &recorder{}
	c, err := release.New(release.Config{Live: live, Candidate: cand, Events: ev})
	if err != nil {
		t.Fatal(err)
	}
	want := map[mapper.Verdict]int64{}
	var s release.Scratch
	var res mapper.Result
	for i, p := range payloads(t) {
		src, held := c.Map(&s, origin(i), p, &res)
		if held != nil {
			t.Fatal("record held without a breaker")
		}
		if src != live.Source("orders") {
			t.Fatalf("record %d: mapped by %v, want the live source", i, src.Version())
		}
		lr := live.Source("orders").Map(p)
		cr := cand.Source("orders").Map(p)
		if res.Outcome != lr.Outcome || !bytes.Equal(res.Output, lr.Output) {
			t.Fatalf("record %d: delivered %s %s, want the live result %s %s", i, res.Outcome, res.Output, lr.Outcome, lr.Output)
		}
		want[mapper.Compare(&lr, &cr)]++
	}
	if want[mapper.VerdictNowMapped] == 0 || want[mapper.VerdictNewlyFailing] == 0 {
		t.Fatalf("test data should have records of both kinds: %v", want)
	}
	st := c.Status()
	if st.Candidate == nil {
		t.Fatal("status has no candidate")
	}
	for _, v := range mapper.Verdicts() {
		if got := st.Candidate.Verdicts[v]; got != want[v] {
			t.Errorf("verdict %s: status counts %d, want %d", v, got, want[v])
		}
		if got := ev.verdicts[v]; int64(got) != want[v] {
			t.Errorf("verdict %s: events told of %d, want %d", v, got, want[v])
		}
	}
	if st.Rules["orders"] != 1 || st.Candidate.Versions["orders"] != 2 || st.Candidate.Mode != release.ModeShadow {
		t.Errorf("status versions: rules %v candidate %v mode %s", st.Rules, st.Candidate.Versions, st.Candidate.Mode)
	}
}

func TestCanaryRoutesByKey(t *testing.T) {
	live, cand := load(t, "live"), load(t, "candidate")
	c, err := release.New(release.Config{Live: live, Candidate: cand, Mode: release.ModeCanary, CanaryShare: 0.25, CanaryMaxDrop: 1})
	if err != nil {
		t.Fatal(err)
	}
	ps := payloads(t)
	var s release.Scratch
	var res mapper.Result
	first := map[string]int{}
	canary := 0
	for round := range 3 {
		for i := range 400 {
			o := origin(i)
			o.Offset = int64(round*1000 + i) // a key seen again at another offset
			src, _ := c.Map(&s, o, ps[i%len(ps)], &res)
			v := src.Version()
			if round == 0 {
				first[string(o.Key)] = v
				if v == 2 {
					canary++
				}
				if want := release.InShare(o, 0.25); want != (v == 2) {
					t.Fatalf("key %s: version %d, InShare says %t", o.Key, v, want)
				}
				continue
			}
			if first[string(o.Key)] != v {
				t.Fatalf("key %s: version %d in round %d, %d before", o.Key, v, round, first[string(o.Key)])
			}
		}
	}
	if canary < 60 || canary > 140 {
		t.Errorf("%d of 400 keys went to the canary; want about 100 for a share of 0.25", canary)
	}
	st := c.Status().Candidate.Sources[0]
	if st.CanaryRecords != int64(3*canary) || st.LiveRecords != int64(3*(400-canary)) {
		t.Errorf("status: %d canary and %d live records, want %d and %d", st.CanaryRecords, st.LiveRecords, 3*canary, 3*(400-canary))
	}
}

func TestInShareWithoutKeyUsesPartitionAndOffset(t *testing.T) {
	in := 0
	for i := range 2000 {
		o := &mapper.Origin{Topic: topic, Partition: i % 4, Offset: int64(i / 4)}
		a, b := release.InShare(o, 0.1), release.InShare(o, 0.1)
		if a != b {
			t.Fatal("InShare is not deterministic")
		}
		if a {
			in++
		}
	}
	if in < 120 || in > 280 {
		t.Errorf("%d of 2000 keyless records in a share of 0.1", in)
	}
	if release.InShare(origin(1), 0) || !release.InShare(origin(1), 1) {
		t.Error("shares 0 and 1 must give none and all")
	}
}

func TestCanaryThatRejectsEverythingIsRolledBackOnce(t *testing.T) {
	live, bad := load(t, "live"), load(t, "reject-all")
	ev := &recorder{}
	var logs bytes.Buffer
	c, err := release.New(release.Config{
		Live: live, Candidate: bad, Mode: release.ModeCanary, CanaryShare: 0.2, CanaryMaxDrop: 0.1,
		CanaryWindow: time.Hour, CanaryMinRecords: 20, Events: ev, Logger: newLogger(&logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	ps := payloads(t)
	var s release.Scratch
	var res mapper.Result
	candidateAfter := 0
	rolledAt := -1
	for i := range 2000 {
		src, _ := c.Map(&s, origin(i), ps[i%len(ps)], &res)
		if rolledAt < 0 && len(ev.rollbacks) > 0 {
			rolledAt = i
		}
		if rolledAt >= 0 && i > rolledAt && src.Version() == 3 {
			candidateAfter++
		}
	}
	if len(ev.rollbacks) != 1 {
		t.Fatalf("rollbacks told: %d, want 1", len(ev.rollbacks))
	}
	rb := ev.rollbacks[0]
	if rb.Records != 20 || rb.CandidateRatio != 0 || rb.Source != "orders" || rb.CandidateVersion != 3 {
		t.Errorf("rollback %+v: want it decided at the 20th canary record, candidate ratio 0", rb)
	}
	if candidateAfter != 0 {
		t.Errorf("%d records used the candidate after the rollback", candidateAfter)
	}
	if n := strings.Count(logs.String(), "canary rolled back"); n != 1 {
		t.Errorf("rollback logged %d times, want once:\n%s", n, logs.String())
	}
	st := c.Status().Candidate
	if !st.RolledBack || st.Sources[0].RolledBack == nil {
		t.Errorf("status does not say rolled back: %+v", st)
	}
}

func TestCanaryWithinTheAllowedDropStays(t *testing.T) {
	live := load(t, "live")
	ev := &recorder{}
	c, err := release.New(release.Config{Live: live, Candidate: load(t, "live"), Mode: release.ModeCanary, CanaryShare: 0.5, Events: ev})
	if err != nil {
		t.Fatal(err)
	}
	ps := payloads(t)
	var s release.Scratch
	var res mapper.Result
	for i := range 1000 {
		_, _ = c.Map(&s, origin(i), ps[i%len(ps)], &res)
	}
	if len(ev.rollbacks) != 0 || c.Status().Candidate.RolledBack {
		t.Errorf("an identical candidate was rolled back: %+v", ev.rollbacks)
	}
}

func TestCanaryWindowForgetsOldRecords(t *testing.T) {
	live, cand := load(t, "live"), load(t, "reject-all")
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	ev := &recorder{}
	c, err := release.New(release.Config{Live: live, Candidate: cand, Mode: release.ModeCanary, CanaryShare: 1,
		CanaryWindow: time.Minute, CanaryMinRecords: 10, Events: ev, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	good := payloads(t)[0]
	var s release.Scratch
	var res mapper.Result
	// Six records a minute never make the ten the judge waits for.
	for i := range 60 {
		_, _ = c.Map(&s, origin(i), good, &res)
		now.Add(int64(time.Minute / 6))
	}
	if len(ev.rollbacks) != 0 {
		t.Fatalf("rolled back on records older than the window: %+v", ev.rollbacks)
	}
	for i := range 10 {
		_, _ = c.Map(&s, origin(i), good, &res)
	}
	if len(ev.rollbacks) != 1 {
		t.Fatalf("not rolled back once the window held enough records")
	}
}

func TestBreakerPausesTheSourceUntilASwap(t *testing.T) {
	live, bad := load(t, "live"), load(t, "reject-all")
	ev := &recorder{}
	c, err := release.New(release.Config{Live: bad, MaxRejectRatio: 0.5, BreakerMinRecords: 10, Events: ev})
	if err != nil {
		t.Fatal(err)
	}
	good := payloads(t)[0]
	if r := live.Source("orders").Map(good); r.Outcome != mapper.OutcomeMapped {
		t.Fatalf("test payload is %s under the live rules", r.Outcome)
	}
	var s release.Scratch
	var res mapper.Result
	for i := range 9 {
		if _, held := c.Map(&s, origin(i), good, &res); held != nil || res.Outcome != mapper.OutcomeRejected {
			t.Fatalf("record %d: held %v, %s", i, held != nil, res.Outcome)
		}
	}
	if len(c.Paused()) != 0 {
		t.Fatal("paused before the minimum record count")
	}
	_, resume := c.Map(&s, origin(9), good, &res)
	if resume == nil {
		t.Fatal("the record that tripped the breaker was let through")
	}
	if _, again := c.Map(&s, origin(10), good, &res); again != resume {
		t.Fatal("a record of a paused source was let through")
	}
	if p := c.Paused(); len(p) != 1 || p[0].Source != "orders" || p[0].Rejected != 10 || !strings.Contains(p[0].Reason, "max-reject-ratio") {
		t.Errorf("paused: %+v", p)
	}
	if c.Status().Paused == nil {
		t.Error("status does not list the paused source")
	}
	select {
	case <-resume:
		t.Fatal("resumed before a swap")
	default:
	}
	if err := c.Swap(live, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-resume:
	case <-time.After(10 * time.Second):
		t.Fatal("a swap did not resume the held record")
	}
	src, held := c.Map(&s, origin(9), good, &res)
	if held != nil || src.Version() != 1 || res.Outcome != mapper.OutcomeMapped {
		t.Errorf("held record mapped again: v%d %s held %v, want the new rules' mapped result", src.Version(), res.Outcome, held != nil)
	}
	if len(c.Paused()) != 0 || len(ev.trips) != 1 {
		t.Errorf("after the swap: paused %v, trips told %d", c.Paused(), len(ev.trips))
	}
}

func TestBreakerIgnoresASourceBelowTheRatio(t *testing.T) {
	c, err := release.New(release.Config{Live: load(t, "live"), MaxRejectRatio: 0.5, BreakerMinRecords: 20})
	if err != nil {
		t.Fatal(err)
	}
	var s release.Scratch
	var res mapper.Result
	for i, p := range payloads(t) { // about a third rejected
		if _, held := c.Map(&s, origin(i), p, &res); held != nil {
			t.Fatalf("record %d held", i)
		}
	}
	if p := c.Paused(); len(p) != 0 {
		t.Errorf("paused at a reject ratio below the limit: %+v", p)
	}
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	live := load(t, "live")
	for _, tt := range []struct {
		name string
		cfg  release.Config
		want string
	}{
		{"no live rules", release.Config{}, "no live rules"},
		{"unknown mode", release.Config{Live: live, Mode: "blue-green"}, `mode "blue-green"`},
		{"share above one", release.Config{Live: live, CanaryShare: 1.5}, "canary share 1.5"},
		{"negative reject ratio", release.Config{Live: live, MaxRejectRatio: -0.1}, "max reject ratio -0.1"},
		{"negative window", release.Config{Live: live, CanaryWindow: -time.Second}, "canary window -1s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := release.New(tt.cfg)
			var ce *release.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a ConfigError saying %q", err, tt.want)
			}
		})
	}
}

// waitFor waits up to 10s for cond; on failure it reports what each of
// show returns.
func waitFor(tb testing.TB, cond func() bool, show ...func() string) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	var extra []string
	for _, f := range show {
		extra = append(extra, f())
	}
	tb.Fatalf("condition not met within 10s %s", strings.Join(extra, "\n"))
}

func TestRulesTakenBeforeASwapKeepMappingWithThem(t *testing.T) {
	v1, v2 := load(t, "live"), load(t, "candidate")
	c, err := release.New(release.Config{Live: v1})
	if err != nil {
		t.Fatal(err)
	}
	batch := c.Current()
	if err := c.Swap(v2, nil); err != nil {
		t.Fatal(err)
	}
	var s release.Scratch
	var res mapper.Result
	p := payloads(t)[0]
	if src, _ := batch.Map(&s, origin(0), p, &res); src.Version() != 1 {
		t.Errorf("a batch's rules changed under it: v%d", src.Version())
	}
	if src, _ := c.Current().Map(&s, origin(1), p, &res); src.Version() != 2 {
		t.Errorf("the next batch did not get the new rules: v%d", src.Version())
	}
}

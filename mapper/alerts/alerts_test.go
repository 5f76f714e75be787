package alerts_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
)

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// lockedBuffer is a bytes.Buffer safe for the Alerter's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// statsRecorder records what the Alerter reports through alerts.Stats.
type statsRecorder struct {
	mu  sync.Mutex
	got map[string]int
}

func (s *statsRecorder) SentryEvent(source string, reason mapper.Reason, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[string]int{}
	}
	s.got[source+"/"+string(reason)+"/"+status]++
}

func (s *statsRecorder) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[key]
}

func newAlerter(t *testing.T, cfg alerts.Config) *alerts.Alerter {
	t.Helper()
	a, err := alerts.New(cfg)
	if err != nil {
		t.Fatalf("alerts.New: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func rejected(fs ...mapper.Failure) *mapper.Result {
	return &mapper.Result{Outcome: mapper.OutcomeRejected, Output: []byte("null"), Failures: fs}
}

func TestOneEventPerCategoryNotPerRecord(t *testing.T) {
	s := newSentryServer(t, "ok")
	stats := &statsRecorder{}
	a := newAlerter(t, alerts.Config{DSN: s.dsn, Stats: stats, Environment: "test", Release: "mapper@1.2.3"})
	res := mapper.UnknownSource("partner.unknown")
	for i := range 10000 {
		origin := &mapper.Origin{Topic: "partner.unknown", Partition: 1, Offset: int64(i), Key: []byte(fmt.Sprintf("k-%d", i))}
		a.Observe(origin, nil, []byte(`{"secret":"x"}`), &res, time.Millisecond)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	evs := s.received()
	if len(evs) != 1 {
		t.Fatalf("got %d events for 10,000 records of one defect, want 1", len(evs))
	}
	ev := evs[0]
	if want := []string{"unknown", "unknown_source", "", "0"}; !slices.Equal(ev.Fingerprint, want) {
		t.Errorf("fingerprint = %q, want %q", ev.Fingerprint, want)
	}
	wantTags := map[string]string{"source": "unknown", "reason": "unknown_source", "topic": "partner.unknown", "rules_version": "0", "outcome": "rejected"}
	for k, v := range wantTags {
		if ev.Tags[k] != v {
			t.Errorf("tag %s = %q, want %q", k, ev.Tags[k], v)
		}
	}
	if _, ok := ev.Tags["field"]; ok {
		t.Errorf("a failure without a field has a field tag: %q", ev.Tags["field"])
	}
	for _, k := range []string{"partition", "offset", "key"} {
		if _, ok := ev.Tags[k]; ok {
			t.Errorf("record coordinate %s is a tag; want it only in the record context", k)
		}
	}
	for key, want := range map[string]string{"topic": "partner.unknown", "partition": "1", "offset": "0", "key": "k-0"} {
		if got := ev.context("record", key); got != want {
			t.Errorf("record context %s = %s, want %s", key, got, want)
		}
	}
	if got := ev.context("failure", "first_seen"); got != "true" {
		t.Errorf("first_seen = %s, want true", got)
	}
	if got := ev.context("failure", "suppressed_since_last"); got != "0" {
		t.Errorf("suppressed_since_last = %s, want 0", got)
	}
	if ev.Level != "error" || ev.Environment != "test" || ev.Release != "mapper@1.2.3" {
		t.Errorf("level/environment/release = %q/%q/%q", ev.Level, ev.Environment, ev.Release)
	}
	if len(ev.Attachments) != 0 {
		t.Errorf("a record no source claims has %d attachments; want none (nothing says what to redact)", len(ev.Attachments))
	}
	if strings.Contains(string(ev.Raw), `"secret"`) {
		t.Errorf("the unclaimed payload left the process: %s", ev.Raw)
	}
	c := a.Counts()
	if c.Sent != 1 || c.Suppressed != 9999 || c.Dropped != 0 {
		t.Errorf("counts = %+v, want 1 sent and 9999 suppressed", c)
	}
	if got := stats.count("unknown/unknown_source/sent"); got != 1 {
		t.Errorf("stats sent = %d, want 1", got)
	}
}

func TestIntervalSendsAgainWithTheSuppressedCount(t *testing.T) {
	s := newSentryServer(t, "ok")
	clk := newClock()
	a := newAlerter(t, alerts.Config{DSN: s.dsn, Interval: 10 * time.Minute, Now: clk.now})
	missing := mapper.Failure{Reason: mapper.ReasonMissingField, Field: "customer.email", Detail: "required"}
	enum := mapper.Failure{Reason: mapper.ReasonUnknownEnum, Field: "status", Detail: `unknown value "LOST"`}
	origin := &mapper.Origin{Topic: "t"}

	for range 5 {
		a.Observe(origin, nil, nil, rejected(missing), 0)
	}
	clk.advance(9 * time.Minute)
	a.Observe(origin, nil, nil, rejected(missing, enum), 0) // enum is new: its own event
	clk.advance(2 * time.Minute)                            // 11 minutes after the first event
	a.Observe(origin, nil, nil, rejected(missing), 0)
	a.Observe(origin, nil, nil, rejected(missing), 0)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	evs := s.received()
	var got []string
	for _, ev := range evs {
		got = append(got, fmt.Sprintf("%s first=%s suppressed=%s", strings.Join(ev.Fingerprint, "|"),
			ev.context("failure", "first_seen"), ev.context("failure", "suppressed_since_last")))
	}
	want := []string{
		"unknown|missing_field|customer.email|0 first=true suppressed=0",
		"unknown|unknown_enum|status|0 first=true suppressed=0",
		"unknown|missing_field|customer.email|0 first=false suppressed=5",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
	if c := a.Counts(); c.Suppressed != 6 {
		t.Errorf("suppressed = %d, want 6 (5 before the second event, 1 after)", c.Suppressed)
	}
}

func TestCategoriesAreCappedPerSource(t *testing.T) {
	s := newSentryServer(t, "ok")
	const maxCats, records = 5, 100
	a := newAlerter(t, alerts.Config{DSN: s.dsn, MaxCategoriesPerSource: maxCats})
	for i := range records {
		res := &mapper.Result{Outcome: mapper.OutcomeDegraded, Failures: []mapper.Failure{
			{Reason: mapper.ReasonUnexpectedField, Field: fmt.Sprintf("invented_%d", i)},
		}}
		a.Observe(&mapper.Origin{Topic: "t"}, nil, nil, res, 0)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	evs := s.received()
	var fields []string
	for _, ev := range evs {
		fields = append(fields, ev.Tags["field"])
		if ev.Level != "warning" {
			t.Errorf("degraded record's event level = %q, want warning", ev.Level)
		}
	}
	want := []string{"invented_0", "invented_1", "invented_2", "invented_3", "invented_4", "other"}
	if !slices.Equal(fields, want) {
		t.Errorf("event fields = %q, want %q", fields, want)
	}
	if c := a.Counts(); c.Capped != records-maxCats || c.Suppressed != records-maxCats-1 {
		t.Errorf("counts = %+v, want %d capped and %d suppressed", c, records-maxCats, records-maxCats-1)
	}
}

func TestHangingSentryDoesNotBlockObserve(t *testing.T) {
	s := newSentryServer(t, "hang")
	stats := &statsRecorder{}
	var logs lockedBuffer
	a := newAlerter(t, alerts.Config{DSN: s.dsn, QueueSize: 4, FlushTimeout: 50 * time.Millisecond, Stats: stats,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	origin := &mapper.Origin{Topic: "t"}
	a.Observe(origin, nil, nil, rejected(mapper.Failure{Reason: mapper.ReasonMissingField, Field: "first"}), 0)
	s.waitHanging(1) // the sending goroutine is now stuck in Sentry

	// While the endpoint holds the request, every record with a new category
	// wants an event: Observe must still return, dropping what does not fit.
	const categories = 1000
	for i := range categories {
		a.Observe(origin, nil, nil, rejected(mapper.Failure{Reason: mapper.ReasonMissingField, Field: fmt.Sprintf("f%d", i%150)}), 0)
	}
	c := a.Counts()
	if c.Dropped == 0 || c.Queued > 1+4 {
		t.Errorf("counts with Sentry hanging = %+v, want events dropped and at most 1+4 queued", c)
	}
	// Close must give up on the hanging endpoint, not wait for it.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(s.received()); got != 0 {
		t.Errorf("a hanging endpoint received %d complete events", got)
	}
	c = a.Counts()
	if c.Sent != 0 || c.Dropped+c.Failed+c.RateLimited != 151 {
		t.Errorf("counts after Close = %+v: the one event of each of the 151 categories must end dropped or failed", c)
	}
	if got := stats.count("unknown/missing_field/dropped"); got == 0 {
		t.Errorf("dropped events were not reported to Stats: %v", stats.got)
	}
	if lines := strings.Count(logs.String(), "\n"); lines != 1 || !strings.Contains(logs.String(), "dropped") {
		t.Errorf("logged %d lines, want one rate-limited report of the drops:\n%s", lines, logs.String())
	}
}

func TestRateLimitedSentryDoesNotBlockObserve(t *testing.T) {
	s := newSentryServer(t, "429")
	a := newAlerter(t, alerts.Config{DSN: s.dsn})
	origin := &mapper.Origin{Topic: "t"}
	for i := range 20 {
		a.Observe(origin, nil, nil, rejected(mapper.Failure{Reason: mapper.ReasonOutOfRange, Field: fmt.Sprintf("f%d", i)}), 0)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	c := a.Counts()
	if c.Sent != 0 || c.RateLimited+c.Dropped != 20 {
		t.Errorf("counts = %+v, want all 20 events rate limited or dropped", c)
	}
	s.mu.Lock()
	requests := s.requests
	s.mu.Unlock()
	if requests != 1 {
		t.Errorf("endpoint got %d requests after answering 429 with Retry-After; want 1 (the SDK backs off)", requests)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  alerts.Config
		want string
	}{
		{"missing DSN", alerts.Config{}, "SENTRY_DSN"},
		{"malformed DSN", alerts.Config{DSN: "not a dsn"}, "SENTRY_DSN"},
		{"negative interval", alerts.Config{DSN: "http://k@127.0.0.1:1/1", Interval: -time.Second}, "Interval"},
		{"negative queue", alerts.Config{DSN: "http://k@127.0.0.1:1/1", QueueSize: -1}, "QueueSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := alerts.New(tt.cfg)
			if err == nil {
				a.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestNilAlerterDoesNothing(t *testing.T) {
	var a *alerts.Alerter
	a.Observe(&mapper.Origin{}, nil, nil, rejected(mapper.Failure{Reason: mapper.ReasonNullField}), 0)
	if err := a.Close(); err != nil {
		t.Error(err)
	}
}

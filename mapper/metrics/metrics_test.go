package metrics_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/metrics"
)

func newClient(t *testing.T, cfg metrics.Config) *metrics.Client {
	t.Helper()
	c, err := metrics.New(cfg)
	if err != nil {
		t.Fatalf("metrics.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUnknownSourceRecordsOnTheWire(t *testing.T) {
	for _, listen := range []struct {
		name string
		fn   func(*testing.T) *agent
	}{{"udp", listenUDP}, {"unix datagram socket", listenUnixgram}} {
		t.Run(listen.name, func(t *testing.T) {
			a := listen.fn(t)
			c := newClient(t, metrics.Config{Addr: a.addr, Tags: []string{"env:test", "service:mapper"}})
			origin := &mapper.Origin{Topic: "nobody.claims.this", Partition: 2, Offset: 7}
			res := mapper.UnknownSource(origin.Topic)
			for range 250 {
				c.Observe(origin, nil, []byte(`{}`), &res, 3*time.Millisecond)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			ds := a.settle()

			rec, err := only(ds, "mapper.records", "source:unknown", "rules_version:0", "outcome:rejected")
			if err != nil {
				t.Fatal(err)
			}
			if rec.Type != "c" || !slices.Equal(rec.Values, []float64{250}) {
				t.Errorf("records datagram %q: want one aggregated count of 250", rec.Raw)
			}
			if !rec.hasTags("env:test", "service:mapper") {
				t.Errorf("records datagram %q lacks the constant tags", rec.Raw)
			}
			fail, err := only(ds, "mapper.failures", "source:unknown", "reason:unknown_source", "field:none")
			if err != nil {
				t.Fatal(err)
			}
			if fail.Type != "c" || !slices.Equal(fail.Values, []float64{250}) {
				t.Errorf("failures datagram %q: want one aggregated count of 250", fail.Raw)
			}
			dur := named(ds, "mapper.map.duration")
			if len(dur) == 0 {
				t.Fatal("no mapper.map.duration datagram")
			}
			var n float64
			for _, d := range dur {
				if d.Type != "d" || !d.hasTags("source:unknown", "outcome:rejected") {
					t.Errorf("duration datagram %q: want a distribution tagged source and outcome", d.Raw)
				}
				for _, v := range d.Values {
					if v != 0.003 {
						t.Errorf("duration value %v, want 0.003 seconds", v)
					}
					n += 1 / d.Rate
				}
			}
			if int(n+0.5) != 250 {
				t.Errorf("durations add up to %v records, want 250", n)
			}
		})
	}
}

func TestWorkerCountersOnTheWire(t *testing.T) {
	a := listenUDP(t)
	c := newClient(t, metrics.Config{Addr: a.addr})
	c.ConsumerLag("partner.orders.raw", 0, 40)
	c.ConsumerLag("partner.orders.raw", 0, 12) // a gauge keeps the last value
	c.ConsumerLag("partner.orders.raw", 1, 5)
	for range 3 {
		c.DLQRecord("orders")
	}
	c.SampleKept("orders", mapper.ReasonMissingField)
	c.SampleKept("orders", "")
	c.SentryEvent("orders", mapper.ReasonMissingField, "sent")
	c.SentryEvent("orders", mapper.ReasonMissingField, "dropped")
	c.SentryEvent("orders", mapper.ReasonMissingField, "dropped")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ds := a.settle()

	tests := []struct {
		name   string
		metric string
		tags   []string
		typ    string
		want   float64
	}{
		{"lag gauge keeps the last value", "mapper.consumer.lag", []string{"topic:partner.orders.raw", "partition:0"}, "g", 12},
		{"lag gauge per partition", "mapper.consumer.lag", []string{"topic:partner.orders.raw", "partition:1"}, "g", 5},
		{"dead-letter records counted per source", "mapper.dlq.records", []string{"source:orders"}, "c", 3},
		{"samples counted by reason", "mapper.samples.kept", []string{"source:orders", "reason:missing_field"}, "c", 1},
		{"clean samples have reason none", "mapper.samples.kept", []string{"source:orders", "reason:none"}, "c", 1},
		{"sentry events by status: sent", "mapper.sentry.events", []string{"source:orders", "reason:missing_field", "status:sent"}, "c", 1},
		{"sentry events by status: dropped", "mapper.sentry.events", []string{"source:orders", "reason:missing_field", "status:dropped"}, "c", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := only(ds, tt.metric, tt.tags...)
			if err != nil {
				t.Fatal(err)
			}
			if d.Type != tt.typ || !slices.Equal(d.Values, []float64{tt.want}) {
				t.Errorf("got %q, want type %s value %v", d.Raw, tt.typ, tt.want)
			}
		})
	}
}

func TestAggregationFlushesOnInterval(t *testing.T) {
	a := listenUDP(t)
	c := newClient(t, metrics.Config{Addr: a.addr, AggregationInterval: 50 * time.Millisecond})
	res := mapper.UnknownSource("t")
	for range 10 {
		c.Observe(&mapper.Origin{Topic: "t"}, nil, nil, &res, time.Millisecond)
	}
	// No Flush or Close: the aggregate must reach the agent on its own.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		a.mu.Lock()
		got := sum(a.lines, "mapper.records", "outcome:rejected")
		a.mu.Unlock()
		if got == 10 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the aggregated count of 10 records never arrived without a flush")
}

func TestFieldCardinalityIsCapped(t *testing.T) {
	a := listenUDP(t)
	const maxFields, records = 10, 1000
	c := newClient(t, metrics.Config{Addr: a.addr, MaxFieldsPerSource: maxFields})
	// A stream that invents a new field name on every record.
	for i := range records {
		res := mapper.Result{Outcome: mapper.OutcomeDegraded, Output: []byte(`{}`), Failures: []mapper.Failure{
			{Reason: mapper.ReasonUnexpectedField, Field: "extra_" + strconv.Itoa(i), Detail: "not in the input contract"},
		}}
		c.Observe(&mapper.Origin{Topic: "t"}, nil, nil, &res, time.Microsecond)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ds := a.settle()

	fields := tagValues(ds, "mapper.failures", "field")
	if len(fields) != maxFields+1 || !slices.Contains(fields, "other") {
		t.Errorf("field tag values = %d %v, want the first %d fields and \"other\"", len(fields), fields, maxFields)
	}
	if got := sum(ds, "mapper.failures", "field:other"); got != records-maxFields {
		t.Errorf("failures tagged field:other = %v, want %d", got, records-maxFields)
	}
	if got := sum(ds, "mapper.failures"); got != records {
		t.Errorf("failures in all = %v, want %d (capping must not lose counts)", got, records)
	}
	if got := sum(ds, "mapper.failures.field_capped", "source:unknown"); got != records-maxFields {
		t.Errorf("mapper.failures.field_capped = %v, want %d", got, records-maxFields)
	}
	if got := sum(ds, "mapper.failures.new_category"); got != maxFields+1 {
		t.Errorf("mapper.failures.new_category = %v, want %d (each admitted field and \"other\" once)", got, maxFields+1)
	}
	if got := c.Stats().FieldsCapped; got != records-maxFields {
		t.Errorf("Stats().FieldsCapped = %d, want %d", got, records-maxFields)
	}
}

func TestTagValuesAreSafeOnTheWire(t *testing.T) {
	a := listenUDP(t)
	c := newClient(t, metrics.Config{Addr: a.addr})
	res := mapper.Result{Outcome: mapper.OutcomeDegraded, Failures: []mapper.Failure{
		{Reason: mapper.ReasonUnexpectedField, Field: "a,b|c#d e\nf"},
		{Reason: mapper.ReasonMissingField, Field: "items[].sku"},
		{Reason: mapper.ReasonMissingField, Field: strings.Repeat("x", 500)},
	}}
	c.Observe(&mapper.Origin{}, nil, nil, &res, 0)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ds := a.settle() // fails the test on any datagram that does not parse
	fields := tagValues(ds, "mapper.failures", "field")
	want := []string{"a_b_c_d_e_f", "items[].sku", strings.Repeat("x", 150)}
	if !slices.Equal(fields, want) {
		t.Errorf("field tags = %q, want %q", fields, want)
	}
}

func TestUnreachableAgentCostsOnlyTelemetry(t *testing.T) {
	// A port nobody listens on: datagrams are refused or vanish.
	a := listenUDP(t)
	addr := a.addr
	a.close()
	// The background flush runs at its default interval: datadog-go's
	// aggregator hands a distribution's sample slice to the serialiser while
	// a concurrent sample may still replace one of its values, which the race
	// detector reports inside the library. Explicit flushes below, between
	// the samples, exercise the same failing writes.
	c := newClient(t, metrics.Config{Addr: addr})
	res := mapper.UnknownSource("t")
	for i := range 10000 {
		if i%1000 == 999 {
			if err := c.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
		}
		c.Observe(&mapper.Origin{}, nil, nil, &res, 0)
	}
	if err := c.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestMissingAgentIsSaidOnceAtInfo(t *testing.T) {
	// Nothing listens at either address: every write fails.
	dir := t.TempDir()
	free, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udpAddr := free.LocalAddr().String()
	free.Close()
	tests := []struct {
		name, addr string
	}{
		{"no process on the agent's UDP port", udpAddr},
		{"no agent's Unix socket", "unixgram://" + filepath.Join(dir, "absent.socket")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c := newClient(t, metrics.Config{Addr: tt.addr, Logger: logger, ErrorLogInterval: time.Nanosecond})
			res := mapper.UnknownSource("t")
			deadline := time.Now().Add(30 * time.Second)
			for c.Stats().WriteErrors < 3 && time.Now().Before(deadline) {
				for range 100 {
					c.Observe(&mapper.Origin{}, nil, nil, &res, 0)
				}
				if err := c.Flush(); err != nil {
					t.Fatalf("Flush: %v", err)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got := c.Stats().WriteErrors; got < 2 {
				t.Errorf("WriteErrors = %d, want every failed write counted (several flushes)", got)
			}
			out := logs.String()
			if got := strings.Count(out, "no DogStatsD agent is listening"); got != 1 || !strings.Contains(out, "level=INFO") || !strings.Contains(out, "MAPPER_METRICS=false") {
				t.Errorf("said %d times, want once at info with how to silence it:\n%s", got, out)
			}
			if strings.Contains(out, "level=WARN") {
				t.Errorf("a missing agent was logged as a warning:\n%s", out)
			}
		})
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestClientTelemetryIsOn(t *testing.T) {
	a := listenUDP(t)
	c := newClient(t, metrics.Config{Addr: a.addr})
	res := mapper.UnknownSource("t")
	c.Observe(&mapper.Origin{}, nil, nil, &res, 0)
	if got := c.Telemetry(); got.TotalMetricsCount == 0 || got.TotalMetricsDistribution == 0 {
		t.Errorf("client telemetry = %+v, want counts of what was sent (telemetry left on)", got)
	}
}

func TestNilClientDoesNothing(t *testing.T) {
	var c *metrics.Client
	res := mapper.UnknownSource("t")
	c.Observe(&mapper.Origin{}, nil, nil, &res, 0)
	c.ConsumerLag("t", 0, 1)
	c.DLQRecord("s")
	c.SampleKept("s", mapper.ReasonDefaulted)
	c.SentryEvent("s", mapper.ReasonDefaulted, "sent")
	if err := c.Close(); err != nil {
		t.Errorf("Close on nil: %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  metrics.Config
		want string
	}{
		{"negative field cap", metrics.Config{MaxFieldsPerSource: -1}, "MaxFieldsPerSource"},
		{"negative aggregation interval", metrics.Config{AggregationInterval: -time.Second}, "AggregationInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := metrics.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

// TestBatchSendsWhatObserveSends counts the same records once through
// Observe and once through a Batch flushed every few records: on the wire
// the counts by outcome, the failures (field cap included), the new
// categories and the mapping times are the same; only fewer counts are
// sent.
func TestBatchSendsWhatObserveSends(t *testing.T) {
	const records, maxFields = 300, 10
	results := make([]mapper.Result, records)
	for i := range results {
		switch i % 3 {
		case 0:
			results[i] = mapper.Result{Outcome: mapper.OutcomeMapped, Output: []byte(`{}`)}
		case 1:
			results[i] = mapper.Result{Outcome: mapper.OutcomeDegraded, Output: []byte(`{}`), Failures: []mapper.Failure{
				{Reason: mapper.ReasonUnexpectedField, Field: "extra_" + strconv.Itoa(i%40)},
			}}
		default:
			results[i] = mapper.Result{Outcome: mapper.OutcomeRejected, Failures: []mapper.Failure{
				{Reason: mapper.ReasonMissingField, Field: "order_id"}, {Reason: mapper.ReasonMalformedPayload},
			}}
		}
	}
	send := func(batch bool) []datagram {
		a := listenUDP(t)
		c := newClient(t, metrics.Config{Addr: a.addr, MaxFieldsPerSource: maxFields})
		b := c.NewBatch()
		for i := range results {
			if batch {
				b.Observe(&mapper.Origin{Topic: "t"}, nil, nil, &results[i], time.Millisecond)
				if i%7 == 6 {
					b.Flush()
				}
			} else {
				c.Observe(&mapper.Origin{Topic: "t"}, nil, nil, &results[i], time.Millisecond)
			}
		}
		b.Flush()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		return a.settle()
	}
	one, batched := send(false), send(true)
	for _, m := range []struct {
		name string
		tags []string
	}{
		{"mapper.records", []string{"outcome:mapped"}},
		{"mapper.records", []string{"outcome:degraded"}},
		{"mapper.records", []string{"outcome:rejected"}},
		{"mapper.failures", nil},
		{"mapper.failures", []string{"field:other"}},
		{"mapper.failures", []string{"reason:missing_field"}},
		{"mapper.failures.field_capped", nil},
		{"mapper.failures.new_category", nil},
	} {
		want, got := sum(one, m.name, m.tags...), sum(batched, m.name, m.tags...)
		if want == 0 {
			t.Errorf("%s %v: none sent per record: the test proves nothing", m.name, m.tags)
		}
		if got != want {
			t.Errorf("%s %v: %v from a Batch, %v from Observe", m.name, m.tags, got, want)
		}
	}
	durations := func(ds []datagram) (n float64) {
		for _, d := range named(ds, "mapper.map.duration") {
			n += float64(len(d.Values)) / d.Rate
		}
		return n
	}
	if got := durations(batched); int(got+0.5) != records {
		t.Errorf("mapping times of %v records from a Batch, want %d", got, records)
	}
}

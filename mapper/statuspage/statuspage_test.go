package statuspage_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/profile"
	"github.com/mapperhq/mapper/mapper/registry"
	"github.com/mapperhq/mapper/mapper/statuspage"
	"github.com/mapperhq/mapper/mapper/stream"
)

// withCandidate is a /status document with the keys other parts add.
type withCandidate struct {
	stream.Status
	Rules     map[string]int `json:"rules"`
	Candidate any            `json:"candidate,omitempty"`
}

// withDrift is a /status document with drift reports.
type withDrift struct {
	stream.Status
	Drift []drift.Report `json:"drift"`
}

func status(now time.Time) stream.Status {
	var st stream.Status
	st.State, st.Ready, st.Group = stream.StateRunning, true, "mapper"
	st.Topics = []string{"partner.orders.raw"}
	st.OutputTopic, st.DeadLetterTopic = "orders.mapped", "orders.dead-letter"
	st.Counts = stream.Counts{Mapped: 90, Degraded: 4, Rejected: 30,
		Sources: []stream.SourceCounts{
			{Source: "orders", RulesVersion: 3, Mapped: 80, Degraded: 4, Rejected: 16},
			{Source: "", Mapped: 0, Rejected: 4},
			{Source: "github-work-items", RulesVersion: 1, Mapped: 10, Rejected: 10},
		},
		TopFailures: []stream.CategoryCount{
			{Source: "orders", Category: "unknown_enum:status", Count: 12},
			{Source: "orders", Category: "type_mismatch:items[].qty", Count: 4},
			{Source: "", Category: "unknown_source", Count: 4},
		},
	}
	st.Lag = []stream.PartitionLag{{Topic: "partner.orders.raw", Partition: 0, Committed: 100, HighWatermark: 130, Lag: 30}, {Topic: "partner.orders.raw", Partition: 1, Committed: -1, HighWatermark: 5, Lag: 5}}
	st.LagTotal = 35
	for i := range 3 {
		st.History = append(st.History, stream.MinuteCounts{Start: now.Add(time.Duration(i-2) * time.Minute).Truncate(time.Minute),
			Sources: []stream.SourceCounts{{Source: "orders", RulesVersion: 3, Mapped: int64(20 + 10*i), Rejected: 5}}})
	}
	return st
}

func get(t *testing.T, doc any, cfg statuspage.Config) (int, string) {
	t.Helper()
	cfg.Status = func(context.Context) any { return doc }
	h, err := statuspage.Handler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode == 200 && ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	return resp.StatusCode, string(b)
}

func TestPage(t *testing.T) {
	now := time.Date(2026, 11, 21, 13, 30, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	objectives := map[string]float64{"orders": 0.95, "github-work-items": 0.5, "quiet": 0.9}
	tests := []struct {
		name   string
		doc    any
		want   []string
		absent []string
	}{
		{"sources with their objective, failures with the command, lag per partition",
			status(now),
			[]string{
				`<meta http-equiv="refresh" content="5">`,
				`data-source="orders"`, "v3", "84.0%", "95.0% not met",
				`data-source="github-work-items"`, "50.0% met",
				`data-source="quiet"`, // an objective but no records yet
				"<i>unrouted</i>",
				"mapper samples show --source orders --category unknown_enum:status",
				"mapper samples show --source orders --category &#39;type_mismatch:items[].qty&#39;",
				"mapper samples show --source &#39;&#39; --category unknown_source",
				`<td class="n">30</td>`, `<td class="n">1</td><td class="n">–</td>`, // committed -1 shows as a dash
				`<polyline class="ratio"`, `<line class="objective"`,
				"13:28", "13:30",
				"<td>orders</td><td>v3</td>", // rules from the counted sources
			},
			[]string{`id="candidate"`, `id="schema-registry"`}},
		{"the rules and the candidate's verdicts once /status has them",
			withCandidate{Status: status(now), Rules: map[string]int{"orders": 4},
				Candidate: map[string]any{"mode": "shadow", "versions": map[string]int{"orders": 5},
					"verdicts": map[string]int{"same": 70, "now_mapped": 9, "newly_failing": 1}, "rolled_back": false}},
			[]string{`id="candidate"`, "shadow", `{&#34;orders&#34;:5}`, "<td>newly_failing</td><td class=\"n\">1</td>", "<td>now_mapped</td><td class=\"n\">9</td>", "<td>orders</td><td>v4</td>"},
			nil},
		{"each source's subject and schema id once a schema registry is used",
			func() stream.Status {
				st := status(now)
				st.SchemaRegistry = registry.Status{URL: "http://registry:8081", Subjects: []registry.Binding{
					{Source: "orders", Subject: "orders.mapped-orders", Version: 2, SchemaID: 7},
					{Source: "orders", Candidate: true, Subject: "orders.mapped-orders"},
				}}
				return st
			}(),
			[]string{`id="schema-registry"`, "http://registry:8081",
				"<td>orders</td><td>orders.mapped-orders</td><td>v2</td><td>7</td>",
				"<td>orders (candidate)</td><td>orders.mapped-orders</td><td>—</td><td>not registered (shadow)</td>"},
			nil},
		{"names from payloads are escaped",
			func() stream.Status {
				st := status(now)
				st.Counts.TopFailures = []stream.CategoryCount{{Source: "orders", Category: `unexpected_field:<script>alert(1)</script>`, Count: 1}}
				return st
			}(),
			[]string{"unexpected_field:&lt;script&gt;alert(1)&lt;/script&gt;"},
			[]string{"<script>"}},
		{"the drift of each source, with hostile paths escaped",
			withDrift{Status: status(now), Drift: []drift.Report{
				{Source: "orders", Records: 200, Entries: []drift.Entry{
					{Kind: drift.KindAbsentRequired, Path: "currency", Count: 50, Share: 0.25, FirstSeen: now},
					{Kind: drift.KindNewEnumValue, Path: "status", Count: 3, Share: 0.015, FirstSeen: now,
						Values: []profile.Entry{{Value: `"on-hold"`, Count: 3}}},
					{Kind: drift.KindNewProperty, Path: `<script>x</script>`, Count: 1, Share: 0.005, FirstSeen: now},
				}},
				{Source: "quiet", Records: 9},
			}},
			[]string{`<section id="drift">`, `<h3 data-drift-source="orders">`, "3 drifting fields in 200 records",
				"<td>absent_required</td><td><code>currency</code></td><td class=\"n\">50</td><td class=\"n\">25.0%</td><td>2026-11-21 13:30:00</td>",
				"&#34;on-hold&#34; ×3", "&lt;script&gt;x&lt;/script&gt;", "mapper drift --source orders"},
			[]string{"<script>", `data-drift-source="quiet"`}},
		{"no drift reported: a line that says so",
			withDrift{Status: status(now), Drift: []drift.Report{}},
			[]string{`<section id="drift">`, "no drift: the traffic matches the input schemas"},
			nil},
		{"a worker with no records yet",
			stream.Status{State: stream.StateStarting, NotReadyReason: "starting: connecting to brokers"},
			[]string{"no records yet", "no failures", "no partitions", "starting · starting: connecting to brokers", `class="badge bad"`},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := statuspage.Config{Objectives: objectives, Now: clock}
			if strings.Contains(tt.name, "no records") {
				cfg.Objectives = nil
			}
			code, body := get(t, tt.doc, cfg)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(body, a) {
					t.Errorf("page has %q", a)
				}
			}
			if t.Failed() {
				t.Log(body)
			}
		})
	}
}

func TestPageRefusesAStatusItCannotRead(t *testing.T) {
	code, body := get(t, func() {}, statuspage.Config{})
	if code != http.StatusInternalServerError || !strings.Contains(body, "status unavailable") {
		t.Errorf("status %d %q, want 500 saying the status is unavailable", code, body)
	}
}

func TestHandlerNeedsAStatus(t *testing.T) {
	if _, err := statuspage.Handler(statuspage.Config{}); err == nil {
		t.Error("no error without Config.Status")
	}
}

package drift_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/profile"
)

const github = "github-work-items"

func loadEngine(tb testing.TB) *mapper.Engine {
	tb.Helper()
	eng, err := mapper.Load(filepath.Join("..", "..", "rules"), filepath.Join("..", "..", "schemas"), mapper.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", github, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// drifted returns the issues.opened fixture with the issue edited by edit.
func drifted(tb testing.TB, edit func(issue map[string]any)) []byte {
	tb.Helper()
	var doc map[string]any
	if err := json.Unmarshal(fixture(tb, "issues.opened.payload.json"), &doc); err != nil {
		tb.Fatal(err)
	}
	edit(doc["issue"].(map[string]any))
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func observe(o *drift.Observer, src *mapper.Source, payloads ...[]byte) {
	for _, p := range payloads {
		res := src.Map(p)
		o.Observe(nil, src, p, &res, 0)
	}
}

func entryOf(r drift.Report, k drift.Kind, path string) (drift.Entry, bool) {
	for _, e := range r.Entries {
		if e.Kind == k && e.Path == path {
			return e, true
		}
	}
	return drift.Entry{}, false
}

func TestReportShowsEachKindAgainstTheInputSchema(t *testing.T) {
	eng := loadEngine(t)
	src := eng.Source(github)
	clk := &clock{t: time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC)}
	o, err := drift.Open(drift.Config{Now: clk.now, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	clean := fixture(t, "issues.opened.payload.json")
	older := fixture(t, "issues.opened.older-release.payload.json")
	observe(o, src, clean, clean, older, older, older)
	observe(o, src, drifted(t, func(is map[string]any) { is["state"] = "archived" }))
	observe(o, src, drifted(t, func(is map[string]any) { is["state"] = "archived" }))
	observe(o, src, drifted(t, func(is map[string]any) { is["state"] = "deferred" }))
	observe(o, src, drifted(t, func(is map[string]any) { is["sub_issues_summary"] = map[string]any{"total": 0} }))
	observe(o, src, drifted(t, func(is map[string]any) { is["locked"] = "no" }))
	observe(o, src, drifted(t, func(is map[string]any) { is["locked"] = nil }))

	r, ok := o.Report(github)
	if !ok {
		t.Fatal("no report")
	}
	if r.Records != 11 {
		t.Fatalf("records %d, want 11", r.Records)
	}
	tests := []struct {
		name  string
		kind  drift.Kind
		path  string
		count uint64
	}{
		{"required properties absent in the older release", drift.KindAbsentRequired, "issue.reactions", 3},
		{"another required property absent in the older release", drift.KindAbsentRequired, "issue.active_lock_reason", 3},
		{"a property the schema lacks", drift.KindNewProperty, "issue.sub_issues_summary", 1},
		{"values outside the schema's enum", drift.KindNewEnumValue, "issue.state", 3},
		{"types outside the schema's", drift.KindNewType, "issue.locked", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := entryOf(r, tc.kind, tc.path)
			if !ok {
				t.Fatalf("no %s entry at %s in %+v", tc.kind, tc.path, r.Entries)
			}
			if e.Count != tc.count {
				t.Errorf("count %d, want %d", e.Count, tc.count)
			}
			if want := float64(tc.count) / 11; e.Share != want {
				t.Errorf("share %v, want %v", e.Share, want)
			}
			if e.FirstSeen.IsZero() || e.LastSeen.Before(e.FirstSeen) {
				t.Errorf("first seen %v, last seen %v", e.FirstSeen, e.LastSeen)
			}
		})
	}
	t.Run("new enum values are counted by value", func(t *testing.T) {
		e, _ := entryOf(r, drift.KindNewEnumValue, "issue.state")
		if got := fmt.Sprint(e.Values); got != `[{"archived" 2 0 false} {"deferred" 1 0 false}]` {
			t.Errorf("values %s", got)
		}
	})
	t.Run("new types name the type seen and the schema's", func(t *testing.T) {
		e, _ := entryOf(r, drift.KindNewType, "issue.locked")
		if got := fmt.Sprint(e.Types, e.Expected); got != "[{null 1} {string 1}] [boolean]" && got != "[{string 1} {null 1}] [boolean]" {
			t.Errorf("types %s", got)
		}
	})
	t.Run("a clean record adds no entry", func(t *testing.T) {
		n := len(r.Entries)
		observe(o, src, clean)
		r2, _ := o.Report(github)
		if len(r2.Entries) != n || r2.Records != 12 {
			t.Errorf("entries %d → %d, records %d", n, len(r2.Entries), r2.Records)
		}
	})
}

func TestPathsPerSourceAreBounded(t *testing.T) {
	eng := loadEngine(t)
	src := eng.Source(github)
	o, err := drift.Open(drift.Config{MaxPaths: 3, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for i := range 10 {
		observe(o, src, drifted(t, func(is map[string]any) { is[fmt.Sprintf("added_%d", i)] = i }))
	}
	r, _ := o.Report(github)
	if len(r.Entries) != 3 || r.Untracked != 7 {
		t.Fatalf("%d entries, %d untracked; want 3 and 7", len(r.Entries), r.Untracked)
	}
}

func TestReportsAreWrittenAndTakenUpAgain(t *testing.T) {
	eng := loadEngine(t)
	src := eng.Source(github)
	dir := t.TempDir()
	var gauges sync.Map
	var announced []string
	o, err := drift.Open(drift.Config{Dir: dir, FlushInterval: time.Hour,
		Gauges:    gaugeFunc(func(s, k string, n int) { gauges.Store(s+" "+k, n) }),
		Announcer: announceFunc(func(s string, _ int, e drift.Entry) { announced = append(announced, string(e.Kind)+" "+e.Path) })})
	if err != nil {
		t.Fatal(err)
	}
	older := fixture(t, "pull_request.opened.older-release.payload.json")
	observe(o, src, older, older)
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if n, _ := gauges.Load(github + " absent_required"); n != 3 {
		t.Errorf("absent_required gauge %v, want 3", n)
	}
	if n, _ := gauges.Load(github + " new_property"); n != 0 {
		t.Errorf("new_property gauge %v, want 0", n)
	}
	if len(announced) != 3 {
		t.Errorf("announced %v, want the three absent properties once each", announced)
	}
	r, err := drift.ReadFile(dir, github)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := entryOf(r, drift.KindAbsentRequired, "pull_request.draft"); !ok || e.Count != 2 || r.Records != 2 {
		t.Fatalf("report read back: %+v", r)
	}

	announced = nil
	o2, err := drift.Open(drift.Config{Dir: dir, FlushInterval: time.Hour,
		Announcer: announceFunc(func(s string, _ int, e drift.Entry) { announced = append(announced, e.Path) })})
	if err != nil {
		t.Fatal(err)
	}
	observe(o2, src, older)
	if err := o2.Close(); err != nil {
		t.Fatal(err)
	}
	r, _ = drift.ReadFile(dir, github)
	if e, _ := entryOf(r, drift.KindAbsentRequired, "pull_request.draft"); e.Count != 3 || r.Records != 3 {
		t.Errorf("after a restart: count %d of %d records, want 3 of 3", e.Count, r.Records)
	}
	if len(announced) != 0 {
		t.Errorf("drift taken up from the directory was announced again: %v", announced)
	}
}

func TestMergeAddsTheWorkersReports(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := drift.Report{Source: "s", Records: 10, MaxPaths: 4, MaxValues: 4, Entries: []drift.Entry{
		{Kind: drift.KindAbsentRequired, Path: "x", Count: 4, FirstSeen: t0.Add(time.Hour), LastSeen: t0.Add(2 * time.Hour)},
		{Kind: drift.KindNewEnumValue, Path: "e", Count: 2, ValuesTotal: 2, Values: []profileEntry{{Value: `"a"`, Count: 2}}},
	}}
	b := drift.Report{Source: "s", Records: 30, MaxPaths: 4, MaxValues: 4, Entries: []drift.Entry{
		{Kind: drift.KindAbsentRequired, Path: "x", Count: 6, FirstSeen: t0, LastSeen: t0.Add(time.Hour)},
		{Kind: drift.KindNewEnumValue, Path: "e", Count: 3, ValuesTotal: 3, Values: []profileEntry{{Value: `"b"`, Count: 2}, {Value: `"a"`, Count: 1}}},
	}}
	m := drift.Merge(a, b)
	if m.Records != 40 {
		t.Fatalf("records %d", m.Records)
	}
	x, _ := entryOf(m, drift.KindAbsentRequired, "x")
	if x.Count != 10 || x.Share != 0.25 || !x.FirstSeen.Equal(t0) || !x.LastSeen.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("x: %+v", x)
	}
	e, _ := entryOf(m, drift.KindNewEnumValue, "e")
	if got := fmt.Sprint(e.Values); got != `[{"a" 3 0 false} {"b" 2 0 false}]` || e.ValuesTotal != 5 {
		t.Errorf("values %s total %d", got, e.ValuesTotal)
	}
}

func TestDecodeRefusesWhatNoObserverWrote(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":     `{"source":`,
		"no source":    `{"entries":[]}`,
		"unknown kind": `{"source":"s","entries":[{"kind":"renamed","path":"x"}]}`,
		"a long value": `{"source":"s","entries":[{"kind":"new_enum_value","path":"x","values":[{"value":"` + strings.Repeat("v", 200) + `","count":1}]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := drift.Decode([]byte(doc)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func countOf(r drift.Report, k drift.Kind, path string) uint64 {
	e, _ := entryOf(r, k, path)
	return e.Count
}

type gaugeFunc func(source, kind string, n int)

func (f gaugeFunc) DriftFields(source, kind string, n int) { f(source, kind, n) }

type announceFunc func(source string, version int, e drift.Entry)

func (f announceFunc) NewDrift(source string, version int, e drift.Entry) { f(source, version, e) }

type profileEntry = profile.Entry

// TestConcurrentObserversCountEveryRecord observes from several goroutines
// while reports are read and flushed: no record is lost.
func TestConcurrentObserversCountEveryRecord(t *testing.T) {
	eng := loadEngine(t)
	src := eng.Source(github)
	o, err := drift.Open(drift.Config{Dir: t.TempDir(), FlushInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	older := fixture(t, "issues.opened.older-release.payload.json")
	enum := drifted(t, func(is map[string]any) { is["state"] = "archived" })
	const goroutines, each = 4, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				p := older
				if (g+i)%2 == 0 {
					p = enum
				}
				observe(o, src, p)
				if i%50 == 0 {
					o.Reports()
				}
			}
		}()
	}
	wg.Wait()
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	r, _ := o.Report(github)
	e, _ := entryOf(r, drift.KindNewEnumValue, "issue.state")
	a, _ := entryOf(r, drift.KindAbsentRequired, "issue.reactions")
	if r.Records != goroutines*each || e.Count+a.Count != goroutines*each || e.ValuesTotal != e.Count {
		t.Fatalf("records %d, enum %d (values %d), absent %d; want %d in all", r.Records, e.Count, e.ValuesTotal, a.Count, goroutines*each)
	}
}

// TestAContractEditClearsWhatItCovers observes drift under the shipped
// contract, then one record under a contract that declares the new
// property, no longer requires issue.reactions and allows a string at
// issue.locked: those entries leave the report, the rest stay.
func TestAContractEditClearsWhatItCovers(t *testing.T) {
	src := loadEngine(t).Source(github)
	o, err := drift.Open(drift.Config{FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	observe(o, src, fixture(t, "issues.opened.older-release.payload.json"),
		drifted(t, func(is map[string]any) { is["sub_issues_summary"] = map[string]any{"total": 0} }),
		drifted(t, func(is map[string]any) { is["locked"] = "no" }),
		drifted(t, func(is map[string]any) { is["state"] = "archived" }))

	schemas := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "..", "schemas", "github-work-item.input.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	issue := doc["definitions"].(map[string]any)["issue"].(map[string]any)
	issue["properties"].(map[string]any)["sub_issues_summary"] = map[string]any{"type": "object"}
	issue["properties"].(map[string]any)["locked"] = map[string]any{"type": []any{"boolean", "string"}}
	var req []any
	for _, r := range issue["required"].([]any) {
		if r != "reactions" {
			req = append(req, r)
		}
	}
	issue["required"] = req
	for _, name := range []string{"work-item.v1.json", "order.v1.json", "orders.input.json"} {
		copyFile(t, filepath.Join("..", "..", "schemas", name), filepath.Join(schemas, name))
	}
	edited, _ := json.Marshal(doc)
	if err := os.WriteFile(filepath.Join(schemas, "github-work-item.input.json"), edited, 0o644); err != nil {
		t.Fatal(err)
	}
	eng2, err := mapper.Load(filepath.Join("..", "..", "rules"), schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	observe(o, eng2.Source(github), fixture(t, "issues.opened.payload.json"))

	r, _ := o.Report(github)
	for _, gone := range []string{"new_property issue.sub_issues_summary", "absent_required issue.reactions", "new_type issue.locked"} {
		for _, e := range r.Entries {
			if string(e.Kind)+" "+e.Path == gone {
				t.Errorf("%s stays after the contract covers it", gone)
			}
		}
	}
	for _, stays := range []struct {
		k drift.Kind
		p string
	}{{drift.KindAbsentRequired, "issue.active_lock_reason"}, {drift.KindNewEnumValue, "issue.state"}} {
		if _, ok := entryOf(r, stays.k, stays.p); !ok {
			t.Errorf("%s %s left the report though the contract still disagrees", stays.k, stays.p)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAPayloadThatDoesNotParseIsCountedWithoutValues hands the observer an
// unknown_enum failure with a payload that is not JSON (as a result read
// back from elsewhere could be): the drift is counted without a value, and
// the observer keeps working on the records that follow.
func TestAPayloadThatDoesNotParseIsCountedWithoutValues(t *testing.T) {
	src := loadEngine(t).Source(github)
	o, err := drift.Open(drift.Config{FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	good := drifted(t, func(is map[string]any) { is["state"] = "archived" })
	res := src.Map(good)
	for range 3 {
		o.Observe(nil, src, []byte(`{"issue":`), &res, 0)
	}
	observe(o, src, good)
	r, _ := o.Report(github)
	e, ok := entryOf(r, drift.KindNewEnumValue, "issue.state")
	if !ok || e.Count != 4 || e.ValuesTotal != 1 {
		t.Fatalf("entry %+v; want 4 counted, 1 value read", e)
	}
}

// TestTalliesCountEveryRecordAtFlush observes records through one Tally a
// goroutine, as the worker's mapping goroutines do: the records and their
// drift show when each Tally flushes, and the report ends the same as the
// shared Observe gives for the same records.
func TestTalliesCountEveryRecordAtFlush(t *testing.T) {
	eng := loadEngine(t)
	src := eng.Source(github)
	older := fixture(t, "issues.opened.older-release.payload.json")
	enum := drifted(t, func(is map[string]any) { is["state"] = "archived" })
	clean := fixture(t, "issues.opened.payload.json")
	payloads := [][]byte{older, enum, clean}
	const goroutines, each, batch = 4, 300, 50

	shared, err := drift.Open(drift.Config{FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	batched, err := drift.Open(drift.Config{FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			tl := batched.NewTally()
			for i := range each {
				p := payloads[(g+i)%len(payloads)]
				res := src.Map(p)
				shared.Observe(nil, src, p, &res, 0)
				tl.Observe(nil, src, p, &res, 0)
				if i%batch == batch-1 {
					tl.Flush()
				}
			}
			tl.Flush()
		})
	}
	wg.Wait()
	// One record observed and not flushed yet: neither its drift nor its
	// count is there.
	before, _ := batched.Report(github)
	tl := batched.NewTally()
	res := src.Map(older)
	tl.Observe(nil, src, older, &res, 0)
	r, _ := batched.Report(github)
	if a, b := countOf(r, drift.KindAbsentRequired, "issue.reactions"), countOf(before, drift.KindAbsentRequired, "issue.reactions"); a != b {
		t.Errorf("the drift of a record not flushed yet is in the report: %d, was %d", a, b)
	}
	if r.Records != goroutines*each {
		t.Errorf("before the last flush: %d records, want %d (the one not flushed left out)", r.Records, goroutines*each)
	}
	tl.Flush()
	r, _ = batched.Report(github)
	if a, b := countOf(r, drift.KindAbsentRequired, "issue.reactions"), countOf(before, drift.KindAbsentRequired, "issue.reactions"); a != b+1 {
		t.Errorf("after the flush: issue.reactions counted %d, was %d; want one more", a, b)
	}
	shared.Observe(nil, src, older, &res, 0)
	for _, o := range []*drift.Observer{shared, batched} {
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := shared.Report(github)
	got, _ := batched.Report(github)
	if got.Records != goroutines*each+1 || got.Records != want.Records {
		t.Errorf("records %d through tallies, %d through Observe; want %d", got.Records, want.Records, goroutines*each+1)
	}
	for _, k := range []drift.Kind{drift.KindAbsentRequired, drift.KindNewEnumValue} {
		for _, e := range want.Of(k) {
			if g, ok := entryOf(got, k, e.Path); !ok || g.Count != e.Count {
				t.Errorf("%s at %s: %d through tallies, %d through Observe", k, e.Path, g.Count, e.Count)
			}
		}
	}
}

// TestATallyAfterClose: records a Tally took before the Observer closed
// reach the reports in memory at its Flush (the file Close wrote stays as
// it was); records observed after Close are not taken.
func TestATallyAfterClose(t *testing.T) {
	src := loadEngine(t).Source(github)
	dir := t.TempDir()
	o, err := drift.Open(drift.Config{Dir: dir, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	older := fixture(t, "issues.opened.older-release.payload.json")
	res := src.Map(older)
	tl := o.NewTally()
	tl.Observe(nil, src, older, &res, 0)
	tl.Flush()
	tl.Observe(nil, src, older, &res, 0)
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	tl.Observe(nil, src, older, &res, 0)
	tl.Flush()
	tl.Observe(nil, src, older, &res, 0)
	tl.Flush()
	tests := []struct {
		name  string
		read  func() (drift.Report, error)
		count uint64
	}{
		{"in memory: the records taken before Close", func() (drift.Report, error) { r, _ := o.Report(github); return r, nil }, 2},
		{"in the file: the records flushed before Close", func() (drift.Report, error) { return drift.ReadFile(dir, github) }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.read()
			if err != nil {
				t.Fatal(err)
			}
			if got := countOf(r, drift.KindAbsentRequired, "issue.reactions"); r.Records != tc.count || got != tc.count {
				t.Errorf("%d records, issue.reactions absent in %d; want %d and %d", r.Records, got, tc.count, tc.count)
			}
		})
	}
}

package privacytest

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/drift"
)

// noticeOf sends a Sentry notice for each new drift, as mapper run does.
type noticeOf struct{ al *alerts.Alerter }

func (n noticeOf) NewDrift(source string, version int, e drift.Entry) {
	n.al.Notify(alerts.Notice{Kind: alerts.NoticeDrift + string(e.Kind), Source: source, RulesVersion: version, Field: e.Path,
		Message: source + ": " + string(e.Kind) + " at " + e.Path, Warning: true,
		Detail: map[string]any{"kind": string(e.Kind), "path": e.Path, "count": e.Count, "share": e.Share, "detail": drift.Detail(e)}})
}

// TestDriftRecordsNoValueAtARedactedPath is the property for drift
// reports: with an input schema that puts an enum at every redacted path
// (so that drifted values there are new enum values), no marker under a
// redacted path reaches a report, in memory, in its file or as JSON,
// whatever the payload's shape; values at other paths are recorded. The
// records are observed one by one (Observe) in even cases and through a
// Tally, as the worker does, in odd ones.
func TestDriftRecordsNoValueAtARedactedPath(t *testing.T) {
	eng, err := mapper.Load(filepath.Join("testdata", "rules"), filepath.Join("testdata", "driftschemas"), mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("orders")
	n := 400
	if testing.Short() {
		n = 60
	}
	r := rand.New(rand.NewPCG(17, 2026))
	redactedEnums := 0
	sink := newSentrySink(t)
	for i := range n {
		m := marker(r)
		payload := (&payloadGen{r: r, marker: m}).payload()
		probe := []byte(m[:8])
		dir := t.TempDir()
		al, err := alerts.New(alerts.Config{DSN: sink.dsn})
		if err != nil {
			t.Fatal(err)
		}
		o, err := drift.Open(drift.Config{Dir: dir, FlushInterval: time.Hour, Announcer: noticeOf{al}})
		if err != nil {
			t.Fatal(err)
		}
		observe, flush := o.Observe, func() {}
		if i%2 == 1 {
			tl := o.NewTally()
			observe, flush = tl.Observe, tl.Flush
		}
		res := src.Map(payload)
		for _, f := range res.Failures {
			if f.Reason == mapper.ReasonUnknownEnum && src.IsRedacted(f.Field) {
				redactedEnums++
			}
		}
		observe(nil, src, payload, &res, 0)
		// Then a payload whose state is a new enum value: values at
		// paths no rule redacts are recorded.
		control := []byte(`{"order_id":"O-1","customer":{"email":"ok@example.org"},"state":"LOST"}`)
		cres := src.Map(control)
		observe(nil, src, control, &cres, 0)
		flush()
		rep, _ := o.Report("orders")
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
		if err := al.Close(); err != nil {
			t.Fatal(err)
		}
		envelopes := sink.take()
		if len(envelopes) == 0 {
			t.Fatalf("case %d: no Sentry event for new drift", i)
		}
		for _, env := range envelopes {
			if bytes.Contains(env, probe) {
				t.Fatalf("case %d: marker %s leaked into a drift Sentry event\npayload: %s\n%s", i, probe, payload, env)
			}
		}
		js, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		file, err := os.ReadFile(filepath.Join(dir, drift.Path("orders")))
		if err != nil {
			t.Fatal(err)
		}
		for where, b := range map[string][]byte{"the report": js, "the report file": file} {
			if bytes.Contains(b, probe) {
				t.Fatalf("case %d: marker %s leaked into %s\npayload: %s\n%s", i, probe, where, payload, b)
			}
		}
		for _, e := range rep.Of(drift.KindNewEnumValue) {
			if src.IsRedacted(e.Path) && (len(e.Values) > 0 || e.ValuesTotal > 0) {
				t.Fatalf("case %d: values recorded at redacted %s: %+v\npayload: %s", i, e.Path, e.Values, payload)
			}
		}
		if !bytes.Contains(js, []byte(`\"LOST\"`)) {
			t.Fatalf("case %d: the control value at state was not recorded: %s", i, js)
		}
	}
	if redactedEnums == 0 {
		t.Fatal("no payload had an unknown enum value at a redacted path: the property was not exercised")
	}
	t.Logf("%d payloads, %d unknown enum values at redacted paths", n, redactedEnums)
}

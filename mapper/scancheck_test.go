package mapper

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// scanCheckSources are every source with schemas the tests know: the
// shipped rules and the test rules.
func scanCheckSources(tb testing.TB) []*Source {
	tb.Helper()
	var out []*Source
	for _, dir := range [][2]string{
		{"../rules", "../schemas"},
		{"testdata/rules", "testdata/schemas"},
		{"testdata/numbers/rules", "testdata/numbers/schemas"},
	} {
		eng, err := Load(dir[0], dir[1], Options{MaxDepth: 16})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, eng.Sources()...)
	}
	return out
}

// scanCheckDisagreement checks payload against every schema of s twice, with
// the strict scan's checks and with the walk over the parsed value, and
// describes any difference: the scan may say "checked" only when the walk
// finds nothing, and (for payloads without escapes, which the scan leaves
// to the walk) must say it whenever the walk finds nothing.
func scanCheckDisagreement(s *Source, payload []byte) string {
	var m Mapper
	for _, sc := range []*schema{s.plan.input, s.plan.output} {
		if sc == nil {
			continue
		}
		clean, checked := m.scan.cleanChecked(payload, s.opts.MaxDepth, sc.check)
		if !clean {
			if checked {
				return "checked but not clean"
			}
			continue
		}
		doc, err := m.parser.ParseBytes(payload)
		if err != nil {
			return "clean but not parsed: " + err.Error()
		}
		var walk collect
		sc.check.check(doc, &m.walk, &walk, false)
		switch {
		case checked && len(walk.got) > 0:
			return fmt.Sprintf("%s: the scan passed what the walk fails: %s", sc.name, walk.set())
		case !checked && len(walk.got) == 0 && !bytes.ContainsRune(payload, '\\'):
			return fmt.Sprintf("%s: the scan doubted what the walk passes", sc.name)
		}
		if sc != s.plan.input {
			continue
		}
		// Reporting, the scan either doubts or reports what the walk
		// finds: each (reason, field) once, with the walk's first detail,
		// and where the field is as positionOf has it.
		m.scan.report = true
		_, checked = m.scan.cleanChecked(payload, s.opts.MaxDepth, sc.check)
		m.scan.report = false
		if !checked {
			continue
		}
		var wd detailed
		sc.check.check(doc, &m.walk, &wd, false)
		var sd detailed
		for _, f := range m.scan.fails {
			sd.fail(f.reason, f.field, f.detail)
			if at := positionOf(doc, f.field); f.posOK && at.cmp(&f.pos) != 0 {
				return fmt.Sprintf("%s: the scan put %s at %v, positionOf at %v", sc.name, f.field, f.pos, at)
			}
		}
		if got, want := sd.String(), wd.String(); got != want {
			return fmt.Sprintf("%s: the scan reported %s, the walk found %s", sc.name, got, want)
		}
	}
	return ""
}

// detailed collects failures as Mapper.fail keeps them: each reason and
// field once, with its first detail.
type detailed struct{ got []string }

func (d *detailed) fail(r Reason, field, detail string) {
	key := string(r) + "@" + field + ": "
	for _, g := range d.got {
		if strings.HasPrefix(g, key) {
			return
		}
	}
	d.got = append(d.got, key+detail)
}

func (d *detailed) String() string {
	out := slices.Clone(d.got)
	slices.Sort(out)
	return strings.Join(out, "; ")
}

func scanCheckSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	for _, dir := range []string{"orders", "github-work-items"} {
		out = append(out, fixturePayloads(tb, filepath.Join("../fixtures", dir))...)
	}
	for _, p := range numberPayloads {
		out = append(out, []byte(p))
	}
	// Mapped orders, clean and broken in each way the output schema
	// checks, so that each check of the scan is seen to fail.
	const order = `{"id":"ORD-1","email":"a@b.example","total_cents":22459,"currency":"USD","status":"PAID","created_at":"2024-05-01T12:00:00Z","item_count":2}`
	out = append(out, []byte(order))
	for _, edit := range [][2]string{
		{`"status":"PAID"`, `"status":{}`},
		{`"status":"PAID"`, `"status":["PAID"]`},
		{`"status":"PAID"`, `"status":"PAYED"`},
		{`"status":"PAID"`, `"status":"P\u0041ID"`},
		{`"status":"PAID"`, `"status":null`},
		{`"item_count":2`, `"item_count":0`},
		{`"item_count":2`, `"item_count":1.5`},
		{`"item_count":2`, `"item_count":2.0`},
		{`"item_count":2`, `"item_count":"2"`},
		{`"total_cents":22459`, `"total_cents":1e2`},
		{`"currency":"USD"`, `"currency":"usd"`},
		{`"email":"a@b.example"`, `"email":"ab"`},
		{`"email":"a@b.example"`, `"email":"äb"`},
		{`"id":"ORD-1"`, `"id":""`},
		{`"created_at":"2024-05-01T12:00:00Z"`, `"created_at":"2024-13-45T99:00:00Z"`},
		{`,"item_count":2`, ``},
		{`"item_count":2`, `"item_count":2,"extra":true`},
	} {
		out = append(out, []byte(strings.Replace(order, edit[0], edit[1], 1)))
	}
	return out
}

func TestScanChecksDecideAsTheWalk(t *testing.T) {
	sources := recordedSources(t)
	seeds := append(scanCheckSeeds(t), driftedPayloads(t)...)
	if len(seeds) < 100 {
		t.Fatalf("only %d seed payloads", len(seeds))
	}
	checkedSome := false
	for _, s := range sources {
		var m Mapper
		var res Result
		for _, p := range seeds {
			if d := scanCheckDisagreement(s, p); d != "" {
				t.Fatalf("%s: %s on %.300s", s.Name(), d, p)
			}
			// The mapped record is what the output schema's checks read.
			m.Map(s, p, &res)
			if d := scanCheckDisagreement(s, res.Output); d != "" {
				t.Fatalf("%s: %s on the output %s", s.Name(), d, res.Output)
			}
			if s.plan.input != nil {
				_, ok := m.scan.cleanChecked(p, s.opts.MaxDepth, s.plan.input.check)
				checkedSome = checkedSome || ok
			}
		}
	}
	if !checkedSome {
		t.Fatal("the scan's checks passed no payload: the fast path is never taken")
	}
	// Reporting, the scan decides most drifted payloads itself.
	reported := 0
	for _, s := range sources {
		if s.plan.input == nil {
			continue
		}
		var m Mapper
		for _, p := range seeds {
			m.scan.report = true
			if _, ok := m.scan.cleanChecked(p, s.opts.MaxDepth, s.plan.input.check); ok && len(m.scan.fails) > 0 {
				reported++
			}
			m.scan.report = false
		}
	}
	if reported < 500 {
		t.Errorf("the scan reported the failures of only %d payloads", reported)
	}
}

// The scan's checks decide every payload as the walk does (see
// scanCheckDisagreement), for the input and output schemas of every source.
func FuzzScanChecksDecideAsTheWalk(f *testing.F) {
	sources := recordedSources(f)
	for i, p := range append(scanCheckSeeds(f), driftedPayloads(f)...) {
		if i%4 == 0 {
			f.Add(p)
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, s := range sources {
			if d := scanCheckDisagreement(s, payload); d != "" {
				t.Fatalf("%s: %s", s.Name(), d)
			}
		}
	})
}

// formatOK hands the format checks the string as a plain string.
func TestFormatOKPassesTheString(t *testing.T) {
	var s strictScan
	for _, tc := range []struct {
		format, value string
		want          bool
	}{
		{"date-time", "2024-05-01T12:00:00Z", true},
		{"date-time", "2024-13-45T99:00:00Z", false},
		{"date-time", "yesterday", false},
		{"uri", "https://api.github.com/repos/o/r", true},
		{"uri", "not a uri", false},
		{"email", "a@b.example", true},
		{"email", "nobody", false},
	} {
		f := jsonschema.Formats[tc.format]
		if got := s.formatOK(f, []byte(tc.value)); got != tc.want || got != f(tc.value) {
			t.Errorf("formatOK(%s, %q) = %v, want %v", tc.format, tc.value, got, tc.want)
		}
		if s.formatArg != "" {
			t.Errorf("formatOK(%s, %q) kept the string", tc.format, tc.value)
		}
	}
}

// A required key is found among as many keys as the scan compares one by
// one, and among those past them (which it looks up in its table).
func TestScanFindsRequiredKeysAroundTheLinearLimit(t *testing.T) {
	for n := linearKeys - 1; n <= linearKeys+2; n++ {
		for _, tc := range []struct {
			required []string
			want     bool
		}{
			{[]string{"k0", "k" + strconv.Itoa(n-1)}, true},
			{[]string{"k" + strconv.Itoa(n/2)}, true},
			{[]string{"k0", "k" + strconv.Itoa(n)}, false},
		} {
			req, _ := json.Marshal(tc.required)
			js, err := jsonschema.CompileString("required.json", `{"type":"object","required":`+string(req)+`}`)
			if err != nil {
				t.Fatal(err)
			}
			root, covered, _ := deriveChecks(js)
			if !covered {
				t.Fatal("the checks do not cover the schema")
			}
			var s strictScan
			clean, checked := s.cleanChecked([]byte(manyKeys(n, "", "")), 16, root)
			if !clean || checked != tc.want {
				t.Errorf("%d keys, required %v: clean %v, checked %v, want checked %v", n, tc.required, clean, checked, tc.want)
			}
		}
	}
}

// A failure at the path of a huge key is reported, but the room its path
// took is not kept for the next record.
func TestFaultKeepsNoHugePath(t *testing.T) {
	strict := strictSource(t)
	key := strings.Repeat("k", 3*maxKeptField)
	payload := []byte(`{"id":"S-1","buyer":{"email":"a@b.c","tier":"t"},"lines":[],"total":"1.00","` + key + `":1}`)
	var m Mapper
	var res Result
	m.Map(strict, payload, &res)
	if len(res.Failures) != 1 || res.Failures[0].Field != key || res.Failures[0].Reason != ReasonUnexpectedField {
		t.Fatalf("failures %v, want one unexpected_field at the huge key", res.Failures)
	}
	if c := cap(m.scan.field); c > maxKeptField {
		t.Errorf("kept %d bytes of room for paths, want at most %d", c, maxKeptField)
	}
	// A small path is written in the room kept.
	m.Map(strict, []byte(`{"id":"S-1","buyer":{"email":"a@b.c","tier":"t"},"lines":[],"total":"1.00","x":1}`), &res)
	if len(res.Failures) != 1 || res.Failures[0].Field != "x" || cap(m.scan.field) == 0 {
		t.Errorf("failures %+v, room %d", res.Failures, cap(m.scan.field))
	}
}

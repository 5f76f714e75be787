package mapper

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

type collect struct{ got []string }

func (c *collect) fail(r Reason, field, _ string) { c.got = append(c.got, string(r)+"@"+field) }

func (c *collect) set() string {
	seen := map[string]bool{}
	var out []string
	for _, g := range c.got {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// checkAgreement runs the compiled checks and the reference validator over
// one payload and reports where they classify it differently.
func checkAgreement(t *testing.T, s *Source, payload []byte) {
	t.Helper()
	in := s.plan.input
	if in == nil || !in.covered {
		return
	}
	var m Mapper
	doc, _ := m.parse(s, payload)
	if doc == nil {
		return
	}
	var fast, full collect
	in.check.check(doc, &m.walk, &fast, false)
	in.fullPass(&m.full, doc, &full, false)
	if fast.set() != full.set() {
		t.Errorf("compiled checks and jsonschema/v5 disagree on %.200s\ncompiled: %s\nfull:     %s", payload, fast.set(), full.set())
	}
}

func fixturePayloads(t testing.TB, dir string) [][]byte {
	var out [][]byte
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		switch {
		case strings.HasSuffix(f, ".json"):
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		case strings.HasSuffix(f, ".jsonl"):
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(fh)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				out = append(out, append([]byte(nil), sc.Bytes()...))
			}
			fh.Close()
		}
	}
	return out
}

func TestCompiledChecksAgreeWithJSONSchema(t *testing.T) {
	eng, err := Load("../rules", "../schemas", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range eng.Sources() {
		if !s.plan.input.covered {
			t.Errorf("%s: input schema uses keywords the compiled checks do not cover", s.Name())
		}
		payloads := fixturePayloads(t, filepath.Join("../fixtures", s.Name()))
		if len(payloads) == 0 {
			t.Fatalf("%s: no fixtures", s.Name())
		}
		for _, p := range payloads {
			checkAgreement(t, s, p)
		}
	}
}

// FuzzMap proves that no payload makes the engine panic, that every result
// is well formed, and that the compiled checks agree with jsonschema/v5.
func FuzzMap(f *testing.F) {
	eng, err := Load("../rules", "../schemas", Options{MaxDepth: 16})
	if err != nil {
		f.Fatal(err)
	}
	test, err := Load("testdata/rules", "testdata/schemas", Options{MaxDepth: 16})
	if err != nil {
		f.Fatal(err)
	}
	numbers, err := Load("testdata/numbers/rules", "testdata/numbers/schemas", Options{MaxDepth: 16})
	if err != nil {
		f.Fatal(err)
	}
	sources := append(append(eng.Sources(), test.Sources()...), numbers.Sources()...)
	for _, p := range numberPayloads {
		f.Add([]byte(p))
	}
	// Seeds: the small order payloads (every defect kind among them); the
	// large GitHub payloads are covered by the agreement test above.
	for i, p := range fixturePayloads(f, "../fixtures/orders") {
		if i%5 == 0 || i >= 300 {
			f.Add(p)
		}
	}
	f.Add([]byte(`{"ref":"S-1","customer":{"email":" A@B.C "},"lines":[{"sku":"x","qty":"2"}],"placed":1e3}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, s := range sources {
			res := s.Map(payload)
			switch res.Outcome {
			case OutcomeMapped:
				if len(res.Failures) != 0 {
					t.Fatalf("mapped with failures: %v", res.Failures)
				}
			case OutcomeDegraded, OutcomeRejected:
				if len(res.Failures) == 0 {
					t.Fatalf("%s without failures", res.Outcome)
				}
			default:
				t.Fatalf("outcome %q", res.Outcome)
			}
			for _, fl := range res.Failures {
				// A field names no index ("items[].sku"), unless the payload
				// has a key that looks like one ({"[0": 1}).
				if !fl.Reason.Valid() || strings.Contains(fl.Field, "[0") && !strings.Contains(string(payload), `"[0`) {
					t.Fatalf("bad failure %+v", fl)
				}
			}
			if !json.Valid(res.Output) || !json.Valid(res.AppendJSON(nil)) {
				t.Fatalf("invalid JSON out: %s", res.AppendJSON(nil))
			}
			if red := s.Redact(payload); len(s.RedactPaths()) > 0 && len(payload) > 0 && len(red) == 0 {
				t.Fatalf("redact lost the payload")
			}
			checkAgreement(t, s, payload)
			// The same payload gets the same result, failures in the same
			// order, whatever path the validation took.
			if again := s.Map(payload); string(again.AppendJSON(nil)) != string(res.AppendJSON(nil)) {
				t.Fatalf("two results for one payload:\n%s\n%s", res.AppendJSON(nil), again.AppendJSON(nil))
			}
		}
		for _, event := range []string{"issues", "push"} {
			src, res := eng.Route("github.webhooks", []Header{{Key: "X-GitHub-Event", Value: []byte(event)}}, payload)
			if (src == nil) != (event == "push") || (src == nil && (len(res.Failures) != 1 || res.Failures[0].Reason != ReasonUnknownSource)) {
				t.Fatalf("route of a %s event: %v %+v", event, src, res)
			}
		}
	})
}

// numberPayloads are numbers float64 cannot tell apart from the schema's
// enum, const and bounds, and their exact neighbours.
var numberPayloads = []string{
	`{"rate":0.1}`, `{"rate":0.1000000000000000001}`, `{"rate":0.10}`, `{"rate":1e-1}`, `{"rate":0.09999999999999999999}`,
	`{"rate":12345678901234567890}`, `{"rate":12345678901234567891}`, `{"rate":1.2345678901234567890e19}`, `{"rate":100.0}`,
	`{"version":1.1}`, `{"version":1.1000000000000000001}`, `{"version":11e-1}`,
	`{"count":1.0}`, `{"count":1e3}`, `{"count":1.0000000000000001}`, `{"count":-0.0}`,
	`{"price":0.1}`, `{"price":0.09999999999999999999}`, `{"price":0.105}`, `{"price":100000000000000000000.99}`,
	`{"price":100000000000000000001}`, `{"price":100000000000000000000.999}`,
	`{"ratio":0}`, `{"ratio":1e-400}`, `{"ratio":1.0000000000000000001}`, `{"ratio":1}`,
}

// The compiled checks classify number enums, consts, integers, bounds and
// multipleOf exactly as jsonschema/v5 does, where float64 cannot.
func TestCompiledChecksAgreeOnNumbers(t *testing.T) {
	eng, err := Load("testdata/numbers/rules", "testdata/numbers/schemas", Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := eng.Source("numbers")
	if !s.plan.input.covered {
		t.Fatal("the numbers schema uses keywords the compiled checks do not cover")
	}
	for _, p := range numberPayloads {
		checkAgreement(t, s, []byte(p))
	}
	res := s.Map([]byte(`{"rate":0.1000000000000000001}`))
	if len(res.Failures) != 1 || res.Failures[0].Category().String() != "unknown_enum:rate" {
		t.Errorf("rate 0.1000000000000000001 against enum [0.1, …]: %+v, want unknown_enum:rate", res.Failures)
	}
}

func TestFixturesCoverEveryReason(t *testing.T) {
	eng, err := Load("../rules", "../schemas", Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Reason]int{}
	for _, s := range eng.Sources() {
		for _, p := range fixturePayloads(t, filepath.Join("../fixtures", s.Name())) {
			res := s.Map(p)
			kinds := map[Reason]bool{}
			for _, f := range res.Failures {
				kinds[f.Reason] = true
			}
			for r := range kinds {
				seen[r]++
			}
		}
	}
	for _, r := range Reasons() {
		if r == ReasonUnknownSource {
			continue
		}
		if seen[r] < 2 {
			t.Errorf("reason %s appears in %d fixture records, want at least 2", r, seen[r])
		}
	}
}

var hugeExponent = regexp.MustCompile(`[eE][+-]?0*[1-9][0-9]{3,}`)

// FuzzNumbersAgree mutates numbers against a schema of number enums,
// consts, bounds and multipleOf: the compiled checks and jsonschema/v5
// must classify every payload the same way.
func FuzzNumbersAgree(f *testing.F) {
	eng, err := Load("testdata/numbers/rules", "testdata/numbers/schemas", Options{MaxDepth: 16})
	if err != nil {
		f.Fatal(err)
	}
	s := eng.Source("numbers")
	for _, p := range numberPayloads {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if hugeExponent.Match(payload) {
			// jsonschema/v5 builds the exact value of an exponent (1e999999999
			// takes it minutes); the compiled checks never do.
			return
		}
		checkAgreement(t, s, payload)
	})
}

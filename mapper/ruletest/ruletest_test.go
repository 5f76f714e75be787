package ruletest_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/ruletest"
)

var update = flag.Bool("update", false, "update golden files")

func shopEngine(t *testing.T) *mapper.Engine {
	t.Helper()
	eng, err := mapper.Load("testdata/rules", "testdata/schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// writeTest writes a test file (and any payload files) into a temporary
// directory and returns the test file's path.
func writeTest(t *testing.T, body string, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range extra {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "shop.test.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runOne(t *testing.T, body string) ruletest.CaseResult {
	t.Helper()
	s, err := ruletest.ParseFile(writeTest(t, body, nil))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ruletest.Run(context.Background(), shopEngine(t), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 {
		t.Fatalf("%d results, want 1", len(rep.Results))
	}
	return rep.Results[0]
}

func TestCaseVerdicts(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		pass     bool
		diffHas  []string // lines the diff must hold when failing
		diffNone []string // text the diff must not hold
	}{
		{"exact output and outcome pass", `cases:
  - name: c
    payload: { id: A, amount: "12.30", currency: EUR, status: paid, tags: [{ name: x }] }
    outcome: mapped
    output: { id: "A", total: 1230, currency: "EUR", status: "PAID", tags: ["x"] }
`, true, nil, nil},
		{"numbers compare by value, not spelling", `cases:
  - name: c
    payload: { id: A, amount: "12.30", currency: EUR }
    outcome: mapped
    output_subset: { total: 1.23e3 }
`, true, nil, nil},
		{"a different number fails with a diff", `cases:
  - name: c
    payload: { id: A, amount: "12.30", currency: EUR }
    outcome: mapped
    output_subset: { total: 1231 }
`, false, []string{`-  "total": 1231`, `+  "total": 1230`}, nil},
		{"a subset ignores keys it does not name", `cases:
  - name: c
    payload: { id: A, amount: "1", currency: EUR, status: open }
    outcome: mapped
    output_subset: { status: "OPEN" }
`, true, nil, nil},
		{"an exact output fails on an extra key", `cases:
  - name: c
    payload: { id: A, amount: "1", currency: EUR, status: open }
    outcome: mapped
    output: { id: "A", total: 100, currency: "EUR" }
`, false, []string{`+  "status": "OPEN"`}, nil},
		{"failures compare as a set of categories", `cases:
  - name: c
    payload: { amount: "1", status: refunded }
    outcome: rejected
    failures:
      - { reason: unknown_enum, field: status }
      - { reason: defaulted, field: currency }
      - { reason: missing_field, field: id }
`, true, nil, nil},
		{"a missing expected failure fails", `cases:
  - name: c
    payload: { amount: "1", status: refunded }
    outcome: rejected
    failures:
      - { reason: missing_field, field: id }
`, false, []string{"+failure: defaulted:currency", "+failure: unknown_enum:status"}, nil},
		{"a detail is compared only where given", `cases:
  - name: c
    payload: { id: A, amount: "1" }
    outcome: degraded
    failures:
      - { reason: defaulted, field: currency, detail: "something else" }
`, false, []string{"-failure: defaulted:currency: something else", "+failure: defaulted:currency: absent or null; default used"}, nil},
		{"a wrong outcome fails", `cases:
  - name: c
    payload: { id: A, amount: "1", currency: EUR }
    outcome: degraded
`, false, []string{"-outcome: degraded", "+outcome: mapped"}, nil},
		{"a case with no expectation fails and shows everything it gives", `cases:
  - name: c
    payload: { id: A, amount: "1", currency: EUR }
`, false, []string{"+outcome: mapped", `+  "total": 100`}, nil},
		{"a !!str tag makes a string of a number", `cases:
  - name: c
    payload: { id: !!str 42, amount: "1", currency: EUR }
    outcome: mapped
    output_subset: { id: "42" }
`, true, nil, nil},
		{"a string payload is sent as is", `cases:
  - name: c
    payload: '{"id":"A","id":"B"}'
    outcome: rejected
    failures: [{ reason: malformed_payload, field: "" }]
`, true, nil, nil},
		{"a topic routes through the engine", `cases:
  - name: c
    topic: shop.orders
    payload: { id: A, amount: "1", currency: EUR }
    outcome: mapped
`, true, nil, nil},
		{"a topic no source claims is unknown_source", `cases:
  - name: c
    topic: elsewhere
    payload: { id: A, amount: "1", currency: EUR }
    outcome: mapped
`, false, []string{"-source: shop", "+source: unrouted", "+failure: unknown_source"}, nil},
		{"a redacted value stays out of the diff", `cases:
  - name: c
    payload: { id: A, amount: "1", currency: EUR, email: secret@example.org }
    outcome: rejected
`, false, []string{"+outcome: mapped"}, []string{"secret@example.org"}},
		{"delete and set drift a payload", `cases:
  - name: c
    payload: { id: A, amount: "1", currency: EUR, status: paid }
    delete: [currency]
    set: { status: 7 }
    outcome: rejected
    failures:
      - { reason: defaulted, field: currency }
      - { reason: unknown_enum, field: status }
`, true, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runOne(t, tt.body)
			if r.Pass != tt.pass {
				t.Fatalf("pass = %v, want %v; diff:\n%s", r.Pass, tt.pass, r.Diff)
			}
			if tt.pass && r.Diff != "" {
				t.Errorf("a passing case has a diff:\n%s", r.Diff)
			}
			for _, want := range tt.diffHas {
				if !strings.Contains(r.Diff, want) {
					t.Errorf("diff lacks %q:\n%s", want, r.Diff)
				}
			}
			for _, bad := range tt.diffNone {
				if strings.Contains(r.Diff, bad) {
					t.Errorf("diff holds %q:\n%s", bad, r.Diff)
				}
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		extra map[string]string
		want  string // a problem, after the file name
	}{
		{"unknown case key with a suggestion", "cases:\n  - name: c\n    payload: {}\n    outcom: mapped\n",
			nil, `:4:5: unknown key "outcom" in a case (did you mean "outcome"?)`},
		{"unknown top-level key", "cases: []\nsourse: shop\n", nil, `:2:1: unknown key "sourse" (did you mean "source"?)`},
		{"unknown outcome", "cases:\n  - name: c\n    payload: {}\n    outcome: mappd\n",
			nil, `:4:14: outcome: "mappd" is not one of mapped, degraded, rejected (did you mean "mapped"?)`},
		{"unknown reason code", "cases:\n  - name: c\n    payload: {}\n    failures: [{ reason: missing, field: a }]\n",
			nil, `:4:26: failures.reason: unknown reason code "missing"`},
		{"a failure listed twice", "cases:\n  - name: c\n    payload: {}\n    failures:\n      - { reason: missing_field, field: a }\n      - { reason: missing_field, field: a }\n",
			nil, `:6:9: failure missing_field:a is listed twice`},
		{"no payload", "cases:\n  - name: c\n    outcome: mapped\n", nil, `:2:5: case "c": needs payload or payload_file`},
		{"two payloads", "cases:\n  - name: c\n    payload: {}\n    payload_file: p.json\n", map[string]string{"p.json": "{}"},
			`:4:19: case "c": give payload or payload_file, not both`},
		{"a source without a topic", "cases:\n  - name: c\n    payload: {}\n    source: x\n", nil, `:4:13: case "c": source names where topic routes the record; give topic too`},
		{"a missing payload file", "cases:\n  - name: c\n    payload_file: nope.json\n", nil, `:3:19: payload_file "nope.json": no such file (paths are relative to the test file's directory)`},
		{"a payload line past the end", "cases:\n  - name: c\n    payload_file: p.jsonl\n    payload_line: 3\n",
			map[string]string{"p.jsonl": "{}\n{}\n"}, `:4:19: payload_line 3: "p.jsonl" has 2 lines`},
		{"a duplicate case name", "cases:\n  - name: c\n    payload: {}\n  - name: c\n    payload: {}\n", nil, `:4:5: case "c" is already defined at line 2`},
		{"both output forms", "cases:\n  - name: c\n    payload: {}\n    output: {}\n    output_subset: {}\n", nil,
			`case "c": give output or output_subset, not both`},
		{"headers that are not strings", "cases:\n  - name: c\n    payload: {}\n    headers: { a: [b] }\n", nil, `:4:19: headers.a: expected a string, got a list`},
		{"aliases are refused", "cases:\n  - name: c\n    payload: { a: &x [1], b: *x }\n", nil, `:3:30: payload: aliases are not supported`},
		{"a number JSON cannot carry", "cases:\n  - name: c\n    payload: { a: 0x1F }\n", nil, `:3:19: payload: number 0x1F is not written as JSON writes numbers`},
		{"deleting what is not there", "cases:\n  - name: c\n    payload: { a: 1 }\n    delete: [b.c]\n", nil, `:4:14: case "c": no b in the payload`},
		{"setting under a scalar", "cases:\n  - name: c\n    payload: { a: 1 }\n    set: { a.b: 2 }\n", nil, `:4:12: case "c": the parent of a.b is not an object or an array`},
		{"a case without a name", "cases:\n  - payload: {}\n", nil, `:2:5: a case needs a name`},
		{"invalid YAML", "cases:\n  - name: [c\n", nil, `invalid YAML`},
		{"no cases", "source: shop\n", nil, `:1:1: missing required key "cases"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTest(t, tt.body, tt.extra)
			_, err := ruletest.ParseFile(path)
			var le *mapper.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *mapper.LoadError", err)
			}
			if !strings.Contains(le.Error(), path+tt.want) && !strings.Contains(le.Error(), tt.want) {
				t.Fatalf("problems:\n%s\nwant %q", le.Error(), tt.want)
			}
			if strings.HasPrefix(tt.want, ":") && !strings.Contains(le.Error(), path+tt.want) {
				t.Fatalf("problems:\n%s\nwant %q", le.Error(), path+tt.want)
			}
		})
	}
}

func TestHostileTestFiles(t *testing.T) {
	deep := "cases:\n  - name: c\n    payload: " + strings.Repeat("[", 300) + strings.Repeat("]", 300) + "\n"
	many := "cases:\n" + strings.Repeat("  - { name: x, payload: {} }\n", 2) // names clash: refused, not run
	var b strings.Builder
	b.WriteString("cases:\n")
	for i := 0; i <= ruletest.MaxCases; i++ {
		b.WriteString("  - { name: \"c")
		b.WriteString(strings.Repeat("x", 0))
		b.WriteString(itoa(i))
		b.WriteString("\", payload: {} }\n")
	}
	tests := []struct {
		name, body, want string
	}{
		{"nesting past the bound is a problem, not a crash", deep, "nested deeper than 200 levels"},
		{"clashing names are refused", many, "is already defined"},
		{"more cases than the bound", b.String(), "over the limit of 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ruletest.ParseFile(writeTest(t, tt.body, nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("a file over the size bound is not read", func(t *testing.T) {
		path := writeTest(t, "", nil)
		if err := os.Truncate(path, ruletest.MaxFileBytes+1); err != nil {
			t.Fatal(err)
		}
		_, err := ruletest.ParseFile(path)
		if err == nil || !strings.Contains(err.Error(), "over the limit") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a huge exponent compares as text, at no cost", func(t *testing.T) {
		r := runOne(t, "cases:\n  - name: c\n    payload: { id: A, amount: \"1\", currency: EUR }\n    outcome: mapped\n    output_subset: { total: 1e999999999 }\n")
		if r.Pass {
			t.Fatal("1e999999999 passed as 100")
		}
	})
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}

// Update rewrites failing cases in place and leaves everything else as it
// was; the golden file is the rewritten test file.
func TestUpdate(t *testing.T) {
	src, err := os.ReadFile("testdata/update/shop.test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := writeTest(t, string(src), nil)
	eng := shopEngine(t)
	s, err := ruletest.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ruletest.Run(context.Background(), eng, s)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() == 0 {
		t.Fatal("the input file should have failing cases")
	}
	out, names, err := ruletest.Update(rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != rep.Failed() {
		t.Errorf("rewrote %v, want %d cases", names, rep.Failed())
	}
	golden := "testdata/update/shop.test.yaml.golden"
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if string(out) != string(want) {
		t.Errorf("updated file differs from %s (go test -update rewrites it):\n%s", golden, out)
	}
	// The rewritten file passes.
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	s2, err := ruletest.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rep2, err := ruletest.Run(context.Background(), eng, s2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep2.Results {
		if !r.Pass {
			t.Errorf("after update, %q still fails:\n%s", r.Case.Name, r.Diff)
		}
	}
	// Passing cases and comments are kept byte for byte.
	for _, keep := range []string{"# a comment the update keeps", "  - name: passes already\n    # its own comment\n"} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("update lost %q", keep)
		}
	}
}

func TestUpdateRefusesFlowStyleCases(t *testing.T) {
	path := writeTest(t, "cases:\n  - { name: c, payload: { id: A, amount: \"1\" }, outcome: rejected }\n", nil)
	s, err := ruletest.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ruletest.Run(context.Background(), shopEngine(t), s)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ruletest.Update(rep); err == nil || !strings.Contains(err.Error(), "flow style") {
		t.Fatalf("err = %v, want a flow-style refusal", err)
	}
}

func TestRunNamesAMissingSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nothing.test.yaml")
	if err := os.WriteFile(path, []byte("cases:\n  - { name: c, payload: {} }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := ruletest.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ruletest.Run(context.Background(), shopEngine(t), s); err == nil || !strings.Contains(err.Error(), "no rule file nothing.yaml") {
		t.Fatalf("err = %v", err)
	}
}

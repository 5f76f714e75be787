package suggest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper/ruletest"
)

func TestCopiedRuleTestsKeepTheirPayloadFiles(t *testing.T) {
	dir := t.TempDir()
	rules, fixtures, out := filepath.Join(dir, "rules"), filepath.Join(dir, "fixtures"), filepath.Join(dir, "work", "proposed", "rules")
	for _, d := range []string{rules, fixtures, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(fixtures, "one.json"), []byte(`{"id":"A1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	file := `# a comment kept
cases:
  - name: from a file
    payload_file: ../fixtures/one.json   # relative to rules/
    outcome: mapped
  - { name: inline, payload: {id: B2}, outcome: mapped }
`
	got, err := RebaseTestFile([]byte(file), rules, out)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(file, "../fixtures/one.json", "../../../fixtures/one.json", 1)
	if string(got) != want {
		t.Fatalf("rebased file:\n%s\nwant:\n%s", got, want)
	}
	p := filepath.Join(out, "shop.test.yaml")
	if err := os.WriteFile(p, got, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := ruletest.ParseFile(p)
	if err != nil {
		t.Fatalf("the copy does not read its payload file: %v", err)
	}
	if string(s.Cases[0].Payload) != `{"id":"A1"}` {
		t.Errorf("payload %s", s.Cases[0].Payload)
	}
}

func TestGeneratedCasesHoldThePayloadBytesExactly(t *testing.T) {
	payloads := []string{
		`{"note":"it's \"quoted\""}`,
		"{\"note\":\"line\u2028sep\u2029para\ufefftail\"}",
		`{"note":"tab\tand\\back","n":1e3}`,
		"{\"note\":\"\u00e9\u20ac\U0001F600\"}",
	}
	var cases []TestCase
	for i, p := range payloads {
		cases = append(cases, TestCase{Name: "case " + string(rune('a'+i)), Payload: []byte(p), Outcome: "mapped"})
	}
	text, err := AppendTestCases(nil, cases)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ruletest.Parse("x.test.yaml", text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	for i, c := range s.Cases {
		if string(c.Payload) != payloads[i] {
			t.Errorf("case %d: payload %q, want %q", i, c.Payload, payloads[i])
		}
	}
	// Appended to an existing file, after its last case.
	more, err := AppendTestCases(text, cases[:1])
	if err != nil {
		t.Fatal(err)
	}
	if s, err = ruletest.Parse("x.test.yaml", more); err != nil || len(s.Cases) != len(payloads)+1 {
		t.Fatalf("appended file: %v\n%s", err, more)
	}
}

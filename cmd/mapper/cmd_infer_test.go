package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

func TestInferOverTheGitHubFixtures(t *testing.T) {
	files, err := filepath.Glob("../../fixtures/github-work-items/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	rules := filepath.Join(t.TempDir(), "starter.yaml")
	args := append([]string{"infer", "--title", "GitHub work items", "--rules-out", rules, "--source", "github"}, files...)
	code, out, errOut := runMapperCLI(t, nil, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if want := fmt.Sprintf("schema of %d payloads from %d files", len(files), len(files)); !strings.Contains(errOut, want) {
		t.Errorf("stderr: %s", errOut)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat = true
	if err := c.AddResource("inferred.json", strings.NewReader(out)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("inferred.json")
	if err != nil {
		t.Fatalf("printed schema does not compile: %v", err)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var v any
		json.Unmarshal(b, &v)
		if err := s.Validate(v); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
	starter, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(starter, []byte(`"action": { from: "action"`)) || !bytes.Contains(starter, []byte("source: github")) {
		t.Errorf("starter rules:\n%s", starter)
	}
	t.Run("the starter file is never overwritten", func(t *testing.T) {
		code, _, errOut := runMapperCLI(t, nil, append([]string{"infer", "--rules-out", rules}, files[0])...)
		if code != exitFailure || !strings.Contains(errOut, "exists") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("lines that are not objects are skipped and said", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "mixed.jsonl")
		os.WriteFile(p, []byte("{\"a\":1}\nnot json\n[1]\n{\"a\":null}\n"), 0o600)
		code, out, errOut := runMapperCLI(t, nil, "infer", p)
		if code != exitOK || !strings.Contains(errOut, "mixed.jsonl:2: skipped") || !strings.Contains(errOut, "mixed.jsonl:3: skipped") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(out, `"null",`) || !strings.Contains(out, `"integer"`) {
			t.Errorf("schema lacks the nullable integer:\n%s", out)
		}
	})
}

func TestInferFromSamples(t *testing.T) {
	dir := importOrders(t)
	code, out, errOut := runMapperCLI(t, nil, "infer", "--samples", dir, "--source", "orders")
	if code != exitOK || !strings.Contains(errOut, "samples of orders from") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"order_id", "status", "customer", "items", "amount"} {
		if _, ok := s.Properties[k]; !ok {
			t.Errorf("no property %s in the schema inferred from samples", k)
		}
	}
	// The masked email is not taken for real addresses' values.
	if strings.Contains(out, "@Example.COM") {
		t.Error("a redacted value reached the schema")
	}
}

// TestInferGeneralises: three charges give no one-value enum, and the
// property only ever null gets no type and a note.
func TestInferGeneralises(t *testing.T) {
	p := filepath.Join(t.TempDir(), "charges.jsonl")
	lines := `{"id":"ch_1","currency":"usd","refunds":null}
{"id":"ch_2","currency":"usd","refunds":null}
{"id":"ch_3","currency":"usd","refunds":null}
`
	if err := os.WriteFile(p, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runMapperCLI(t, nil, "infer", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if e, ok := s.Properties["currency"]["enum"]; ok {
		t.Errorf("currency got an enum %v from three records", e)
	}
	if _, ok := s.Properties["refunds"]["type"]; ok {
		t.Errorf("refunds typed %v though only null was seen", s.Properties["refunds"])
	}
	if !strings.Contains(errOut, "note: 1 properties were only ever null and have no type (their description says so): refunds") {
		t.Errorf("stderr lacks the note: %s", errOut)
	}
	// A JPY charge validates against the inferred schema.
	c := jsonschema.NewCompiler()
	if err := c.AddResource("s.json", strings.NewReader(out)); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("s.json")
	if err != nil {
		t.Fatal(err)
	}
	var jpy any
	json.Unmarshal([]byte(`{"id":"ch_4","currency":"jpy","refunds":{"data":[]}}`), &jpy)
	if err := sch.Validate(jpy); err != nil {
		t.Errorf("a JPY charge with refunds is rejected: %v", err)
	}
}

func TestInferAgainst(t *testing.T) {
	dir := t.TempDir()
	schema := filepath.Join(dir, "orders.input.json")
	orig, err := os.ReadFile("../../mapper/infer/testdata/against/orders.input.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(schema, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := range 30 {
		lines = append(lines, fmt.Sprintf(`{"order_id":"O-%d","customer":{"email":"a@b.example"},"items":[{"sku":"S","qty":1,"price":"1.00"}],"amount":"1.00","currency":%q,"status":"paid","created":"2024-05-01T12:00:00Z","shipping":null}`,
			i, []string{"EUR", "JPY"}[i%2]))
	}
	capture := filepath.Join(dir, "capture.jsonl")
	os.WriteFile(capture, []byte(strings.Join(lines, "\n")+"\n"), 0o600)

	code, out, errOut := runMapperCLI(t, nil, "infer", "--against", schema, capture)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "1 change to "+schema+" from 30 payloads:\n  currency: enum gains \"JPY\" 15 times\n") {
		t.Errorf("stderr: %s", errOut)
	}
	// One line differs: JPY joins the enum, one per line like the others.
	if want := strings.Replace(string(orig), "        \"USD\"\n", "        \"USD\",\n        \"JPY\"\n", 1); out != want {
		t.Errorf("merged schema:\n%s", out)
	}
	t.Run("--write replaces the file and a second run changes nothing", func(t *testing.T) {
		if code, _, errOut := runMapperCLI(t, nil, "infer", "--against", schema, "--write", capture); code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		b, _ := os.ReadFile(schema)
		if string(b) != out {
			t.Fatalf("written file differs from the printed one:\n%s", b)
		}
		code, again, errOut := runMapperCLI(t, nil, "infer", "--against", schema, capture)
		if code != exitOK || again != out || !strings.Contains(errOut, "no change") {
			t.Fatalf("exit %d, stderr %s", code, errOut)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"infer", "--write", capture},
			{"infer", "--against", schema, "--rules-out", filepath.Join(dir, "r.yaml"), capture},
		} {
			if code, _, _ := runMapperCLI(t, nil, args...); code != exitUsage {
				t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
			}
		}
		bad := filepath.Join(dir, "bad.json")
		os.WriteFile(bad, []byte(`{"type": `), 0o600)
		if code, _, errOut := runMapperCLI(t, nil, "infer", "--against", bad, capture); code != exitFailure || !strings.Contains(errOut, "bad.json") {
			t.Errorf("a broken schema: exit %d: %s", code, errOut)
		}
	})
}

// TestInferFromSamplesSkipsMalformedOriginals: masking may turn a
// malformed payload into JSON; infer does not learn from it.
func TestInferFromSamplesSkipsMalformedOriginals(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "samples")
	capture := filepath.Join(t.TempDir(), "mixed.jsonl")
	good := `{"order_id":"G-1","customer":{"email":"a@b.example","name":"Ann"},"items":[{"sku":"S","qty":1,"price":"1.00"}],"amount":"1.00","currency":"EUR","status":"paid","created":"2024-05-01T12:00:00Z"}`
	bad := strings.Replace(good, `"Ann"`, "\"Ann\x01\"", 1)
	escaped := strings.Replace(good, `"Ann"`, `"Ann\q"`, 1)
	os.WriteFile(capture, []byte(good+"\n"+bad+"\n"+escaped+"\n"), 0o600)
	args := append([]string{"samples", "add", "--samples", dir, "--source", "orders"}, ordersArgs("orders-v1")...)
	if code, out, errOut := runMapperCLI(t, nil, append(args, capture)...); code != exitOK {
		t.Fatalf("samples add: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut := runMapperCLI(t, nil, "infer", "--samples", dir, "--source", "orders")
	if code != exitOK || !strings.Contains(errOut, "mapper infer: 1 samples of orders from") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

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

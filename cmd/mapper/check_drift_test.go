package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyShipped copies the shipped rules and schemas into a temporary
// directory and returns the two directories.
func copyShipped(t *testing.T) (rules, schemas string) {
	t.Helper()
	dir := t.TempDir()
	rules, schemas = filepath.Join(dir, "rules"), filepath.Join(dir, "schemas")
	for src, dst := range map[string]string{"../../rules": rules, "../../schemas": schemas} {
		if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	return rules, schemas
}

func TestCheckRefusesASchemaRefOutsideTheSchemasDirectory(t *testing.T) {
	rules, schemas := copyShipped(t)
	secret := filepath.Join(filepath.Dir(schemas), "secret.json")
	if err := os.WriteFile(secret, []byte(`{"enum":["TOP-SECRET"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(schemas, "orders.input.json")
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), `"currency": {`, `"currency": { "$ref": "../secret.json",`, 1)
	if edited == string(b) {
		t.Fatal("orders.input.json no longer has a currency property")
	}
	if err := os.WriteFile(in, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "", "check", "--rules", rules, "--schemas", schemas)
	out := stdout + stderr
	if code != exitFailure || !strings.Contains(out, `orders.input.json:`) ||
		!strings.Contains(out, `$ref "../secret.json" at /properties/currency/$ref points outside the schemas directory`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if strings.Contains(out, "TOP-SECRET") {
		t.Errorf("the file outside was read:\n%s", out)
	}
}

func TestCheckRefusesAHugeRuleFile(t *testing.T) {
	rules, schemas := copyShipped(t)
	huge := filepath.Join(rules, "huge.yaml")
	if err := os.WriteFile(huge, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 50<<20); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "", "check", "--rules", rules, "--schemas", schemas)
	if out := stdout + stderr; code != exitFailure || !strings.Contains(out, "huge.yaml: the file is 52428800 bytes, over the limit of 4194304") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, stdout, stderr = runCLI(t, "", "check", "--rules", rules, "--schemas", schemas, "--max-rule-file-bytes", "1000")
	if out := stdout + stderr; code != exitFailure || !strings.Contains(out, "orders.yaml: the file is") {
		t.Fatalf("with a smaller cap, exit %d:\n%s", code, out)
	}
}

func TestSamplesShowSuggestsAReasonCode(t *testing.T) {
	code, _, stderr := runCLI(t, "", "samples", "show", "--samples", t.TempDir(), "--source", "orders", "--category", "missing_feild:customer.email")
	if code != exitUsage || !strings.Contains(stderr, `unknown reason "missing_feild" (did you mean "missing_field"?)`) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

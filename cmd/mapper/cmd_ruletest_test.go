package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRuleTestShippedRulesPass(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "test", "--rules", "../../rules", "--schemas", "../../schemas")
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	golden(t, "testdata/ruletest/shipped.golden", stdout+stderr)
}

// copyProject copies the shipped rules, schemas and fixtures (the tests'
// payload files are ../fixtures/… relative to the rules) into a temporary
// directory and returns it.
func copyProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"rules", "schemas", "fixtures"} {
		if err := os.CopyFS(filepath.Join(dir, d), os.DirFS(filepath.Join("../..", d))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// An edited expectation fails with a readable diff; --update writes the
// current result back, which here restores the file byte for byte.
func TestRuleTestEditedExpectationFailsAndUpdateRewritesIt(t *testing.T) {
	dir := copyProject(t)
	rules, schemas := filepath.Join(dir, "rules"), filepath.Join(dir, "schemas")
	file := filepath.Join(rules, "orders.test.yaml")
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(orig), "      - { reason: unknown_enum, field: status }\n", "      - { reason: unknown_enum, field: state }\n", 1)
	edited = strings.Replace(edited, "      total_cents: 30\n", "      total_cents: 3000\n", 1)
	if edited == string(orig) {
		t.Fatal("the edits did not apply: the shipped test file changed")
	}
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, "", "test", "--rules", rules, "--schemas", schemas)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d: %s%s", code, exitFailure, stdout, stderr)
	}
	golden(t, "testdata/ruletest/edited.golden", strings.ReplaceAll(stdout+stderr, dir, "$DIR"))

	code, stdout, stderr = runCLI(t, "", "test", "--rules", rules, "--schemas", schemas, "--update")
	if code != exitOK {
		t.Fatalf("--update: exit %d: %s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, `rewrote 2 case(s): "amounts are exact and Unix milliseconds become RFC 3339", "an unknown status is rejected"`) {
		t.Errorf("--update output:\n%s", stdout)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(orig) {
		t.Errorf("--update did not restore the file:\n%s", got)
	}
	if code, stdout, stderr := runCLI(t, "", "test", "--rules", rules, "--schemas", schemas); code != exitOK {
		t.Fatalf("after --update: exit %d: %s%s", code, stdout, stderr)
	}
}

func TestRuleTestProblems(t *testing.T) {
	dir := copyProject(t)
	rules, schemas := filepath.Join(dir, "rules"), filepath.Join(dir, "schemas")
	bad := filepath.Join(rules, "orders.test.yaml")
	if err := os.WriteFile(bad, []byte("cases:\n  - name: c\n    payload: {}\n    outcome: mapd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "", "test", "--rules", rules, "--schemas", schemas)
	want := bad + `:4:14: outcome: "mapd" is not one of mapped, degraded, rejected (did you mean "mapped"?)`
	if code != exitFailure || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, stderr:\n%s\nwant %q (stdout %s)", code, stderr, want, stdout)
	}
}

// A test file that cannot be read fails the run, and the summary says how
// many files and problems kept their cases from running.
func TestRuleTestCountsUnreadableFiles(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "test", "--rules", "testdata/broken-tests", "--schemas", "../../schemas")
	if code != exitFailure {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	for _, want := range []string{"FAIL  testdata/broken-tests/orders.test.yaml  could not be read",
		"1 file(s), 0 case(s), 0 failed; 1 file(s) could not be read (2 problem(s)), so their cases did not run"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, `orders.test.yaml:5:5: unknown key "outcom" in a case (did you mean "outcome"?)`) {
		t.Errorf("stderr lacks the problem with its position:\n%s", stderr)
	}
}

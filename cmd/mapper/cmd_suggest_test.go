package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// importOrders keeps samples and value profiles of the orders capture
// (orders-2000.jsonl, made by the benchmark workload's generator) with
// the shipped orders rules, through mapper samples add.
func importOrders(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "samples")
	args := append([]string{"samples", "add", "--samples", dir, "--source", "orders"}, ordersArgs("orders-v1")...)
	code, out, errOut := runMapperCLI(t, nil, append(args, filepath.Join(replayTestdata, "orders-2000.jsonl"))...)
	if code != exitOK {
		t.Fatalf("samples add: exit %d\n%s%s", code, out, errOut)
	}
	return dir
}

func TestSuggestOnTheOrdersWorkload(t *testing.T) {
	dir := importOrders(t)
	out := filepath.Join(t.TempDir(), "candidate")
	args := append([]string{"suggest", "--samples", dir, "--source", "orders", "--out", out}, ordersArgs("orders-v1")...)
	code, stdout, stderr := runMapperCLI(t, nil, args...)
	if code != exitOK {
		t.Fatalf("suggest: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		// The unknown statuses, each proposed.
		`on-hold → `, `unknown → `, `PAID_OUT → `, `Chargeback → `,
		// A layout for each timestamp form a layout can parse.
		`"2006-01-02 15:04:05"`, `"02/01/2006 15:04"`,
		`"2024-05-01 12:00:00" ×`, `"21/11/2024 10:00" ×`,
		`not fixed by a rule edit: `, `"yesterday" ×`,
		// The replay verdict of the candidate.
		"orders  unknown_enum:status", "none newly failing", "objective 0.950",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("suggest output lacks %q", want)
		}
	}
	// Every unknown_enum:status sample maps now, and the layouts fix the
	// samples in the two parseable forms.
	for _, l := range strings.Split(stdout, "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && f[0] == "orders" && f[1] == "unknown_enum:status" && f[2] != f[3] {
			t.Errorf("not every status sample now mapped: %s", l)
		}
		if len(f) > 4 && f[0] == "orders" && f[1] == "invalid_format:created" && f[3] == "0" {
			t.Errorf("no timestamp sample now mapped: %s", l)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", stdout)
	}
	// mapper check takes the candidate as it is.
	code, checkOut, checkErr := runMapperCLI(t, nil, "check", "--rules", out, "--schemas", filepath.Join(replayTestdata, "orders-schemas"))
	if code != exitOK || !strings.Contains(checkOut, "version 2") {
		t.Errorf("check of the candidate: exit %d\n%s%s", code, checkOut, checkErr)
	}
	// The rules it started from are untouched.
	orig, _ := os.ReadFile(filepath.Join(replayTestdata, "orders-v1", "orders.yaml"))
	if strings.Contains(string(orig), "on-hold") {
		t.Error("suggest edited the rules in place")
	}

	t.Run("refuses to write into the rules or a used directory", func(t *testing.T) {
		for _, o := range []string{filepath.Join(replayTestdata, "orders-v1"), out} {
			args := append([]string{"suggest", "--samples", dir, "--source", "orders", "--out", o}, ordersArgs("orders-v1")...)
			if code, _, errOut := runMapperCLI(t, nil, args...); code != exitFailure || !strings.Contains(errOut, "--out") {
				t.Errorf("--out %s: exit %d: %s", o, code, errOut)
			}
		}
	})
}

// TestSuggestSaysWhenTheInputSchemaAlsoConstrains: GitHub's input schema
// lists issue.state's values too, so a new enum entry in the rules alone
// fixes nothing, and suggest says where else to change it.
func TestSuggestSaysWhenTheInputSchemaAlsoConstrains(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "samples")
	fx := "../../fixtures/github-work-items/issues.handmade.jsonl"
	if code, out, errOut := runMapperCLI(t, nil, "samples", "add", "--samples", dir, "--source", "github-work-items", "--rules", "../../rules", "--schemas", "../../schemas", fx); code != exitOK {
		t.Fatalf("samples add: exit %d\n%s%s", code, out, errOut)
	}
	out := filepath.Join(t.TempDir(), "candidate")
	code, stdout, stderr := runMapperCLI(t, nil, "suggest", "--samples", dir, "--source", "github-work-items", "--out", out, "--rules", "../../rules", "--schemas", "../../schemas")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{`"triaged" ×`, "(PLACEHOLDER)", "input schema also constrains issue.state"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

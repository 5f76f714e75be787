package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
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
	// mapper check takes the candidate as it is, as suggest prints it.
	if !strings.Contains(stdout, "check it with `mapper check --rules "+filepath.Join(out, "rules")+" --schemas "+filepath.Join(out, "schemas")+"`") {
		t.Errorf("suggest does not print how to check the candidate:\n%s", stdout)
	}
	code, checkOut, checkErr := runMapperCLI(t, nil, "check", "--rules", filepath.Join(out, "rules"), "--schemas", filepath.Join(out, "schemas"))
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

// TestSuggestAddsTheEnumValueToTheInputSchemaToo: GitHub's input schema
// lists issue.state's values too, so a new enum entry in the rules alone
// would be a dead key (a check error) and fix nothing; the candidate carries
// the schema edit, and loads, checks and replays as suggest prints it.
func TestSuggestAddsTheEnumValueToTheInputSchemaToo(t *testing.T) {
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
	candRules, candSchemas := filepath.Join(out, "rules"), filepath.Join(out, "schemas")
	for _, want := range []string{`"triaged" ×`, "(PLACEHOLDER)",
		`input schema github-work-item.input.json#/definitions/issue/properties/state enum: add ["triaged"]`,
		"and " + filepath.Join(candSchemas, "github-work-item.input.json"),
		"check it with `mapper check --rules " + candRules + " --schemas " + candSchemas + "`",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "also constrains") {
		t.Errorf("suggest still says the schema must be changed by hand:\n%s", stdout)
	}
	for _, l := range strings.Split(stdout, "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[1] == "unknown_enum:issue.state" && (f[2] != "1" || f[3] != "1") {
			t.Errorf("the triaged sample is not now mapped: %s", l)
		}
	}

	// The schema edits add the value to the enum and the property the
	// records carry unknown to the contract (issue.type, contract_property),
	// and change nothing else.
	orig, err := os.ReadFile("../../schemas/github-work-item.input.json")
	if err != nil {
		t.Fatal(err)
	}
	cand, err := os.ReadFile(filepath.Join(candSchemas, "github-work-item.input.json"))
	if err != nil {
		t.Fatal(err)
	}
	var o, c map[string]any
	if err := json.Unmarshal(orig, &o); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(cand, &c); err != nil {
		t.Fatalf("the candidate schema is not JSON: %v", err)
	}
	st := o["definitions"].(map[string]any)["issue"].(map[string]any)["properties"].(map[string]any)["state"].(map[string]any)
	st["enum"] = append(st["enum"].([]any), "triaged")
	added, ok := c["definitions"].(map[string]any)["issue"].(map[string]any)["properties"].(map[string]any)["type"]
	if !ok {
		t.Errorf("the candidate schema lacks the property issue.type the records carry")
	}
	o["definitions"].(map[string]any)["issue"].(map[string]any)["properties"].(map[string]any)["type"] = added
	if !reflect.DeepEqual(o, c) {
		t.Errorf("the candidate schema differs from the original by more than the new enum value and issue.type:\n%s", cand)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"check takes the candidate as printed", []string{"check", "--rules", candRules, "--schemas", candSchemas}, exitOK, "github-work-items  version 3"},
		{"the candidate rules against the old schemas have a dead enum key", []string{"check", "--rules", candRules, "--schemas", "../../schemas"}, exitFailure,
			`enum key "triaged" can never match: the input schema allows pull_request.state only "open", "closed"; issue.state only "open", "closed"`},
		{"replay takes the candidate as printed", []string{"replay", "--samples", dir, "--rules", candRules, "--schemas", candSchemas}, exitOK, "none newly failing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runMapperCLI(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("exit %d (want %d), want %q in:\n%s%s", code, tc.code, tc.want, stdout, stderr)
			}
		})
	}
}

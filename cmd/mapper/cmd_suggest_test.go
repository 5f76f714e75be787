package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
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

// TestSuggestProjectsAContractEditOnADegradedCategory: a property the
// contract types only "null" arrives as an object in ~100 orders, some of
// which fail other ways too. suggest widens its type, and the projection
// it prints for the category agrees with the replay of the samples: the
// records delivered degraded before count as now mapped when the candidate
// maps them clean of the category, as the replay table counts them.
func TestSuggestProjectsAContractEditOnADegradedCategory(t *testing.T) {
	rules, schemas := shippedCopy(t)
	var contract map[string]any
	sp := filepath.Join(schemas, "orders.input.json")
	b, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &contract); err != nil {
		t.Fatal(err)
	}
	contract["properties"].(map[string]any)["shipping"] = map[string]any{"type": "null"}
	if b, err = json.MarshalIndent(contract, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// The orders fixtures' first 100 lines, every one carrying a shipping
	// object; some fail in other ways too (the fixtures' defects).
	fx, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "orders", "generated.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i, l := range strings.SplitN(string(fx), "\n", 101)[:100] {
		var d map[string]any
		if json.Unmarshal([]byte(l), &d) == nil {
			d["shipping"] = map[string]any{"method": "pickup", "tracking": fmt.Sprintf("TRK%06d", i), "eta_days": i % 7}
			nb, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			l = string(nb)
		}
		lines = append(lines, l)
	}
	capture := filepath.Join(t.TempDir(), "orders.jsonl")
	if err := os.WriteFile(capture, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^\d+\. contract_property  type_mismatch:shipping  \((\d+) records\)\n.*\n   projected: ((\d+)(?: \[(\d+)-(\d+)\])?) of (\d+) records now mapped \(replayed: (\d+) of (\d+) samples\)$`)
	for _, tc := range []struct {
		name  string
		keep  []string
		exact bool
	}{
		{"samples kept by the reservoir: projected onto the records seen", nil, false},
		{"every record kept: the projection is the replay's count", []string{"--samples-per-category", "1000"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dirs := []string{"--rules", rules, "--schemas", schemas}
			samplesDir := filepath.Join(t.TempDir(), "samples")
			args := append(append([]string{"samples", "add", "--samples", samplesDir, "--source", "orders"}, tc.keep...), dirs...)
			if code, out, errOut := runMapperCLI(t, nil, append(args, capture)...); code != exitOK {
				t.Fatalf("samples add: exit %d\n%s%s", code, out, errOut)
			}
			cand := filepath.Join(t.TempDir(), "candidate")
			code, out, errOut := runMapperCLI(t, nil, append([]string{"suggest", "--samples", samplesDir, "--source", "orders", "--out", cand}, dirs...)...)
			if code != exitOK {
				t.Fatalf("suggest: exit %d\n%s%s", code, out, errOut)
			}
			m := line.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no contract_property line with a projection for type_mismatch:shipping:\n%s", out)
			}
			n := func(s string) float64 {
				f, _ := strconv.ParseFloat(s, 64)
				return f
			}
			records, text, count, seen, k, samplesN := n(m[1]), m[2], n(m[3]), n(m[6]), n(m[7]), n(m[8])
			lo, hi := count, count
			if m[4] != "" {
				lo, hi = n(m[4]), n(m[5])
			}
			if records < 90 || seen != records {
				t.Errorf("the category counts %v records, the projection %v; want about 100", records, seen)
			}
			if k == 0 || count == 0 {
				t.Fatalf("projected %s of %v, replayed %v of %v samples now mapped; want both above 0:\n%s", text, seen, k, samplesN, out)
			}
			if want := seen * k / samplesN; math.Abs(count-want) > 0.5 || lo > count || count > hi {
				t.Errorf("projected %s of %v records; the replay's %v of %v samples make %.1f", text, seen, k, samplesN, want)
			}
			if tc.exact && (samplesN != seen || count != k || lo != hi) {
				t.Errorf("every record kept: projected %s, want exactly %v (replayed %v of %v)", text, k, k, samplesN)
			}
			// The replay table says the same.
			row := regexp.MustCompile(`(?m)^orders\s+type_mismatch:shipping\s+(\d+)\s+(\d+)\s+.*\s` + regexp.QuoteMeta(text) + `\s+-$`).FindStringSubmatch(out)
			if row == nil || n(row[1]) != samplesN || n(row[2]) != k {
				t.Errorf("the replay table's row disagrees with %q (replayed %v of %v):\n%s", text, k, samplesN, out)
			}
			got, err := os.ReadFile(filepath.Join(cand, "schemas", "orders.input.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), `"type": ["null", "object"]`) {
				t.Errorf("the candidate's contract does not widen shipping to null and object:\n%s", got)
			}
		})
	}
}

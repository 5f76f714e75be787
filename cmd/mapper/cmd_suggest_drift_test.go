package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aymanbagabas/go-udiff"

	"github.com/mapperhq/mapper/mapper/suggest"
)

// driftGitHubFeed writes a drifted copy of the shipped GitHub fixtures as
// one JSON-lines capture: every issues and pull_request webhook, with
// drift laid over some of them the way GitHub's feed drifts: html_url
// moved to another parent (pull_request._links.html.href, which the real
// payloads carry already), html_url turned from a string into an object
// ({"href": …}), properties added (issue.type, issue.sub_issues_summary,
// pull_request.auto_merge_method), nulls (issue.assignees), and the real
// older-release payloads, which lack required fields no rule reads.
func driftGitHubFeed(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "fixtures", "github-work-items")
	var files []string
	for _, pat := range []string{"issues.*.payload.json", "pull_request.*.payload.json"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	var lines []string
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(f, "older-release") {
			pr, _ := d["pull_request"].(map[string]any)
			is, _ := d["issue"].(map[string]any)
			if pr != nil && i%2 == 0 {
				delete(pr, "html_url")
			}
			if is != nil && i%3 == 0 {
				is["html_url"] = map[string]any{"href": is["html_url"]}
			}
			if is != nil && i%4 == 1 {
				is["type"] = map[string]any{"id": 1, "name": "Bug"}
				is["sub_issues_summary"] = map[string]any{"total": 0}
			}
			if pr != nil && i%4 == 1 {
				pr["auto_merge_method"] = "squash"
			}
			if is != nil && i%5 == 2 {
				is["assignees"] = nil
			}
		}
		line, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(line))
	}
	p := filepath.Join(t.TempDir(), "drifted.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// shippedCopy copies the shipped rules and schemas to a temporary project
// beside the fixtures' relative paths (DIR/rules, DIR/schemas).
func shippedCopy(t *testing.T) (rules, schemas string) {
	t.Helper()
	dir := t.TempDir()
	rules, schemas = filepath.Join(dir, "rules"), filepath.Join(dir, "schemas")
	for _, d := range [][2]string{{filepath.Join("..", "..", "rules"), rules}, {filepath.Join("..", "..", "schemas"), schemas}} {
		if err := os.CopyFS(d[1], os.DirFS(d[0])); err != nil {
			t.Fatal(err)
		}
	}
	// The shipped tests name payload files relative to the repository's
	// rules directory: point them there, as a project of its own would.
	for _, f := range []string{"github-work-items.test.yaml", "orders.test.yaml"} {
		p := filepath.Join(rules, f)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		abs, _ := filepath.Abs(filepath.Join("..", "..", "fixtures"))
		b = []byte(strings.ReplaceAll(string(b), "../fixtures/", abs+"/"))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return rules, schemas
}

// TestSuggestFixesEveryCategoryOfADriftedGitHubFeed: suggest proposes an
// edit for every failing category of the drifted feed or says why none
// fixes it; the candidate checks, its generated tests pass with it and
// fail with the old rules, and the exact replay of the capture maps
// records now with none newly failing.
func TestSuggestFixesEveryCategoryOfADriftedGitHubFeed(t *testing.T) {
	rules, schemas := shippedCopy(t)
	capture := driftGitHubFeed(t)
	samplesDir := filepath.Join(t.TempDir(), "samples")
	dirs := []string{"--rules", rules, "--schemas", schemas}
	code, out, errOut := runMapperCLI(t, nil, append([]string{"samples", "add", "--samples", samplesDir, "--source", "github-work-items",
		"--header", "X-GitHub-Event=issues", "--samples-per-category", "1000", "--samples-clean", "1000"}, append(dirs, capture)...)...)
	if code != exitOK {
		t.Fatalf("samples add: exit %d\n%s%s", code, out, errOut)
	}
	cats := regexp.MustCompile(`(?m)^([a-z_]+(?::[a-z_.\[\]]+)?)\s+\d+\s+\d+\s+\d+$`).FindAllStringSubmatch(out, -1)
	cand := filepath.Join(t.TempDir(), "candidate")
	code, out, errOut = runMapperCLI(t, nil, append([]string{"suggest", "--samples", samplesDir, "--source", "github-work-items", "--out", cand,
		"--header", "X-GitHub-Event=issues"}, append(dirs, "--input", capture)...)...)
	if code != exitOK {
		t.Fatalf("suggest: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("suggest:\n%s", out)
	if len(cats) < 8 {
		t.Fatalf("the drifted feed gave only %d categories: %q", len(cats), cats)
	}
	for _, c := range cats {
		if c[1] == "clean" {
			continue
		}
		if !regexp.MustCompile(`(?m)^\d+\. [a-z_]+  ` + regexp.QuoteMeta(c[1]) + `  \(`).MatchString(out) {
			t.Errorf("no edit and no no_fix line for %s", c[1])
		}
	}
	for _, kind := range []string{"moved_field  missing_field:pull_request.html_url", "id_or_object  type_mismatch:issue.html_url",
		"contract_property  unexpected_field:issue.type", "contract_optional  missing_field:issue.reactions",
		"nullable  null_field:issue.assignees", "no_fix  missing_field:issue.state"} {
		if !strings.Contains(out, kind) {
			t.Errorf("suggest output lacks %q", kind)
		}
	}
	// The moved value is read from where it now lives, verified against the
	// records that carry both.
	if !strings.Contains(out, "read from [pull_request.html_url, pull_request._links.html.href, issue.html_url]") {
		t.Error("the moved html_url is not read from pull_request._links.html.href")
	}
	exact := out[strings.Index(out, "exact replay of"):]
	m := regexp.MustCompile(`ok: 57 records, (\d+) now mapped, none newly failing`).FindStringSubmatch(exact)
	if m == nil || m[1] == "0" {
		t.Errorf("exact replay: want records now mapped and none newly failing:\n%s", exact)
	}
	// --header reaches both rule sets: the baseline accepts the records too.
	if strings.Contains(exact, "unknown_source") || !strings.Contains(exact, "missing_field:pull_request.html_url              13      0      13") {
		t.Errorf("exact replay: the baseline did not map the records with the headers:\n%s", exact)
	}

	candRules, candSchemas := filepath.Join(cand, "rules"), filepath.Join(cand, "schemas")
	// Only the edited lines and the version line differ; the list of edits
	// and no_fix is beside the candidate.
	diff := candidateDiff(t,
		[3]string{"rules/github-work-items.yaml", filepath.Join(rules, "github-work-items.yaml"), filepath.Join(candRules, "github-work-items.yaml")},
		[3]string{"schemas/github-work-item.input.json", filepath.Join(schemas, "github-work-item.input.json"), filepath.Join(candSchemas, "github-work-item.input.json")})
	golden(t, filepath.Join("testdata", "suggest", "github-drift.diff"), diff)
	summaryBeside(t, cand, out, diff)
	// run and demo try the candidate's rules with its own schemas.
	if sch, ok := candidateSchemas(candRules); !ok || sch != candSchemas {
		t.Errorf("candidateSchemas(%s) = %s, %v; want %s", candRules, sch, ok, candSchemas)
	}
	if _, ok := candidateSchemas(filepath.Join(cand, "other")); ok {
		t.Error("a directory not named rules takes schemas beside it")
	}
	if code, o, e := runMapperCLI(t, nil, "check", "--rules", candRules, "--schemas", candSchemas); code != exitOK {
		t.Errorf("check of the candidate: exit %d\n%s%s", code, o, e)
	}
	// mapper test takes the candidate's schemas from beside its rules.
	code, o, e := runMapperCLI(t, nil, "test", "--rules", candRules)
	if code != exitOK || !strings.Contains(o, " 0 failed") {
		t.Errorf("the candidate's tests with the candidate: exit %d\n%s%s", code, o, e)
	}
	// With the old rules and schemas, every generated case fails.
	gen := regexp.MustCompile(`(?m)^  (v3 fixes [^\n]+?) → `).FindAllStringSubmatch(out, -1)
	if len(gen) < 6 {
		t.Fatalf("only %d generated tests", len(gen))
	}
	old := filepath.Join(t.TempDir(), "old")
	if err := os.CopyFS(old, os.DirFS(rules)); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(candRules, "github-work-items.test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, "github-work-items.test.yaml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	code, o, _ = runMapperCLI(t, nil, "test", "--rules", old, "--schemas", schemas, "--run", "^v3 fixes ")
	if code != exitFailure {
		t.Errorf("the generated tests pass with the old rules:\n%s", o)
	}
	for _, g := range gen {
		if !strings.Contains(o, "FAIL: ") || !strings.Contains(o, g[1]) {
			t.Errorf("generated case %q does not fail with the old rules", g[1])
		}
	}
}

// summaryBeside checks that the candidate's diff adds no comment line (a
// REVIEW stays on its edited line) and that DIR/SUGGESTIONS.txt lists
// every suggestion suggest printed, no_fix included.
func summaryBeside(t *testing.T, cand, out, diff string) {
	t.Helper()
	for _, l := range strings.Split(diff, "\n") {
		if strings.HasPrefix(l, "+#") || strings.HasPrefix(l, "-#") {
			t.Errorf("the candidate's diff changes a comment line: %s", l)
		}
	}
	summary, err := os.ReadFile(filepath.Join(cand, suggest.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	items := regexp.MustCompile(`(?m)^\d+\. [a-z_]+  \S+  \(\d+ records\)$`).FindAllString(out, -1)
	if len(items) == 0 {
		t.Fatalf("suggest printed no suggestion:\n%s", out)
	}
	for _, it := range items {
		if !strings.Contains(string(summary), it) {
			t.Errorf("%s lacks %q", suggest.SummaryFile, it)
		}
	}
}

// candidateDiff is the unified diff of the candidate's files against the
// ones it was made from, named as in the project (rules/…, schemas/…).
func candidateDiff(t *testing.T, pairs ...[3]string) string {
	t.Helper()
	var b strings.Builder
	for _, p := range pairs {
		was, err := os.ReadFile(p[1])
		if err != nil {
			t.Fatal(err)
		}
		now, err := os.ReadFile(p[2])
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(udiff.Unified("a/"+p[0], "b/"+p[0], string(was), string(now)))
	}
	return b.String()
}

// TestSuggestOnTheOrdersFixturesEditsOnlyWhatItFixes: the candidate of the
// orders fixtures differs from the shipped rules by the edited lines and
// the version line only (alignment, flow style, comments and key order
// kept); the list of edits is in DIR/SUGGESTIONS.txt.
func TestSuggestOnTheOrdersFixturesEditsOnlyWhatItFixes(t *testing.T) {
	rules, schemas := shippedCopy(t)
	dirs := []string{"--rules", rules, "--schemas", schemas}
	samplesDir := filepath.Join(t.TempDir(), "samples")
	fx := filepath.Join("..", "..", "fixtures", "orders")
	code, out, errOut := runMapperCLI(t, nil, append(append([]string{"samples", "add", "--samples", samplesDir, "--source", "orders",
		// Every record kept: the reservoirs' random picks would change the evidence.
		"--samples-per-category", "1000", "--samples-clean", "1000"}, dirs...),
		filepath.Join(fx, "defects.jsonl"), filepath.Join(fx, "generated.jsonl"))...)
	if code != exitOK {
		t.Fatalf("samples add: exit %d\n%s%s", code, out, errOut)
	}
	cand := filepath.Join(t.TempDir(), "candidate")
	code, out, errOut = runMapperCLI(t, nil, append([]string{"suggest", "--samples", samplesDir, "--source", "orders", "--out", cand}, dirs...)...)
	if code != exitOK {
		t.Fatalf("suggest: exit %d\n%s%s", code, out, errOut)
	}
	diff := candidateDiff(t,
		[3]string{"rules/orders.yaml", filepath.Join(rules, "orders.yaml"), filepath.Join(cand, "rules", "orders.yaml")},
		[3]string{"schemas/orders.input.json", filepath.Join(schemas, "orders.input.json"), filepath.Join(cand, "schemas", "orders.input.json")})
	golden(t, filepath.Join("testdata", "suggest", "orders.diff"), diff)
	summaryBeside(t, cand, out, diff)
	code, o, e := runMapperCLI(t, nil, "test", "--rules", filepath.Join(cand, "rules"), "--schemas", filepath.Join(cand, "schemas"))
	if code != exitOK {
		t.Errorf("the candidate's tests: exit %d\n%s%s", code, o, e)
	}
}

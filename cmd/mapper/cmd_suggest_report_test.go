package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/suggest"
)

// unsampledTraffic is GitHub traffic the samples did not keep (they keep a
// bounded few): issues from the shipped fixtures with a property the
// contract lacks (issue.pinned_comment), issue.body sent as a number, and
// an address at the redacted issue.user.email.
func unsampledTraffic(t *testing.T, n int) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "github-work-items", "issues.opened.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i := range n {
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		is := d["issue"].(map[string]any)
		is["pinned_comment"] = map[string]any{"id": i}
		is["body"] = i
		is["user"].(map[string]any)["email"] = fmt.Sprintf("unsampled-%d@secret.example", i)
		line, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, line)
	}
	return out
}

// writeDriftReport observes records with the drift package's Observer, as
// run and demo do, and writes its report to the samples directory.
func writeDriftReport(t *testing.T, rules, schemas, samplesDir string, records [][]byte) drift.Report {
	t.Helper()
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("github-work-items")
	obs, err := drift.Open(drift.Config{Dir: samplesDir})
	if err != nil {
		t.Fatal(err)
	}
	var m mapper.Mapper
	var res mapper.Result
	hdrs := []mapper.Header{{Key: "X-GitHub-Event", Value: []byte("issues")}}
	for _, p := range records {
		m.MapRecord(src, hdrs, p, &res)
		obs.Observe(nil, src, p, &res, 0)
	}
	if err := obs.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := drift.ReadFile(samplesDir, "github-work-items")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSuggestTakesTheContractEditsFromTheDriftReport: with the live drift
// report beside the samples, the contract edits take their counts from
// all the traffic it observed, and its entries no kept sample shows (a
// new property, a type at an unread field) get contract edits that the
// candidate's contract then accepts; without a report suggest works from
// the samples alone. No value at a redacted path is written anywhere.
func TestSuggestTakesTheContractEditsFromTheDriftReport(t *testing.T) {
	rules, schemas := shippedCopy(t)
	dirs := []string{"--rules", rules, "--schemas", schemas}
	capture := driftGitHubFeed(t)
	b, err := os.ReadFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	var sampled [][]byte
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		sampled = append(sampled, []byte(l))
	}
	extra := unsampledTraffic(t, 40)
	for _, tc := range []struct {
		name   string
		report bool
	}{
		{"with the drift report", true},
		{"without a report: the samples alone", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			samplesDir := filepath.Join(t.TempDir(), "samples")
			code, out, errOut := runMapperCLI(t, nil, append([]string{"samples", "add", "--samples", samplesDir, "--source", "github-work-items",
				"--header", "X-GitHub-Event=issues", "--samples-per-category", "1000", "--samples-clean", "1000"}, append(dirs, capture)...)...)
			if code != exitOK {
				t.Fatalf("samples add: exit %d\n%s%s", code, out, errOut)
			}
			var rep drift.Report
			if tc.report {
				// The report saw the sampled records and the traffic the
				// samples did not keep.
				rep = writeDriftReport(t, rules, schemas, samplesDir, append(append([][]byte(nil), sampled...), extra...))
				if rep.Records != uint64(len(sampled)+len(extra)) {
					t.Fatalf("the report observed %d records, want %d", rep.Records, len(sampled)+len(extra))
				}
			}
			cand := filepath.Join(t.TempDir(), "candidate")
			code, out, errOut = runMapperCLI(t, nil, append([]string{"suggest", "--samples", samplesDir, "--source", "github-work-items", "--out", cand,
				"--header", "X-GitHub-Event=issues"}, dirs...)...)
			if code != exitOK {
				t.Fatalf("suggest: exit %d\n%s%s", code, out, errOut)
			}
			t.Logf("suggest:\n%s", out)
			if got := strings.Contains(out, "drift report "); got != tc.report {
				t.Errorf("suggest says it read a drift report: %v, want %v", got, tc.report)
			}
			// Every kind of the samples-only run is still proposed.
			for _, kind := range []string{"moved_field  missing_field:pull_request.html_url", "contract_property  unexpected_field:issue.type",
				"contract_optional  missing_field:issue.reactions", "nullable  null_field:issue.assignees"} {
				if !strings.Contains(out, kind) {
					t.Errorf("suggest output lacks %q", kind)
				}
			}
			unsampled := []string{"contract_property  unexpected_field:issue.pinned_comment", "contract_property  type_mismatch:issue.body"}
			if !tc.report {
				for _, u := range unsampled {
					if strings.Contains(out, u) {
						t.Errorf("without a report, suggest proposes %q, which no sample shows", u)
					}
				}
				if strings.Contains(out, "drift report") {
					t.Errorf("without a report, suggest cites one:\n%s", out)
				}
				return
			}
			// A contract edit of a sampled category takes its count and
			// evidence from the report.
			for _, k := range []struct {
				kind drift.Kind
				path string
				line string
				what string
			}{
				{drift.KindAbsentRequired, "issue.reactions", "contract_optional  missing_field:issue.reactions", "absent"},
				{drift.KindNewProperty, "issue.type", "contract_property  unexpected_field:issue.type", "seen"},
				{drift.KindNewProperty, "issue.pinned_comment", "contract_property  unexpected_field:issue.pinned_comment", "seen"},
				{drift.KindNewType, "issue.body", "contract_property  type_mismatch:issue.body", "integer"},
				{drift.KindNewType, "issue.assignees", "nullable  null_field:issue.assignees", "null"},
			} {
				var e *drift.Entry
				for i := range rep.Entries {
					if rep.Entries[i].Kind == k.kind && rep.Entries[i].Path == k.path {
						e = &rep.Entries[i]
					}
				}
				if e == nil {
					t.Fatalf("the report has no %s entry at %s: %+v", k.kind, k.path, rep.Entries)
				}
				want := regexp.MustCompile(`(?m)^\d+\. ` + regexp.QuoteMeta(k.line) + `  \(` + fmt.Sprint(e.Count) + ` records\)\n   .*` +
					regexp.QuoteMeta(fmt.Sprintf("%s in %d of %d records (", k.what, e.Count, rep.Records)) + `\d+%\), drift report`)
				if !want.MatchString(out) {
					t.Errorf("no %q with the report's %d of %d records as its evidence", k.line, e.Count, rep.Records)
				}
			}
			// The candidate's contract takes the unsampled traffic: the new
			// property and the number at issue.body no longer fail.
			code, o, e := runMapperCLI(t, nil, "check", "--rules", filepath.Join(cand, "rules"), "--schemas", filepath.Join(cand, "schemas"))
			if code != exitOK {
				t.Fatalf("check of the candidate: exit %d\n%s%s", code, o, e)
			}
			eng, err := mapper.Load(filepath.Join(cand, "rules"), filepath.Join(cand, "schemas"), mapper.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var m mapper.Mapper
			var res mapper.Result
			for _, p := range extra {
				m.MapRecord(eng.Source("github-work-items"), []mapper.Header{{Key: "X-GitHub-Event", Value: []byte("issues")}}, p, &res)
				for _, f := range res.Failures {
					if c := f.Category().String(); c == "unexpected_field:issue.pinned_comment" || c == "type_mismatch:issue.body" {
						t.Errorf("the candidate still fails the unsampled traffic: %s (%s)", c, f.Detail)
					}
				}
			}
			// No value at a redacted path reaches anything suggest prints or
			// writes.
			files := []string{}
			if err := filepath.Walk(cand, func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					files = append(files, p)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			texts := map[string]string{"stdout": out}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				texts[f] = string(b)
			}
			for name, text := range texts {
				if strings.Contains(text, "@secret.example") {
					t.Errorf("%s holds a value of the redacted issue.user.email", name)
				}
			}
			summary := texts[filepath.Join(cand, suggest.SummaryFile)]
			for _, u := range unsampled {
				if !strings.Contains(summary, u) {
					t.Errorf("%s lacks %q", suggest.SummaryFile, u)
				}
			}
		})
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper/samples"
)

// TestSamplesAddKeepsHeadersAndReplayRoutesByThem: GitHub events share a
// topic and are told apart by X-GitHub-Event. Imported with --header, an
// issue_comment event is unknown_source as the worker would find it, the
// header is kept with the sample, and replay routes it by that header: it
// stays unknown_source under the shipped rules and maps once a candidate
// accepts issue_comment.
func TestSamplesAddKeepsHeadersAndReplayRoutesByThem(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "samples")
	fx := "../../fixtures/github-work-items/"
	base := []string{"--rules", "../../rules", "--schemas", "../../schemas"}
	adds := []struct {
		event, file, want string
	}{
		{"issue_comment", "issue_comment.created.payload.json", "unknown_source"},
		{"issues", "issues.opened.payload.json", "clean"},
	}
	for _, a := range adds {
		args := append([]string{"samples", "add", "--samples", dir, "--source", "github-work-items", "--header", "X-GitHub-Event=" + a.event}, base...)
		code, out, errOut := runMapperCLI(t, nil, append(args, fx+a.file)...)
		if code != exitOK || !strings.Contains(out, a.want) {
			t.Fatalf("samples add %s: exit %d, want %q in:\n%s%s", a.file, code, a.want, out, errOut)
		}
	}
	kept, err := samples.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]string{}
	for _, s := range kept {
		if len(s.Headers) != 1 || s.Headers[0].Key != "X-GitHub-Event" {
			t.Errorf("sample %s kept headers %+v, want X-GitHub-Event", s.Category, s.Headers)
			continue
		}
		events[s.Category] = string(s.Headers[0].Value)
	}
	if events["unknown_source"] != "issue_comment" || events["clean"] != "issues" {
		t.Errorf("headers kept per category %v, want unknown_source: issue_comment, clean: issues", events)
	}

	// A candidate that accepts issue_comment too.
	cand := t.TempDir()
	rule, err := os.ReadFile("../../rules/github-work-items.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(rule), "in: [issues, pull_request]", "in: [issues, pull_request, issue_comment]", 1)
	if edited == string(rule) {
		t.Fatal("the shipped rule's accept predicate is not as this test expects")
	}
	edited = strings.Replace(edited, "\nversion: 2\n", "\nversion: 3\n", 1)
	if err := os.WriteFile(filepath.Join(cand, "github-work-items.yaml"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		rules string
		row   []string // the unknown_source row: samples, now mapped, same
	}{
		{"the shipped rules still refuse the comment by its header", "../../rules", []string{"1", "0", "1"}},
		{"a candidate accepting the header maps it", cand, []string{"1", "1", "0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runMapperCLI(t, nil, "replay", "--samples", dir, "--rules", tc.rules, "--schemas", "../../schemas")
			if code != exitOK {
				t.Fatalf("replay: exit %d\n%s%s", code, out, errOut)
			}
			found := false
			for _, l := range strings.Split(out, "\n") {
				f := strings.Fields(l)
				if len(f) > 4 && f[1] == "unknown_source" {
					found = true
					if got := f[2:5]; strings.Join(got, " ") != strings.Join(tc.row, " ") {
						t.Errorf("unknown_source row %v, want samples/now mapped/same %v:\n%s", got, tc.row, out)
					}
				}
			}
			if !found {
				t.Errorf("no unknown_source row:\n%s", out)
			}
		})
	}
}

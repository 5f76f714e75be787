package ruletest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aymanbagabas/go-udiff"
	"github.com/mapperhq/mapper/mapper"
	"github.com/valyala/fastjson"
)

// Find lists the rule tests of a rules directory (NAME.test.yaml, see
// mapper.IsRuleTestFile), sorted by name.
func Find(rulesDir string) ([]string, error) {
	entries, err := os.ReadDir(rulesDir)
	if err != nil {
		return nil, fmt.Errorf("list rule tests in %s: %w", rulesDir, err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && mapper.IsRuleTestFile(e.Name()) {
			files = append(files, filepath.Join(rulesDir, e.Name()))
		}
	}
	sort.Strings(files)
	return files, nil
}

// Report is the run of one test file.
type Report struct {
	Suite *Suite
	// Source is the name of the source under test.
	Source  string
	Results []CaseResult
}

// Failed counts the cases that did not pass.
func (r *Report) Failed() int {
	n := 0
	for i := range r.Results {
		if !r.Results[i].Pass {
			n++
		}
	}
	return n
}

// CaseResult is what one case gave.
type CaseResult struct {
	Case *Case
	// Got is the engine's result.
	Got mapper.Result
	// Routed is the source the record was routed to when the case has a
	// topic ("" when none accepts it); the suite's source otherwise, which
	// maps the record only when its accept predicates hold.
	Routed string
	Pass   bool
	// Diff is a unified diff from the expectation to what the rules give,
	// empty when the case passes.
	Diff string
}

// Run maps every case of s with the engine and compares. The error is for
// a suite that cannot run at all (no such source); a failing case is a
// CaseResult with Pass false. Run stops early when ctx is cancelled.
func Run(ctx context.Context, eng *mapper.Engine, s *Suite) (*Report, error) {
	src := suiteSource(eng, s)
	if src == nil {
		if s.Source != "" {
			return nil, fmt.Errorf("%s: no source %q in the rules", s.File, s.Source)
		}
		return nil, fmt.Errorf("%s: no rule file %s.yaml beside it (name the source with source:)", s.File, stem(s.File))
	}
	rep := &Report{Suite: s, Source: src.Name()}
	for _, c := range s.Cases {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("run %s: %w", s.File, err)
		}
		rep.Results = append(rep.Results, runCase(eng, src, c))
	}
	return rep, nil
}

func suiteSource(eng *mapper.Engine, s *Suite) *mapper.Source {
	if s.Source != "" {
		return eng.Source(s.Source)
	}
	want := stem(s.File)
	for _, src := range eng.Sources() {
		base := filepath.Base(src.File())
		if base == want+".yaml" || base == want+".yml" {
			return src
		}
	}
	return nil
}

func runCase(eng *mapper.Engine, src *mapper.Source, c *Case) CaseResult {
	r := CaseResult{Case: c, Routed: src.Name()}
	var m mapper.Mapper
	if c.Topic != "" {
		routed, res := eng.Route(c.Topic, c.Headers, c.Payload)
		if routed != nil {
			r.Routed = routed.Name()
			m.Map(routed, c.Payload, &r.Got)
		} else {
			r.Routed, r.Got = "", res
		}
	} else {
		m.MapRecord(src, c.Headers, c.Payload, &r.Got)
	}
	wantHead, gotHead := heads(src.Name(), &r)
	r.Pass = c.Expect.Outcome != "" && wantHead == gotHead && r.outputMatches()
	if !r.Pass {
		wantOut, gotOut := outputs(&r)
		want, got := wantHead+wantOut, gotHead+gotOut
		if c.Expect.Outcome == "" {
			want = "(no expectation yet: mapper test --update records one)\n"
		}
		r.Diff = udiff.Unified("expected", "got", want, got)
	}
	return r
}

// outputMatches compares the output exactly by value (the views compare the
// rendering, which is exact for strings but normalises number spelling).
func (r *CaseResult) outputMatches() bool {
	e := &r.Case.Expect
	if e.Output == nil {
		return true
	}
	var pw, pg fastjson.Parser
	want, err := pw.ParseBytes(e.Output)
	if err != nil {
		return false
	}
	got, err := pg.ParseBytes(outputOrNull(r.Got.Output))
	if err != nil {
		return false
	}
	if e.Subset {
		var a fastjson.Arena
		got = project(&a, got, want)
	}
	return equal(want, got)
}

func outputOrNull(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}

// heads renders the expectation and what the case got as comparable text,
// line by line like replay's diffs: the routed source (cases with a topic),
// the outcome and one line per failure category (sorted, with the detail
// where the expectation gives one). Equal texts mean those parts match.
func heads(source string, r *CaseResult) (want, got string) {
	c := r.Case
	var w, g strings.Builder
	if c.Topic != "" {
		// A record expected to be unrouted (unknown_source), or unreadable
		// before routing (malformed_payload), is expected to reach no source.
		for _, f := range c.Expect.Failures {
			if f.Reason == mapper.ReasonUnknownSource || f.Reason == mapper.ReasonMalformedPayload {
				source = ""
			}
		}
		if c.Source != "" {
			source = c.Source
		}
		fmt.Fprintf(&w, "source: %s\n", sourceOrNone(source))
		fmt.Fprintf(&g, "source: %s\n", sourceOrNone(r.Routed))
	}
	fmt.Fprintf(&w, "outcome: %s\n", c.Expect.Outcome)
	fmt.Fprintf(&g, "outcome: %s\n", r.Got.Outcome)

	detailOf := map[mapper.Category]string{}
	var wl, gl []string
	for _, f := range c.Expect.Failures {
		cat := mapper.Category{Reason: f.Reason, Field: f.Field}
		line := "failure: " + cat.String()
		if f.HasDetail {
			detailOf[cat] = f.Detail
			line += ": " + f.Detail
		}
		wl = append(wl, line)
	}
	for _, f := range r.Got.Failures {
		line := "failure: " + f.Category().String()
		if _, ok := detailOf[f.Category()]; ok {
			line += ": " + f.Detail
		}
		gl = append(gl, line)
	}
	sort.Strings(wl)
	sort.Strings(gl)
	for _, l := range wl {
		w.WriteString(l + "\n")
	}
	for _, l := range gl {
		g.WriteString(l + "\n")
	}
	return w.String(), g.String()
}

// outputs renders the expected output and what the case got (or the part of
// it a subset expectation asks about), pretty-printed with sorted keys, for
// the diff; empty when the output is not checked.
func outputs(r *CaseResult) (want, got string) {
	c := r.Case
	var w, g strings.Builder
	if c.Expect.Outcome == "" && c.Expect.Output == nil {
		// A new case: show all it gives.
		var pg fastjson.Parser
		if gotV, err := pg.ParseBytes(outputOrNull(r.Got.Output)); err == nil {
			fmt.Fprintf(&g, "output: %s\n", pretty(nil, gotV, ""))
		}
	}
	if c.Expect.Output != nil {
		key := "output"
		if c.Expect.Subset {
			key = "output_subset"
		}
		var pw, pg fastjson.Parser
		var a fastjson.Arena
		wantV, err := pw.ParseBytes(c.Expect.Output)
		if err == nil {
			gotV, gerr := pg.ParseBytes(outputOrNull(r.Got.Output))
			if gerr != nil {
				fmt.Fprintf(&g, "%s: (not JSON: %v)\n", key, gerr)
			} else {
				if c.Expect.Subset {
					gotV = project(&a, gotV, wantV)
				}
				fmt.Fprintf(&g, "%s: %s\n", key, pretty(nil, gotV, ""))
			}
			fmt.Fprintf(&w, "%s: %s\n", key, pretty(nil, wantV, ""))
		}
	}
	return w.String(), g.String()
}

func sourceOrNone(name string) string {
	if name == "" {
		return mapper.Unrouted
	}
	return name
}

package mapper

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/mapperhq/mapper/internal/didyoumean"
)

// Problem is one mistake found while loading rules or schemas, with its
// position. Line and Col are 1-based; zero when the problem concerns a whole
// file.
type Problem struct {
	File string
	Line int
	Col  int
	What string
}

func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.What)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.What)
	}
	return fmt.Sprintf("%s: %s", p.File, p.What)
}

// LoadError is returned by Load when the rules or schemas have mistakes. It
// lists every problem found, sorted by file and position; nothing is loaded.
type LoadError struct {
	Problems []Problem
	// Warnings are what the static checks found without being sure of it;
	// on their own they never fail a load (see Engine.Warnings).
	Warnings []Problem
}

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

type problems struct {
	list  []Problem
	warns []Problem // not mistakes for certain: reported, never refused
}

func (ps *problems) warn(file string, line, col int, format string, args ...any) {
	ps.warns = append(ps.warns, Problem{File: file, Line: line, Col: col, What: "warning: " + fmt.Sprintf(format, args...)})
}

func (ps *problems) add(file string, line, col int, format string, args ...any) {
	what := fmt.Sprintf(format, args...)
	if len(what) > maxProblemBytes {
		// A problem quotes what the file says: a huge key stays out.
		cut := maxProblemBytes
		for cut > 0 && !utf8.RuneStart(what[cut]) {
			cut--
		}
		what = what[:cut] + "…"
	}
	ps.list = append(ps.list, Problem{File: file, Line: line, Col: col, What: what})
}

// maxProblemBytes bounds the text of one problem.
const maxProblemBytes = 400

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sortProblems(ps.list)
	sortProblems(ps.warns)
	return &LoadError{Problems: ps.list, Warnings: ps.warns}
}

// sortProblems orders problems by file and position.
func sortProblems(list []Problem) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// didYouMean returns " (did you mean "x"?)" for a likely typo of one of
// the candidates, else the list of valid names (the first 12 of them).
func didYouMean(s string, candidates []string) string {
	if c := didyoumean.Closest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	if len(candidates) == 0 {
		return ""
	}
	list := candidates
	more := ""
	if len(list) > 12 {
		list, more = list[:12], fmt.Sprintf(", … (%d in all)", len(candidates))
	}
	return " (valid: " + strings.Join(list, ", ") + more + ")"
}

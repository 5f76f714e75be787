package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/ruletest"
)

func ruleTestCommand() command {
	return command{
		name:  "test",
		usage: "test [--rules DIR] [--schemas DIR] [--run REGEXP] [--update] [FILE.test.yaml…]",
		short: "run the rule tests beside the rules (rules/NAME.test.yaml); --update records the results",
		long: `Run rule tests: YAML files beside the rules (rules/NAME.test.yaml) whose cases
say what a payload must map to: the outcome, the failures (reason and field) and
the output, exact or a subset. Every failing case is printed with a diff from the
expectation to what the rules give now. Without FILE arguments every
*.test.yaml of --rules runs.

--update rewrites the expectations of the failing cases with the current
results (as golden files are regenerated), leaving payloads, comments and
passing cases as they are; read the change with git diff before committing it.

Rules in DIR/rules are tested with the schemas in DIR/schemas when there is
such a directory (a candidate written by mapper suggest) and --schemas is not
given.

Exit status 0 when every case passes (or --update rewrote them), 1 when a
case fails or a rule or test file has a mistake.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdRuleTest{
				env:     e,
				dirs:    declareRuleDirs(fs, e),
				update:  boolFlag(fs, e, "update", false, "rewrite the expectations of failing cases with the current results"),
				runPat:  stringFlag(fs, e, "run", "", "run only the cases whose name matches this regular expression"),
				verbose: boolFlag(fs, e, "v", false, "list every case, passing ones too"),
			}
		},
	}
}

// cmdRuleTest is one invocation of `mapper test`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdRuleTest struct {
	*env
	dirs    ruleDirs
	update  *bool
	runPat  *string
	verbose *bool
}

func (c *cmdRuleTest) run(ctx context.Context, args []string) int {
	var sel *regexp.Regexp
	if *c.runPat != "" {
		re, err := regexp.Compile(*c.runPat)
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper test: --run: %v\n", err)
			return exitUsage
		}
		sel = re
	}
	if *c.dirs.schemas == "schemas" {
		// DIR/rules is tested with DIR/schemas, as mapper suggest writes a
		// candidate, unless --schemas names other schemas.
		if sch, ok := candidateSchemas(*c.dirs.rules); ok {
			*c.dirs.schemas = sch
		}
	}
	eng, err := c.dirs.load()
	if err != nil {
		printLoadError(c.stderr, "mapper test", err)
		return exitFailure
	}
	files := args
	if len(files) == 0 {
		if files, err = ruletest.Find(*c.dirs.rules); err != nil {
			fmt.Fprintf(c.stderr, "mapper test: %v\n", err)
			return exitFailure
		}
		if len(files) == 0 {
			fmt.Fprintf(c.stdout, "no rule tests in %s (write NAME.test.yaml beside NAME.yaml)\n", *c.dirs.rules)
			return exitOK
		}
	}
	t := ruleTests{e: c.env, eng: eng, sel: sel, update: *c.update, verbose: *c.verbose}
	code := exitOK
	for _, f := range files {
		if !t.file(ctx, f) {
			code = exitFailure
		}
		if ctx.Err() != nil {
			return exitFailure
		}
	}
	fmt.Fprintln(c.stdout, t.summary())
	return code
}

// ruleTests runs test files and counts.
type ruleTests struct {
	e       *env
	eng     *mapper.Engine
	sel     *regexp.Regexp
	update  bool
	verbose bool

	files, cases, failed, rewritten int
	// unreadable counts the files that could not be read, problems
	// their problems.
	unreadable, problems int
}

func (t *ruleTests) summary() string {
	s := fmt.Sprintf("%d file(s), %d case(s), %d failed", t.files, t.cases, t.failed)
	if t.update {
		s += fmt.Sprintf(", %d rewritten", t.rewritten)
	}
	if t.unreadable > 0 {
		s += fmt.Sprintf("; %d file(s) could not be read (%d problem(s)), so their cases did not run", t.unreadable, t.problems)
	}
	return s
}

// file runs one test file; false means it failed.
func (t *ruleTests) file(ctx context.Context, path string) bool {
	e := t.e
	t.files++
	suite, err := ruletest.ParseFile(path)
	if err != nil {
		printLoadError(e.stderr, "mapper test", err)
		t.unreadable++
		t.problems++
		var le *mapper.LoadError
		if errors.As(err, &le) {
			t.problems += len(le.Problems) - 1
		}
		fmt.Fprintf(e.stdout, "FAIL  %s  could not be read\n", path)
		return false
	}
	if t.sel != nil {
		kept := suite.Cases[:0:0]
		for _, c := range suite.Cases {
			if t.sel.MatchString(c.Name) {
				kept = append(kept, c)
			}
		}
		suite.Cases = kept
	}
	rep, err := ruletest.Run(ctx, t.eng, suite)
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper test: %v\n", err)
		return false
	}
	t.cases += len(rep.Results)
	failed := rep.Failed()
	for _, r := range rep.Results {
		c := r.Case
		switch {
		case !r.Pass && !t.update:
			fmt.Fprintf(e.stdout, "--- FAIL: %s:%d:%d: %s\n%s\n", path, c.Line, c.Col, c.Name, indent(r.Diff))
		case t.verbose:
			status := "ok"
			if !r.Pass {
				status = "rewritten"
			}
			fmt.Fprintf(e.stdout, "--- %s: %s:%d:%d: %s\n", status, path, c.Line, c.Col, c.Name)
		}
	}
	if failed == 0 {
		fmt.Fprintf(e.stdout, "ok    %s  %d case(s) of source %s\n", path, len(rep.Results), rep.Source)
		return true
	}
	if !t.update {
		t.failed += failed
		fmt.Fprintf(e.stdout, "FAIL  %s  %d of %d case(s) failed\n", path, failed, len(rep.Results))
		return false
	}
	if t.sel != nil {
		fmt.Fprintf(e.stderr, "mapper test: --update rewrites whole files; run it without --run\n")
		return false
	}
	data, names, err := ruletest.Update(rep)
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper test: %v\n", err)
		return false
	}
	if err := writeFileAtomic(path, data); err != nil {
		fmt.Fprintf(e.stderr, "mapper test: %v\n", err)
		return false
	}
	t.rewritten += len(names)
	fmt.Fprintf(e.stdout, "updated %s: rewrote %d case(s): %s\n", path, len(names), quoteList(names))
	return true
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// printLoadError prints a *mapper.LoadError one problem a line, with a count;
// any other error on one line.
func printLoadError(w io.Writer, cmd string, err error) {
	var le *mapper.LoadError
	if errors.As(err, &le) {
		for _, p := range le.Problems {
			fmt.Fprintln(w, p.String())
		}
		for _, p := range le.Warnings {
			fmt.Fprintln(w, p.String())
		}
		fmt.Fprintf(w, "%d problem(s)\n", len(le.Problems))
		return
	}
	fmt.Fprintf(w, "%s: %v\n", cmd, err)
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/replay"
	"github.com/mapperhq/mapper/mapper/ruletest"
	"github.com/mapperhq/mapper/mapper/samples"
	"github.com/mapperhq/mapper/mapper/suggest"
)

func suggestCommand() command {
	return command{
		name:  "suggest",
		usage: "suggest --source NAME --out DIR [--samples DIR] [--rules DIR] [--schemas DIR]",
		short: "propose rule fixes from the samples, failing values and drift report, as a candidate rules and schemas directory",
		long: `
Reads the source's kept samples and failing-value profiles and proposes, for
every failing category, an edit with its evidence and projected effect, or one
no_fix line saying why no rule edit fixes it. The edit kinds:

  enum_value         new enum entries (an output not inferred is a PLACEHOLDER, marked REVIEW)
  timestamp_layout   Go layouts that parse the failing values
  renamed_field      a missing field read under its new name in the same parent
  moved_field        a missing or null field read from where its values now live,
                     checked equal in every kept record that carries both
  id_or_object       an id that now arrives as its expanded object: read its key
  number_transform   int or float for numbers sent as strings (or the contract
                     widened when the rule converts them already)
  nullable, default  a null let through, or the output schema's default
  contract_property  a property the input schema lacks, typed as the traffic shows
  contract_optional  required dropped for an unread field that arrives absent

Writes the candidate in --out: DIR/rules, a copy of --rules with the source's
rule file edited in place (only the edited lines and the version change; an
enum output that is a placeholder says REVIEW on its own line), DIR/schemas, a
copy of --schemas with the contract edits, DIR/SUGGESTIONS.txt, the list of
every edit, REVIEW item and no_fix printed here, and DIR/rules/NAME.test.yaml
with one case per fixed category, built from a kept (redacted) sample,
expecting the candidate's result (shipped cases whose result the candidate
changes are updated and listed). Copied rule tests keep working payload_file
paths. rules/ and schemas/ are never edited.

With a drift report beside the samples (DIR/<source>/drift.json, written by
run and demo, merged by samples pull), the contract edits take their counts and
evidence from it, over all the traffic ("absent in 412 of 1030 records (40%),
drift report"), and its entries no failing sample shows get contract edits too.

Then replays the samples through the candidate and, with --input FILE…, the
capture exactly (old rules against the candidate; --header gives the records'
headers). mapper test --rules DIR/rules and mapper run|demo --candidate-rules
DIR/rules take DIR/schemas with the rules.
With --source unrouted, it proposes for the records no source accepts
(unknown_source), from their structural profiles (samples/unrouted.shapes.json:
the paths of their payloads, JSON types and counts, and the values of the
headers the rules route on; never a payload value): per topic and routing
header value with at least 10 records, a starter source (new_source) built by
infer — accepting that header value on that topic, its input schema with types
and required properties (no enum, no format: no value was kept), its fields the
top-level scalars as they are, with an output schema to match — written to
DIR/rules and DIR/schemas beside copies of the shipped ones, so that mapper
check passes as written. Where a source of the topic accepts by that header,
the alternative (accept_predicate) is its rule file with the value added to
the list, in DIR/alternatives/STARTER/, for review: it sends the records to
rules written for others.

Exit status 1 when the candidate makes any sample newly failing, or on error.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			c := &cmdSuggest{
				env:    e,
				rd:     declareRuleDirs(fs, e),
				dir:    declareSamplesDir(fs, e),
				source: stringFlag(fs, e, "source", "", "the source to suggest fixes for, or unrouted for the records no source accepts (required)"),
				out:    stringFlag(fs, e, "out", "", "directory to write the candidate to (DIR/rules and DIR/schemas); must not exist or be empty (required)"),
			}
			c.headers = declareHeaderFlag(fs)
			fs.Func("input", "a capture of the source's payloads to replay exactly with the old rules and the candidate (repeatable; files after it are inputs too)", func(v string) error {
				c.inputs = append(c.inputs, v)
				return nil
			})
			return c
		},
	}
}

// cmdSuggest is one invocation of `mapper suggest`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdSuggest struct {
	*env
	rd      ruleDirs
	dir     *string
	source  *string
	out     *string
	inputs  []string
	headers *[]mapper.Header
}

func (c *cmdSuggest) run(ctx context.Context, args []string) int {
	if *c.source == "" || *c.out == "" || len(args) > 0 && len(c.inputs) == 0 {
		fmt.Fprintln(c.stderr, "mapper suggest: --source and --out are required and no argument is taken (but input files after --input)")
		return exitUsage
	}
	if err := runSuggest(ctx, c.env, c.rd, *c.dir, *c.source, *c.out, append(c.inputs, args...), *c.headers); err != nil {
		if errors.Is(err, errRegressed) {
			return exitFailure
		}
		fmt.Fprintf(c.stderr, "mapper suggest: %v\n", err)
		return exitFailure
	}
	return exitOK
}

var errRegressed = errors.New("the candidate makes samples newly failing")

func runSuggest(ctx context.Context, e *env, rd ruleDirs, dir, source, out string, inputs []string, headers []mapper.Header) error {
	eng, err := rd.load()
	if err != nil {
		return err
	}
	src := eng.Source(source)
	if src == nil && source == mapper.Unrouted {
		return runSuggestUnrouted(e, rd, eng, dir, out)
	}
	if src == nil {
		return fmt.Errorf("no source %q in %s (sources: %s)", source, *rd.rules, sourceNames(eng))
	}
	if err := checkOutDir(out, *rd.rules, *rd.schemas); err != nil {
		return err
	}
	ruleText, err := os.ReadFile(src.File())
	if err != nil {
		return fmt.Errorf("read the rule file: %w", err)
	}
	in, err := samples.ReadDir(dir)
	if err != nil {
		if errors.Is(err, samples.ErrNotSamples) {
			return fmt.Errorf("no samples in %s: run `mapper demo` or `mapper run`, or `mapper samples add`", dir)
		}
		return err
	}
	counts, err := samples.Counts(dir)
	if err != nil {
		return err
	}
	all, err := samples.ReadAllValues(dir)
	if err != nil {
		return err
	}
	profiles := map[string]samples.ValueProfile{}
	for _, p := range all {
		if p.Source == source {
			profiles[p.Category] = p
		}
	}
	// The live drift report counts all the traffic: the contract edits
	// take their evidence from it.
	var dr *drift.Report
	if r, err := drift.ReadFile(dir, source); err == nil {
		dr = &r
		fmt.Fprintf(e.stdout, "drift report %s: %d drifting fields in %d records, read for the contract edits\n\n",
			filepath.Join(dir, drift.Path(source)), len(r.Entries), r.Records)
	} else if !errors.Is(err, drift.ErrNoReport) {
		fmt.Fprintf(e.stderr, "mapper suggest: %v; the contract edits come from the samples alone\n", err)
	}
	ss, err := suggest.Propose(suggest.Input{Source: src, RuleFile: ruleText, Samples: in, Profiles: profiles, Seen: counts[source].Seen,
		Schemas: os.DirFS(*rd.schemas), Drift: dr})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(ss, func(s suggest.Suggestion) bool { return s.Fixes() }) {
		printSuggestions(e.stdout, ss, nil)
		fmt.Fprintf(e.stdout, "\nno rule edit found for %s in %s (%d samples); nothing written\n", source, dir, len(in))
		return nil
	}
	text, err := suggest.Apply(ruleText, ss, src.Version()+1)
	if err != nil {
		return err
	}
	candRules, candSchemas := filepath.Join(out, "rules"), filepath.Join(out, "schemas")
	if err := writeCandidate(*rd.rules, candRules, filepath.Base(src.File()), text); err != nil {
		return err
	}
	if err := writeCandidateSchemas(*rd.schemas, candSchemas, ss); err != nil {
		return err
	}
	cand, err := mapper.Load(candRules, candSchemas, rd.options())
	if err != nil {
		return fmt.Errorf("the candidate in %s does not load (a bug in suggest): %w", out, err)
	}
	rep, err := replay.Run(ctx, cand, in, replay.Options{Source: source, Counts: counts, Profiles: profilesIn(dir, e)})
	if err != nil {
		return err
	}
	cases, untested := suggest.TestCases(src, cand.Source(source), ss, in)
	testFile, err := writeCandidateTests(candRules, src.File(), cases)
	if err != nil {
		return err
	}
	changed, err := updateCandidateTests(ctx, cand, candRules)
	if err != nil {
		return err
	}
	summary := filepath.Join(out, suggest.SummaryFile)
	if err := writeSummary(summary, src, ss, rep); err != nil {
		return err
	}
	printSuggestions(e.stdout, ss, rep)
	fmt.Fprintf(e.stdout, "\nwrote %s (rules v%d → v%d)", filepath.Join(candRules, filepath.Base(src.File())), src.Version(), src.Version()+1)
	for _, f := range schemaFilesEdited(ss) {
		fmt.Fprintf(e.stdout, " and %s", filepath.Join(candSchemas, filepath.FromSlash(f)))
	}
	fmt.Fprintf(e.stdout, "; the edits are listed in %s; check it with `mapper check --rules %s --schemas %s`\n\nreplay of the samples through the candidate:\n\n",
		summary, candRules, candSchemas)
	if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	regressed := rep.Regressed()
	if len(inputs) > 0 {
		exact, err := suggestExactReplay(ctx, e, src, cand.Source(source), inputs, headers)
		if err != nil {
			return err
		}
		regressed = regressed || exact
	}
	if len(cases) > 0 {
		fmt.Fprintf(e.stdout, "\nwrote %d rule tests to %s, one per fixed category, from kept samples:\n", len(cases), testFile)
		for _, c := range cases {
			fmt.Fprintf(e.stdout, "  %s → %s\n", c.Name, c.Outcome)
		}
	}
	for _, c := range changed {
		fmt.Fprintf(e.stdout, "  updated: %s (the candidate changes what it expected; review it)\n", c)
	}
	for _, c := range untested {
		fmt.Fprintf(e.stdout, "  no test for %s: no kept sample of it maps otherwise with the candidate\n", c)
	}
	fmt.Fprintf(e.stdout, "\nnext: mapper test --rules %s, then mapper demo --candidate-rules %s (or mapper run) to try it on live traffic\n",
		candRules, candRules)
	if regressed {
		return errRegressed
	}
	return nil
}

// suggestExactReplay replays the capture files exactly with the old rules
// and the candidate and prints the report; it reports a regression.
func suggestExactReplay(ctx context.Context, e *env, before, after *mapper.Source, files []string, headers []mapper.Header) (bool, error) {
	r, closeAll, err := openInputs(files, false)
	if err != nil {
		return false, err
	}
	defer closeAll()
	rep, err := replay.Exact(ctx, before, after, r, replay.ExactOptions{Headers: headers})
	if err != nil {
		return false, err
	}
	rep.SortRows("impact")
	fmt.Fprintf(e.stdout, "\nexact replay of %s through the candidate:\n\n", strings.Join(files, ", "))
	if err := rep.WriteText(e.stdout); err != nil {
		return false, err
	}
	return rep.Regressed(), nil
}

// writeCandidateTests adds the generated cases to the candidate's rule
// test file of the source (made when there is none) and returns its path.
func writeCandidateTests(candRules, ruleFile string, cases []suggest.TestCase) (string, error) {
	name := strings.TrimSuffix(filepath.Base(ruleFile), filepath.Ext(ruleFile)) + ".test.yaml"
	p := filepath.Join(candRules, name)
	if len(cases) == 0 {
		return p, nil
	}
	old, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("write candidate tests: %w", err)
	}
	text, err := suggest.AppendTestCases(old, cases)
	if err != nil {
		return "", fmt.Errorf("write candidate tests %s: %w", p, err)
	}
	if err := os.WriteFile(p, text, 0o644); err != nil {
		return "", fmt.Errorf("write candidate tests: %w", err)
	}
	return p, nil
}

// writeSummary writes the list of suggestions (each edit, REVIEW item and
// no_fix, with its evidence and effect) beside the candidate's rules and
// schemas, whose files hold only the edited lines.
func writeSummary(path string, src *mapper.Source, ss []suggest.Suggestion, rep *replay.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Candidate rules of %s, v%d → v%d, written by `mapper suggest`: review before shipping.\n\n", src.Name(), src.Version(), src.Version()+1)
	printSuggestions(&b, ss, rep)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write the suggestions: %w", err)
	}
	return nil
}

// printSuggestions lists each suggestion with its evidence and the
// projected effect replay found for its category.
func printSuggestions(w io.Writer, ss []suggest.Suggestion, rep *replay.Report) {
	fixes := 0
	for _, s := range ss {
		if s.Fixes() {
			fixes++
		}
	}
	fmt.Fprintf(w, "%d suggestions, %d categories no rule edit fixes:\n", fixes, len(ss)-fixes)
	for i, s := range ss {
		if !s.Fixes() {
			fmt.Fprintf(w, "\n%d. no_fix  %s  (%d records)\n   %s\n", i+1, s.Category, s.Records, s.NoFix)
			continue
		}
		fmt.Fprintf(w, "\n%d. %s  %s  (%d records)\n   %s\n", i+1, s.Kind, s.Category, s.Records, s.Edit)
		if len(s.Values) > 0 {
			fmt.Fprintf(w, "   values: %s\n", valuesText(s.Values))
		}
		if len(s.Unfixable) > 0 {
			fmt.Fprintf(w, "   not fixed by a rule edit: %s\n", valuesText(s.Unfixable))
		}
		for _, r := range s.Review {
			fmt.Fprintf(w, "   REVIEW: %s\n", r)
		}
		if rep == nil {
			continue
		}
		for _, row := range rep.Rows {
			if row.Category != s.Category {
				continue
			}
			if row.Projection == nil || row.Projection.NowMapped == nil {
				if row.NowMapped > 0 {
					// Delivered degraded before: they map clean now.
					fmt.Fprintf(w, "   replayed: %d of %d samples now mapped clean (delivered degraded before)\n", row.NowMapped, row.Samples)
				}
				continue
			}
			fmt.Fprintf(w, "   projected: %s of %d records now mapped", row.Projection.NowMapped.Text(), row.Projection.Seen)
			if row.Samples > 0 {
				fmt.Fprintf(w, " (replayed: %d of %d samples)", row.NowMapped, row.Samples)
			}
			fmt.Fprintln(w)
			switch {
			case row.NowMapped > 0 || row.Samples == 0:
			case row.StillFailing > 0 && len(s.SchemaEdits) == 0:
				_, field := samples.SplitCategory(s.Category)
				fmt.Fprintf(w, "   the samples still fail this way: the source's input schema also constrains %s; change it there too\n", field)
			default:
				fmt.Fprintf(w, "   no sample maps with this edit: they fail other ways too (mapper samples show --source %s --category %s)\n", row.Source, s.Category)
			}
		}
	}
}

func valuesText(vs []suggest.Value) string {
	var parts []string
	for i, v := range vs {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("… %d more", len(vs)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", v.Text, v.Count))
	}
	return strings.Join(parts, ", ")
}

// checkOutDir refuses an output directory that is the rules or schemas
// directory or holds anything.
func checkOutDir(out, rules, schemas string) error {
	ao, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	for _, d := range []string{rules, schemas} {
		if ad, err := filepath.Abs(d); err == nil && ad == ao {
			return fmt.Errorf("--out %s is the %s directory: suggest never edits rules or schemas in place", out, d)
		}
	}
	entries, err := os.ReadDir(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("--out %s is not empty; give a new directory", out)
	}
	return nil
}

// writeCandidateSchemas copies the schemas directory to out, with the
// input-schema edits of ss applied.
func writeCandidateSchemas(schemas, out string, ss []suggest.Suggestion) error {
	if err := os.CopyFS(out, os.DirFS(schemas)); err != nil {
		return fmt.Errorf("write candidate schemas: %w", err)
	}
	for _, f := range schemaFilesEdited(ss) {
		p := filepath.Join(out, filepath.FromSlash(f))
		doc, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("write candidate schemas: %w", err)
		}
		if doc, err = suggest.ApplySchema(doc, f, ss); err != nil {
			return fmt.Errorf("write candidate schemas: %w", err)
		}
		if err := os.WriteFile(p, doc, 0o644); err != nil {
			return fmt.Errorf("write candidate schemas: %w", err)
		}
	}
	return nil
}

// schemaFilesEdited lists the schema files the suggestions edit, once each,
// in order.
func schemaFilesEdited(ss []suggest.Suggestion) []string {
	var files []string
	for _, s := range ss {
		for _, e := range s.SchemaEdits {
			if !slices.Contains(files, e.File) {
				files = append(files, e.File)
			}
		}
	}
	return files
}

// writeCandidate copies the files of the rules directory to out, with the
// named rule file replaced by text.
func writeCandidate(rules, out, name string, text []byte) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("write candidate: %w", err)
	}
	entries, err := os.ReadDir(rules)
	if err != nil {
		return fmt.Errorf("write candidate: %w", err)
	}
	for _, en := range entries {
		if !en.Type().IsRegular() || en.Name() == name {
			continue
		}
		b, err := os.ReadFile(filepath.Join(rules, en.Name()))
		if err != nil {
			return fmt.Errorf("write candidate: %w", err)
		}
		if mapper.IsRuleTestFile(en.Name()) {
			// Its payload_file paths are relative to the rules directory.
			if b, err = suggest.RebaseTestFile(b, rules, out); err != nil {
				return fmt.Errorf("write candidate: %s: %w", en.Name(), err)
			}
		}
		if err := os.WriteFile(filepath.Join(out, en.Name()), b, 0o644); err != nil {
			return fmt.Errorf("write candidate: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(out, name), text, 0o644); err != nil {
		return fmt.Errorf("write candidate: %w", err)
	}
	return nil
}

// updateCandidateTests runs the candidate's rule tests with the candidate
// and records the current result in the cases it changes (the shipped
// expectations of what the edits fix), returning their names.
func updateCandidateTests(ctx context.Context, cand *mapper.Engine, candRules string) ([]string, error) {
	files, err := ruletest.Find(candRules)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, f := range files {
		suite, err := ruletest.ParseFile(f)
		if err != nil {
			return nil, fmt.Errorf("the candidate's rule tests: %w", err)
		}
		rep, err := ruletest.Run(ctx, cand, suite)
		if err != nil || rep.Failed() == 0 {
			continue
		}
		text, names, err := ruletest.Update(rep)
		if err != nil {
			return nil, fmt.Errorf("update the candidate's rule tests %s: %w", f, err)
		}
		if err := os.WriteFile(f, text, 0o644); err != nil {
			return nil, fmt.Errorf("update the candidate's rule tests: %w", err)
		}
		for _, n := range names {
			changed = append(changed, filepath.Base(f)+": "+n)
		}
	}
	return changed, nil
}

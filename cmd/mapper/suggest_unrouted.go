package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
	"github.com/mapperhq/mapper/mapper/suggest"
)

// runSuggestUnrouted is mapper suggest --source unrouted: a starter source
// for each group of records no source accepts (from their structural
// profiles), written into out with the shipped rules and schemas, and the
// alternative accept-list edits beside it for review.
func runSuggestUnrouted(e *env, rd ruleDirs, eng *mapper.Engine, dir, out string) error {
	if err := checkOutDir(out, *rd.rules, *rd.schemas); err != nil {
		return err
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no samples in %s: run `mapper demo` or `mapper run`", dir)
	}
	sh, ok, err := samples.ReadShapes(dir)
	if err != nil {
		return err
	}
	if !ok || len(sh.Groups) == 0 {
		fmt.Fprintf(e.stdout, "no structural profile of unrouted records in %s (%s): either every record was accepted by a source, or the samples were kept before mapper kept profiles; nothing written\n",
			dir, samples.ShapesFile)
		return nil
	}
	us, err := suggest.ProposeUnrouted(suggest.UnroutedInput{Engine: eng, Shapes: sh})
	if err != nil {
		return err
	}
	candRules, candSchemas := filepath.Join(out, "rules"), filepath.Join(out, "schemas")
	var starters []*suggest.Starter
	for _, u := range us {
		if u.Starter != nil {
			starters = append(starters, u.Starter)
		}
	}
	if len(starters) > 0 {
		if err := writeStarters(*rd.rules, *rd.schemas, candRules, candSchemas, starters); err != nil {
			return err
		}
		cand, err := mapper.Load(candRules, candSchemas, rd.options())
		if err != nil {
			return fmt.Errorf("the candidate in %s does not load (a bug in suggest): %w", out, err)
		}
		for _, u := range us {
			if u.Starter == nil {
				continue
			}
			if got, _ := cand.Route(u.Topic, routingHeaders(u.Routing), nil); got == nil || got.Name() != u.Starter.Source {
				return fmt.Errorf("the candidate's %s does not take the records it was made for (a bug in suggest)", u.Starter.Source)
			}
		}
	}
	for _, u := range us {
		for _, a := range u.Alternatives {
			p := filepath.Join(out, "alternatives", u.Starter.Source, a.RuleFile)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return fmt.Errorf("write the alternative: %w", err)
			}
			if err := os.WriteFile(p, a.Rules, 0o644); err != nil {
				return fmt.Errorf("write the alternative: %w", err)
			}
		}
	}
	printUnrouted(e.stdout, us, sh, candRules, candSchemas, out)
	return nil
}

// routingHeaders are a group's routing values as record headers.
func routingHeaders(rs []samples.RoutingValue) []mapper.Header {
	hs := make([]mapper.Header, len(rs))
	for i, r := range rs {
		hs[i] = mapper.Header{Key: r.Header, Value: []byte(r.Value)}
	}
	return hs
}

// writeStarters copies the rules and schemas directories to candRules and
// candSchemas (rule tests keep working payload paths) and adds each
// starter's rule file and schemas.
func writeStarters(rules, schemas, candRules, candSchemas string, starters []*suggest.Starter) error {
	first := starters[0]
	if err := writeCandidate(rules, candRules, first.RuleFile, first.Rules); err != nil {
		return err
	}
	if err := writeCandidateSchemas(schemas, candSchemas, nil); err != nil {
		return err
	}
	for i, st := range starters {
		files := map[string][]byte{
			filepath.Join(candSchemas, st.InputSchemaFile):  st.InputSchema,
			filepath.Join(candSchemas, st.OutputSchemaFile): st.OutputSchema,
		}
		if i > 0 {
			files[filepath.Join(candRules, st.RuleFile)] = st.Rules
		}
		for p, b := range files {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("write the starter %s: %s exists already", st.Source, p)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return fmt.Errorf("write the starter %s: %w", st.Source, err)
			}
		}
	}
	return nil
}

// printUnrouted lists the suggestions for unrouted records and what was
// written.
func printUnrouted(w io.Writer, us []suggest.UnroutedSuggestion, sh samples.Shapes, candRules, candSchemas, out string) {
	fixes, alts := 0, 0
	for _, u := range us {
		if u.Fixes() {
			fixes++
		}
		alts += len(u.Alternatives)
	}
	fmt.Fprintf(w, "records no source accepts (unknown_source), from their structural profiles (%s: paths, types and counts, no value):\n", samples.ShapesFile)
	fmt.Fprintf(w, "%s, %s, %s no source can be started for\n", plural(fixes, "starter source"), plural(alts, "alternative accept edit"), plural(len(us)-fixes, "group"))
	for i, u := range us {
		if !u.Fixes() {
			fmt.Fprintf(w, "\n%d. no_fix  %s  (%d records)\n   %s\n", i+1, u.Category, u.Records, u.NoFix)
			continue
		}
		st := u.Starter
		fmt.Fprintf(w, "\n%d. %s  %s  (%d records)\n   %s\n", i+1, u.Kind, u.Category, u.Records, u.Edit)
		fmt.Fprintf(w, "   wrote %s, %s and %s\n", filepath.Join(candRules, st.RuleFile),
			filepath.Join(candSchemas, st.InputSchemaFile), filepath.Join(candSchemas, st.OutputSchemaFile))
		for _, r := range u.Review {
			fmt.Fprintf(w, "   REVIEW: %s\n", r)
		}
		for _, a := range u.Alternatives {
			fmt.Fprintf(w, "   or, instead: %s  %s\n", a.Kind, a.Edit)
			fmt.Fprintf(w, "     wrote %s (it replaces rules/%s; not together with the starter)\n",
				filepath.Join(out, "alternatives", st.Source, a.RuleFile), a.RuleFile)
			for _, r := range a.Review {
				fmt.Fprintf(w, "     REVIEW: %s\n", r)
			}
		}
	}
	if sh.GroupsDropped > 0 {
		fmt.Fprintf(w, "\n%d more unrouted records were counted but not profiled (past %d groups of topic and routing values)\n", sh.GroupsDropped, sh.Bounds.MaxGroups)
	}
	if fixes == 0 {
		fmt.Fprintln(w, "\nno starter source to write; nothing written")
		return
	}
	fmt.Fprintf(w, "\nwrote the candidate: %s and %s (the shipped rules and schemas, and %d starter sources);\n", candRules, candSchemas, fixes)
	fmt.Fprintf(w, "each starter loads and takes the records it was made for. Their payloads were not kept, so there is\n")
	fmt.Fprintf(w, "no replay and no rule test of them: look at a few with mapper tap, then try the candidate live.\n")
	fmt.Fprintf(w, "\nnext: mapper check --rules %s --schemas %s, then mapper demo --candidate-rules %s (or mapper run)\n",
		candRules, candSchemas, candRules)
}

// plural is "1 thing", "2 things".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	mapperfiles "github.com/mapperhq/mapper"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/release"
)

// releaseFlags are the flags of rule changes tested in production, shared
// by mapper run and mapper demo.
type releaseFlags struct {
	candidate      *string
	mode           *string
	share, maxDrop *string
	canaryWindow   *string
	canaryMin      *int
	watch          *string
	maxReject      *string
	breakerWindow  *string
	breakerMin     *int
}

func declareReleaseFlags(fs *flag.FlagSet, e *env) *releaseFlags {
	return &releaseFlags{
		candidate:     stringFlag(fs, e, "candidate-rules", "", "directory of candidate rules to try beside the live ones (schemas from DIR/schemas when the rules are DIR/rules, as mapper suggest writes them; else --schemas)"),
		mode:          stringFlag(fs, e, "candidate-mode", "shadow", "shadow: map with both, deliver the live result; canary: deliver the candidate's result for --canary-share of the keys"),
		share:         stringFlag(fs, e, "canary-share", "0.05", "share of record keys (0 to 1) delivered with the candidate in canary mode"),
		maxDrop:       stringFlag(fs, e, "canary-max-drop", "0.05", "roll the canary back when its delivered ratio is this much (0 to 1) below the live rules' on the same records"),
		canaryWindow:  stringFlag(fs, e, "canary-window", "5m", "span over which the canary is judged"),
		canaryMin:     intFlag(fs, e, "canary-min-records", release.DefaultCanaryMinRecords, "canary records in the window before it is judged"),
		watch:         stringFlag(fs, e, "watch-rules", "0", "poll the rules, schemas and candidate directories this often (like 2s) and reload on a change; 0 off (SIGHUP always reloads)"),
		maxReject:     stringFlag(fs, e, "max-reject-ratio", "0", "pause a source whose share of rejected records over --breaker-window exceeds this (0 to 1); 0 off"),
		breakerWindow: stringFlag(fs, e, "breaker-window", "1m", "span over which the reject ratio is measured"),
		breakerMin:    intFlag(fs, e, "breaker-min-records", release.DefaultBreakerMinRecords, "records of a source in the window before the breaker may trip"),
	}
}

// releaseSettings are the parsed flags.
type releaseSettings struct {
	cfg       release.Config
	candidate string
	watch     time.Duration
}

// parse checks the flags, appending one line per problem.
func (f *releaseFlags) parse(problems *[]string) releaseSettings {
	var s releaseSettings
	bad := func(name, value, want string) {
		*problems = append(*problems, fmt.Sprintf("--%s %q: want %s", name, value, want))
	}
	ratio := func(name, v string) float64 {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			bad(name, v, "a number from 0 to 1")
		}
		return r
	}
	dur := func(name, v string, zeroOK bool) time.Duration {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || (d == 0 && !zeroOK) {
			bad(name, v, "a positive duration like 30s")
		}
		return d
	}
	s.candidate = *f.candidate
	s.cfg.Mode = release.Mode(*f.mode)
	if s.cfg.Mode != release.ModeShadow && s.cfg.Mode != release.ModeCanary {
		bad("candidate-mode", *f.mode, "shadow or canary")
	}
	s.cfg.CanaryShare = ratio("canary-share", *f.share)
	s.cfg.CanaryMaxDrop = ratio("canary-max-drop", *f.maxDrop)
	s.cfg.CanaryWindow = dur("canary-window", *f.canaryWindow, false)
	s.cfg.MaxRejectRatio = ratio("max-reject-ratio", *f.maxReject)
	s.cfg.BreakerWindow = dur("breaker-window", *f.breakerWindow, false)
	s.watch = dur("watch-rules", *f.watch, true)
	if *f.canaryMin < 1 {
		bad("canary-min-records", strconv.Itoa(*f.canaryMin), "1 or more")
	}
	if *f.breakerMin < 1 {
		bad("breaker-min-records", strconv.Itoa(*f.breakerMin), "1 or more")
	}
	s.cfg.CanaryMinRecords, s.cfg.BreakerMinRecords = *f.canaryMin, *f.breakerMin
	if s.cfg.Mode == release.ModeCanary && s.candidate == "" {
		*problems = append(*problems, "--candidate-mode canary needs --candidate-rules")
	}
	if s.cfg.CanaryShare == 0 && s.cfg.Mode == release.ModeCanary {
		// The controller reads zero as its default; say what was asked.
		bad("canary-share", *f.share, "more than 0 in canary mode")
	}
	return s
}

// ruleSources says where a worker's rules come from, so that they can be
// loaded again on a reload.
type ruleSources struct {
	// live loads the live rules.
	live func() (*mapper.Engine, error)
	// candidate loads a candidate rules directory (with the live schemas).
	candidate func(dir string) (*mapper.Engine, error)
	// dirs are the directories --watch-rules polls, besides the candidate's.
	dirs []string
	// gate, when not nil, must accept rule sets before they are swapped in
	// (the schema registry's compatibility check).
	gate func(live, cand *mapper.Engine) error
}

// loader returns the release.Loader of the live rules and, when dir is not
// empty, the candidate rules in dir. Problems of both are reported together.
func (rs ruleSources) loader(dir string) release.Loader {
	return func() (*mapper.Engine, *mapper.Engine, error) {
		live, err := rs.live()
		var cand *mapper.Engine
		var cerr error
		if dir != "" {
			cand, cerr = rs.candidate(dir)
		}
		if err == nil && cerr == nil {
			if rs.gate != nil {
				if gerr := rs.gate(live, cand); gerr != nil {
					return nil, nil, gerr
				}
			}
			return live, cand, nil
		}
		var a, b *mapper.LoadError
		switch {
		case errors.As(err, &a) && errors.As(cerr, &b):
			return nil, nil, &mapper.LoadError{Problems: append(slices.Clone(a.Problems), b.Problems...)}
		case err != nil && cerr != nil:
			return nil, nil, errors.Join(err, cerr)
		case err != nil:
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("candidate rules: %w", cerr)
	}
}

// newRelease loads the candidate (if any) and builds the release controller
// and its reloader. Problems with the candidate rules are returned with
// their positions.
func newRelease(e *env, s releaseSettings, rs ruleSources, live *mapper.Engine, ev release.Events, logger *slog.Logger) (*release.Controller, *release.Reloader, error) {
	dirs := slices.Clone(rs.dirs)
	if s.candidate != "" {
		dirs = append(dirs, s.candidate)
	}
	load := rs.loader(s.candidate)
	cfg := s.cfg
	cfg.Live, cfg.Events, cfg.Logger = live, ev, logger
	if s.candidate != "" {
		cand, err := rs.candidate(s.candidate)
		if err != nil {
			return nil, nil, fmt.Errorf("candidate rules %s:\n%w", s.candidate, err)
		}
		cfg.Candidate = cand
	}
	c, err := release.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	reloader := release.NewReloader(c, load, dirs...)
	reloader.Out, reloader.Logger = e.stderr, logger
	reloader.OnReload = func(err error) {
		if err == nil {
			st := c.Status()
			fmt.Fprintf(e.stderr, "mapper: rules reloaded: live %s%s\n", versionsText(st.Rules), candidateText(st.Candidate))
		}
	}
	return c, reloader, nil
}

func versionsText(m map[string]int) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s v%d", n, m[n])
	}
	return strings.Join(parts, ", ")
}

func candidateText(c *release.CandidateStatus) string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf("; candidate (%s) %s", c.Mode, versionsText(c.Versions))
}

// writeReleaseSummary writes the candidate's verdicts and canary counts
// per source, and the sources the breaker paused, for the demo's summary.
func writeReleaseSummary(out io.Writer, st release.Status) {
	if c := st.Candidate; c != nil {
		fmt.Fprintf(out, "\ncandidate rules (%s)\n", c.Mode)
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "source\tlive\tcandidate")
		for _, v := range mapper.Verdicts() {
			fmt.Fprintf(tw, "\t%s", v)
		}
		if c.Mode == release.ModeCanary {
			fmt.Fprintf(tw, "\tlive records\tcanary records")
		}
		fmt.Fprintln(tw)
		for _, s := range c.Sources {
			fmt.Fprintf(tw, "%s\tv%d\tv%d", s.Source, s.RulesVersion, s.CandidateVersion)
			for _, v := range mapper.Verdicts() {
				fmt.Fprintf(tw, "\t%d", s.Verdicts[v])
			}
			if c.Mode == release.ModeCanary {
				fmt.Fprintf(tw, "\t%d\t%d", s.LiveRecords, s.CanaryRecords)
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
		for _, s := range c.Sources {
			if s.RolledBack != nil {
				fmt.Fprintf(out, "ROLLED BACK %s: %s\n", s.Source, s.RolledBack.Reason)
			}
		}
	}
	for _, p := range st.Paused {
		fmt.Fprintf(out, "PAUSED %s\n", p.Reason)
	}
}

// dirRuleSources are the rules of the --rules and --schemas directories;
// candidate rules use the same schemas.
func dirRuleSources(dirs ruleDirs) ruleSources {
	return ruleSources{
		live: dirs.load,
		candidate: func(dir string) (*mapper.Engine, error) {
			if sch, ok := candidateSchemas(dir); ok {
				return mapper.Load(dir, sch, dirs.options())
			}
			return mapper.Load(dir, *dirs.schemas, dirs.options())
		},
		dirs: []string{*dirs.rules, *dirs.schemas},
	}
}

// candidateSchemas is the schemas directory a candidate carries: DIR/schemas
// beside candidate rules in DIR/rules, as mapper suggest writes them, so
// that the candidate's contract edits are tried with its rules.
func candidateSchemas(rules string) (string, bool) {
	if filepath.Base(filepath.Clean(rules)) != "rules" {
		return "", false
	}
	sch := filepath.Join(filepath.Dir(filepath.Clean(rules)), "schemas")
	if st, err := os.Stat(sch); err == nil && st.IsDir() {
		return sch, true
	}
	return "", false
}

// demoRuleSources are the demo's rules: the directories the flags name when
// fromDirs, else the rules and schemas built into the binary. Candidate
// rules are always a directory, with the same schemas as the live rules.
func demoRuleSources(dirs ruleDirs, fromDirs bool) ruleSources {
	if fromDirs {
		return dirRuleSources(dirs)
	}
	return ruleSources{
		live: func() (*mapper.Engine, error) {
			return mapper.LoadFS(mapperfiles.Rules(), "rules", mapperfiles.Schemas(), "schemas", dirs.options())
		},
		candidate: func(dir string) (*mapper.Engine, error) {
			if sch, ok := candidateSchemas(dir); ok {
				return mapper.Load(dir, sch, dirs.options())
			}
			return mapper.LoadFS(os.DirFS(dir), dir, mapperfiles.Schemas(), "schemas", dirs.options())
		},
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/replay"
	"github.com/mapperhq/mapper/mapper/samples"
)

// exactReplay runs mapper replay --input: every payload of files mapped
// with the baseline rules and with the candidate (--rules).
func exactReplay(ctx context.Context, e *env, rd ruleDirs, baselineDir, samplesDir, source string, files []string, asJSON bool, sortBy string) int {
	if source == "" {
		fmt.Fprintln(e.stderr, "mapper replay: --input needs --source NAME (and --baseline-rules DIR unless the samples tell the version)")
		return exitUsage
	}
	cand, err := rd.load()
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper replay: candidate rules: %v\n", err)
		return exitFailure
	}
	if baselineDir == "" {
		src := cand.Source(source)
		v := capturedVersion(samplesDir, source)
		if src == nil || v == 0 {
			fmt.Fprintf(e.stderr, "mapper replay: give --baseline-rules DIR: no samples of %q in %s tell which rules version to compare with\n", source, samplesDir)
			return exitUsage
		}
		dir, cleanup, err := baselineFromGit(ctx, src, v)
		if err != nil {
			fmt.Fprintf(e.stderr, "mapper replay: give --baseline-rules DIR: the samples were captured with %s rules v%d, not found: %v\n", source, v, err)
			return exitFailure
		}
		defer cleanup()
		fmt.Fprintf(e.stderr, "mapper replay: baseline: %s rules v%d (the samples' version) from git history\n", source, v)
		baselineDir = dir
	}
	base, err := loadRulesDir(rd, baselineDir)
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper replay: baseline rules: %v\n", err)
		return exitFailure
	}
	after, before := cand.Source(source), base.Source(source)
	if after == nil || before == nil {
		fmt.Fprintf(e.stderr, "mapper replay: source %q must be in both %s (sources: %s) and %s (sources: %s)\n",
			source, *rd.rules, sourceNames(cand), baselineDir, sourceNames(base))
		return exitFailure
	}
	in, closeAll, err := openInputs(files)
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper replay: %v\n", err)
		return exitFailure
	}
	defer closeAll()
	rep, err := replay.Exact(ctx, before, after, in, replay.ExactOptions{})
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper replay: %v\n", err)
		return exitFailure
	}
	rep.SortRows(sortBy)
	if asJSON {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper replay: %v\n", err)
		return exitFailure
	}
	if rep.Regressed() {
		return exitFailure
	}
	return exitOK
}

// loadRulesDir loads another rules directory with the schemas and payload
// guards the flags give.
func loadRulesDir(rd ruleDirs, rules string) (*mapper.Engine, error) {
	other := rd
	other.rules = &rules
	return other.load()
}

// openInputs makes one stream of payload lines of files: a *.json file that
// holds one JSON document becomes one line (compacted); any other file is
// read as JSON lines. Every file is opened before any is read, so a missing
// file fails before any mapping.
func openInputs(files []string) (io.Reader, func(), error) {
	var readers []io.Reader
	var opened []*os.File
	closeAll := func() {
		for _, f := range opened {
			f.Close()
		}
	}
	for _, name := range files {
		if strings.HasSuffix(name, ".json") {
			b, err := os.ReadFile(name)
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("read input: %w", err)
			}
			var buf bytes.Buffer
			if json.Compact(&buf, b) == nil {
				buf.WriteByte('\n')
				readers = append(readers, &buf)
				continue
			}
			readers = append(readers, bytes.NewReader(b), strings.NewReader("\n"))
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("read input: %w", err)
		}
		opened = append(opened, f)
		readers = append(readers, f, strings.NewReader("\n"))
	}
	return io.MultiReader(readers...), closeAll, nil
}

// profilesIn returns a lookup of the value profiles of a samples directory
// for replay; a profile that cannot be read is reported and ignored.
func profilesIn(dir string, e *env) func(source, category string) (samples.ValueProfile, bool) {
	return func(source, category string) (samples.ValueProfile, bool) {
		p, ok, err := samples.ReadValues(dir, source, category)
		if err != nil {
			fmt.Fprintf(e.stderr, "mapper replay: %v (projecting from the samples alone)\n", err)
			return p, false
		}
		return p, ok
	}
}

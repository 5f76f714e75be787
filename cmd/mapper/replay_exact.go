package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/registry"
	"github.com/mapperhq/mapper/mapper/replay"
	"github.com/mapperhq/mapper/mapper/samples"
)

// exactArgs are the flags of mapper replay --input.
type exactArgs struct {
	rd                           ruleDirs
	baselineDir, baselineSchemas string
	samplesDir, source           string
	files                        []string
	asJSON                       bool
	sortBy                       string
	show                         int
	// gate checks the candidate's output schemas against the registry
	// (see cmdReplay.gate); unframe says input lines in the wire format
	// are unframed (--schema-registry).
	gate    func(context.Context, *mapper.Engine) (code int, refused bool)
	unframe bool
}

// exactReplay runs mapper replay --input: every payload of files mapped
// with the baseline rules (on the baseline schemas) and with the candidate
// (--rules on --schemas).
func exactReplay(ctx context.Context, e *env, a exactArgs) int {
	rd, source := a.rd, a.source
	if source == "" {
		fmt.Fprintln(e.stderr, "mapper replay: --input needs --source NAME (and --baseline-rules DIR unless the samples tell the version)")
		return exitUsage
	}
	cand, err := rd.load()
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper replay: candidate rules: %v\n", err)
		return exitFailure
	}
	gate, refused := a.gate(ctx, cand)
	if gate != exitOK && !refused {
		return gate
	}
	baselineDir := a.baselineDir
	if baselineDir == "" {
		src := cand.Source(source)
		v := capturedVersion(a.samplesDir, source)
		if src == nil || v == 0 {
			fmt.Fprintf(e.stderr, "mapper replay: give --baseline-rules DIR: no samples of %q in %s tell which rules version to compare with\n", source, a.samplesDir)
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
	schemas := *rd.schemas
	if a.baselineSchemas != "" {
		schemas = a.baselineSchemas
	}
	base, err := loadRulesDir(rd, baselineDir, schemas)
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
	in, closeAll, err := openInputs(a.files, a.unframe)
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper replay: %v\n", err)
		return exitFailure
	}
	defer closeAll()
	rep, err := replay.Exact(ctx, before, after, in, replay.ExactOptions{Show: a.show})
	if err == nil && len(rep.Examples) > 0 {
		err = locateExamples(rep, a.files, a.unframe)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper replay: %v\n", err)
		return exitFailure
	}
	rep.SortRows(a.sortBy)
	if a.asJSON {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper replay: %v\n", err)
		return exitFailure
	}
	if rep.Regressed() || refused {
		return exitFailure
	}
	return exitOK
}

// locateExamples reads the input files again to name the file and line of
// each example (the file alone for a *.json file read as one payload);
// with unframe, lines are payload lines (see openInput).
func locateExamples(rep *replay.ExactReport, files []string, unframe bool) error {
	for _, name := range files {
		in, whole, closeIn, err := openInput(name, unframe)
		if err != nil {
			return err
		}
		r := bufio.NewReaderSize(in, 64<<10)
		for n := 1; ; n++ {
			line, err := r.ReadSlice('\n')
			for errors.Is(err, bufio.ErrBufferFull) {
				// Past the buffer: too long to be worth naming; skip it.
				line = nil
				_, err = r.ReadSlice('\n')
			}
			if t := bytes.TrimRight(line, "\r\n"); len(bytes.TrimSpace(t)) > 0 {
				ref := fmt.Sprintf("%s:%d", name, n)
				if whole {
					ref = name
				}
				rep.Locate(ref, t)
			}
			if err != nil {
				closeIn()
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("read input: %w", err)
			}
		}
	}
	return nil
}

// loadRulesDir loads another rules and schemas directory with the payload
// guards the flags give.
func loadRulesDir(rd ruleDirs, rules, schemas string) (*mapper.Engine, error) {
	other := rd
	other.rules, other.schemas = &rules, &schemas
	return other.load()
}

// openInputs makes one stream of payload lines of files (see openInput).
// Every file is opened before any is read, so a missing file fails before
// any mapping.
func openInputs(files []string, unframe bool) (io.Reader, func(), error) {
	var readers []io.Reader
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	for _, name := range files {
		r, _, closeIn, err := openInput(name, unframe)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		closers = append(closers, closeIn)
		readers = append(readers, r, strings.NewReader("\n"))
	}
	return io.MultiReader(readers...), closeAll, nil
}

// openInput reads one input file as payload lines: a *.json file that
// holds one JSON document becomes one line (compacted; whole is true); any
// other file is read as JSON lines. With unframe, a line in the Confluent
// wire format (a capture of framed records) is read as its payload.
func openInput(name string, unframe bool) (r io.Reader, whole bool, closeIn func(), err error) {
	r, whole, closeIn, err = openPlainInput(name)
	if err == nil && unframe && !whole {
		r = registry.UnframeLines(r)
	}
	return r, whole, closeIn, err
}

func openPlainInput(name string) (r io.Reader, whole bool, closeIn func(), err error) {
	if strings.HasSuffix(name, ".json") {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, false, nil, fmt.Errorf("read input: %w", err)
		}
		var buf bytes.Buffer
		if json.Compact(&buf, b) == nil {
			return &buf, true, func() {}, nil
		}
		return bytes.NewReader(b), false, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, false, nil, fmt.Errorf("read input: %w", err)
	}
	return f, false, func() { f.Close() }, nil
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

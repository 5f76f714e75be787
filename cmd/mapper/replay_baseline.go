package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// maxBaselineCommits bounds how far back the rule file's history is read.
const maxBaselineCommits = 500

var versionLine = regexp.MustCompile(`(?m)^version:\s*(\d+)\s*(#.*)?$`)

// capturedVersion is the rules version the samples of source were
// captured with (samples.Counts), or 0 when unknown.
func capturedVersion(samplesDir, source string) int {
	counts, err := samples.Counts(samplesDir)
	if err != nil {
		return 0
	}
	return counts[source].RulesVersion
}

// baselineFromGit finds, in the git history of the source's rule file, the
// newest version of the file whose version is version, and writes a rules
// directory with it (and the other rule files as they are now) into a new
// temporary directory. cleanup removes it.
func baselineFromGit(ctx context.Context, src *mapper.Source, version int) (dir string, cleanup func(), err error) {
	file, err := filepath.Abs(src.File())
	if err != nil {
		return "", nil, err
	}
	rulesDir := filepath.Dir(file)
	top, err := git(ctx, rulesDir, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", nil, fmt.Errorf("the rules are not in a git repository: %w", err)
	}
	top = strings.TrimSpace(top)
	if t, err := filepath.EvalSymlinks(top); err == nil {
		top = t
	}
	if f, err := filepath.EvalSymlinks(file); err == nil {
		file = f
	}
	rel, err := filepath.Rel(top, file)
	if err != nil {
		return "", nil, err
	}
	rel = filepath.ToSlash(rel)
	log, err := git(ctx, top, "log", "--format=%H", "-n", strconv.Itoa(maxBaselineCommits), "--", rel)
	if err != nil {
		return "", nil, err
	}
	for _, commit := range strings.Fields(log) {
		text, err := git(ctx, top, "show", commit+":"+rel)
		if err != nil {
			continue
		}
		m := versionLine.FindStringSubmatch(text)
		if m == nil || m[1] != strconv.Itoa(version) {
			continue
		}
		dir, err := os.MkdirTemp("", "mapper-baseline-")
		if err != nil {
			return "", nil, err
		}
		cleanup := func() { os.RemoveAll(dir) }
		if err := writeCandidate(rulesDir, dir, filepath.Base(file), []byte(text)); err != nil {
			cleanup()
			return "", nil, err
		}
		return dir, cleanup, nil
	}
	return "", nil, fmt.Errorf("no commit of %s has version %d", rel, version)
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			return "", fmt.Errorf("git %s: %w", args[0], err)
		}
		return "", errors.New("git " + args[0] + ": " + msg)
	}
	return out.String(), nil
}

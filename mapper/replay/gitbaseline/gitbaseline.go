// Package gitbaseline finds an earlier version of a rule file in its git
// history: the rules a replay compares today's rules with when the samples
// say which version captured them. It runs the git command; it keeps no
// state and is safe for concurrent use.
package gitbaseline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// MaxCommits bounds how far back a rule file's history is read.
const MaxCommits = 500

// versionLine is the rule file's top-level version line.
var versionLine = regexp.MustCompile(`(?m)^version:\s*(\d+)\s*(#.*)?$`)

// ErrNotFound is returned (wrapped) when no commit of the file's last
// MaxCommits has the version asked for.
var ErrNotFound = errors.New("version not found in the file's history")

// Find returns the text of the rule file at path in the newest of its
// commits whose `version:` is version. The file must be in a git work
// tree; the git command must be on PATH.
func Find(ctx context.Context, path string, version int) ([]byte, error) {
	file, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	top, err := git(ctx, filepath.Dir(file), "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("the rules are not in a git repository: %w", err)
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
		return nil, err
	}
	rel = filepath.ToSlash(rel)
	log, err := git(ctx, top, "log", "--format=%H", "-n", strconv.Itoa(MaxCommits), "--", rel)
	if err != nil {
		return nil, err
	}
	for _, commit := range strings.Fields(log) {
		text, err := git(ctx, top, "show", commit+":"+rel)
		if err != nil {
			continue
		}
		if m := versionLine.FindStringSubmatch(text); m != nil && m[1] == strconv.Itoa(version) {
			return []byte(text), nil
		}
	}
	return nil, fmt.Errorf("no commit of %s has version %d: %w", rel, version, ErrNotFound)
}

// git runs git in dir and returns its output; an error carries git's own
// message.
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

package mapperfiles

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// maxReadmeLines bounds the front door: the manual lives in docs/.
const maxReadmeLines = 300

func TestReadmeIsAFrontDoor(t *testing.T) {
	lines := readLines(t, "README.md")
	if len(lines) > maxReadmeLines {
		t.Errorf("README.md has %d lines, want at most %d (move the detail to docs/)", len(lines), maxReadmeLines)
	}
	if !contains(lines, "## Contents") {
		t.Error(`README.md has no "## Contents" list`)
	}
	if !contains(lines, "## Quick start (Go is all it needs)") {
		t.Error("README.md has no quick start (scripts/readme-check.sh runs the block under it)")
	}
}

// TestDocLinksResolve checks every relative link of README.md and docs/*.md:
// the file it names exists, and so does the heading its #anchor names.
func TestDocLinksResolve(t *testing.T) {
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, "README.md")
	anchors := map[string]map[string]bool{}
	for _, p := range pages {
		anchors[filepath.Clean(p)] = headingAnchors(readLines(t, p))
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, p := range pages {
		for i, line := range readLines(t, p) {
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, anchor, _ := strings.Cut(target, "#")
				resolved := filepath.Clean(p)
				if file != "" {
					resolved = filepath.Clean(filepath.Join(filepath.Dir(p), file))
					if _, err := os.Stat(resolved); err != nil {
						t.Errorf("%s:%d: link %q: %v", p, i+1, target, err)
						continue
					}
				}
				if anchor == "" || !strings.HasSuffix(resolved, ".md") {
					continue
				}
				known, ok := anchors[resolved]
				if !ok {
					known = headingAnchors(readLines(t, resolved))
					anchors[resolved] = known
				}
				if !known[anchor] {
					t.Errorf("%s:%d: link %q: %s has no heading with anchor #%s", p, i+1, target, resolved, anchor)
				}
			}
		}
	}
}

func TestHeadingAnchor(t *testing.T) {
	tests := []struct{ heading, want string }{
		{"Quick start (Go is all it needs)", "quick-start-go-is-all-it-needs"},
		{"The streaming worker: mapper run", "the-streaming-worker-mapper-run"},
		{"Sharing samples across workers: `--samples-topic`", "sharing-samples-across-workers---samples-topic"},
		{"4. Ship, and redrive what was rejected", "4-ship-and-redrive-what-was-rejected"},
	}
	for _, tt := range tests {
		if got := anchorOf(tt.heading); got != tt.want {
			t.Errorf("anchorOf(%q) = %q, want %q", tt.heading, got, tt.want)
		}
	}
}

// headingAnchors returns the anchors a Markdown renderer gives the page's
// headings (code blocks skipped).
func headingAnchors(lines []string) map[string]bool {
	out := map[string]bool{}
	fenced := false
	for _, l := range lines {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
		}
		if fenced || !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.TrimLeft(l, "#")
		if !strings.HasPrefix(h, " ") {
			continue
		}
		out[anchorOf(h)] = true
	}
	return out
}

// anchorOf is the GitHub-style anchor of a heading: lower case, punctuation
// other than '-' and '_' dropped, spaces turned into '-'.
func anchorOf(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	if err := s.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return lines
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

package gitbaseline

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindReadsTheVersionFromHistory(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed (CI installs it with the repository)")
	}
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	file := filepath.Join(repo, "rules", "orders.yaml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1", "2", "2 # comment kept", "3"} {
		text := "source: orders\nversion: " + v + "\nfields: {}\n"
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		git("add", ".")
		git("commit", "-q", "-m", "v"+v)
	}
	ctx := context.Background()
	t.Run("the newest commit of the version is returned", func(t *testing.T) {
		got, err := Find(ctx, file, 2)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(got), "version: 2 # comment kept") {
			t.Errorf("got %q, want the newest version 2", got)
		}
	})
	t.Run("an older version is found", func(t *testing.T) {
		got, err := Find(ctx, file, 1)
		if err != nil || !strings.Contains(string(got), "version: 1\n") {
			t.Errorf("got %q, %v", got, err)
		}
	})
	t.Run("a version never committed is ErrNotFound", func(t *testing.T) {
		if _, err := Find(ctx, file, 9); !errors.Is(err, ErrNotFound) {
			t.Errorf("err %v, want ErrNotFound", err)
		}
	})
	t.Run("a file outside git is refused", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "orders.yaml")
		if err := os.WriteFile(out, []byte("version: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Find(ctx, out, 1); err == nil || !strings.Contains(err.Error(), "not in a git repository") {
			t.Errorf("err %v", err)
		}
	})
}

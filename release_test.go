package mapperfiles

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReleaseScriptBuildsStampedStaticBinaries runs scripts/release.sh for
// this machine's platform into a temporary directory, and
// checks what it leaves there: one binary per platform, each stamped with
// the commit of HEAD, an unmodified tree, the module version and
// CGO_ENABLED=0, the linux ones without a dynamic loader, and a SHA256SUMS
// that matches them. It needs git, bash and a checkout.
func TestReleaseScriptBuildsStampedStaticBinaries(t *testing.T) {
	for _, tool := range []string{"git", "bash", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: cannot run scripts/release.sh", tool)
		}
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not inside a git checkout (git rev-parse: %v)", err)
	}
	commit := strings.TrimSpace(string(head))
	// This machine's platform only: a cross build compiles everything again
	// for the other platform (minutes on a cold cache, in every `go test
	// ./...`); docs/deployment.md shows the four built and checked.
	platforms := []string{runtime.GOOS + "/" + runtime.GOARCH}

	dist := filepath.Join(t.TempDir(), "dist")
	cmd := exec.Command("bash", "scripts/release.sh")
	cmd.Env = append(os.Environ(), "DIST="+dist, "PLATFORMS="+strings.Join(platforms, " "))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/release.sh: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "commit "+commit) {
		t.Errorf("the script did not show `mapper version` naming %s:\n%s", commit, stderr.String())
	}

	sums := readSums(t, filepath.Join(dist, "SHA256SUMS"))
	if len(sums) != len(platforms) {
		t.Errorf("SHA256SUMS lists %d files, want %d: %v", len(sums), len(platforms), sums)
	}
	for _, p := range platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		var name string
		for n := range sums {
			if strings.HasPrefix(n, "mapper_") && strings.HasSuffix(n, "_"+goos+"_"+goarch) {
				name = n
			}
		}
		if name == "" {
			t.Errorf("no binary for %s in SHA256SUMS: %v", p, sums)
			continue
		}
		bin := filepath.Join(dist, name)
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sums[name] {
			t.Errorf("%s: SHA256SUMS says %s, the file is %x", name, sums[name], sum)
		}
		info, err := buildinfo.ReadFile(bin)
		if err != nil {
			t.Fatalf("%s: no build information: %v", name, err)
		}
		if v := info.Main.Version; v == "" || v == "(devel)" {
			t.Errorf("%s: module version %q, want the tag or a pseudo-version", name, v)
		}
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		for k, want := range map[string]string{"vcs.revision": commit, "vcs.modified": "false", "CGO_ENABLED": "0",
			"GOOS": goos, "GOARCH": goarch, "-trimpath": "true"} {
			if settings[k] != want {
				t.Errorf("%s: build setting %s=%q, want %q", name, k, settings[k], want)
			}
		}
		// A darwin program always links the system's libSystem; a linux
		// one must need no loader at all.
		if goos == "linux" {
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatalf("%s: not an ELF binary: %v", name, err)
			}
			for _, prog := range f.Progs {
				if prog.Type == elf.PT_INTERP {
					t.Errorf("%s asks for a dynamic loader: not static", name)
				}
			}
			f.Close()
		}
	}
}

// readSums reads a sha256sum file: file name to hex digest.
func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("%s: not a sha256sum line: %q", path, sc.Text())
		}
		sums[name] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sums
}

package mapperfiles

import (
	"bytes"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// maxTrackedBytes is the largest file the repository may track.
const maxTrackedBytes = 5 << 20

// TestTrackedFilesHoldNoBinaryNorHugeFile checks what git tracks: no file
// over 5 MB, and no executable program (ELF, Mach-O, PE, or any file with
// an executable bit that is not a script starting with "#!"). Build
// outputs belong in .gitignore. It needs a git checkout.
func TestTrackedFilesHoldNoBinaryNorHugeFile(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: cannot list the tracked files")
	}
	out, err := exec.Command("git", "ls-files", "-z", "--stage").Output()
	if err != nil {
		t.Skipf("not inside a git checkout (git ls-files: %v)", err)
	}
	n := 0
	for _, entry := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		// "<mode> <object> <stage>\t<path>"
		meta, path, ok := strings.Cut(entry, "\t")
		if !ok {
			t.Fatalf("git ls-files: unexpected line %q", entry)
		}
		data, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if len(data) > maxTrackedBytes {
			t.Errorf("%s is %d bytes, over %d: keep large files out of the repository", path, len(data), maxTrackedBytes)
		}
		if kind := executableKind(data); kind != "" {
			t.Errorf("%s is a %s executable: build outputs must not be committed", path, kind)
		}
		if strings.HasPrefix(meta, "100755") && !bytes.HasPrefix(data, []byte("#!")) {
			t.Errorf("%s is tracked as executable but is not a script starting with #!", path)
		}
	}
	if n == 0 {
		t.Fatal("git ls-files listed no file")
	}
}

// executableKind names the executable format of data, "" if none.
func executableKind(data []byte) string {
	r := bytes.NewReader(data)
	if f, err := elf.NewFile(r); err == nil {
		f.Close()
		return "ELF"
	}
	if f, err := macho.NewFile(r); err == nil {
		f.Close()
		return "Mach-O"
	}
	if f, err := pe.NewFile(r); err == nil {
		f.Close()
		return "PE"
	}
	return ""
}

func TestExecutableKindRecognisesPrograms(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if got := executableKind(data); got == "" {
		t.Errorf("the test binary itself was not recognised as an executable")
	}
	for _, text := range []string{"#!/bin/sh\necho hi\n", `{"json": true}`, ""} {
		if got := executableKind([]byte(text)); got != "" {
			t.Errorf("executableKind(%q) = %q, want none", text, got)
		}
	}
}

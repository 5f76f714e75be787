package samples

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
)

const crashDirEnv = "MAPPER_SAMPLES_CRASH_CHILD_DIR"

// TestKillDuringWritesLeavesEveryFileReadable runs a child process (this
// test binary) that writes samples as fast as it can, kills it at a random
// moment, and reads every file back. Repeated on the same directory, so
// that each run also takes up what the killed one left.
func TestKillDuringWritesLeavesEveryFileReadable(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		writeForever(dir)
		return
	}
	dir := t.TempDir()
	rnd := rand.New(seeded(42))
	for round := 0; round < 5; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringWritesLeavesEveryFileReadable$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		deadline := started.Add(20 * time.Second)
		for !writtenSince(dir, started) && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(time.Duration(rnd.IntN(30)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if err == nil || cmd.ProcessState.Exited() {
			t.Fatalf("round %d: the writer was not killed mid-run (err %v): %s", round, err, stderr.String())
		}

		files := 0
		err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".jsonl") || strings.HasPrefix(d.Name(), ".") {
				return err
			}
			files++
			ss, err := ReadFile(p)
			if err != nil {
				return err
			}
			if len(ss) == 0 {
				return fmt.Errorf("%s is empty", p)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: after a kill: %v", round, err)
		}
		if files == 0 {
			t.Fatalf("round %d: no sample file written before the kill", round)
		}
		if _, err := List(dir); err != nil {
			t.Fatalf("round %d: List after a kill: %v", round, err)
		}
		s, err := Open(Config{Dir: dir})
		if err != nil {
			t.Fatalf("round %d: reopen after a kill: %v", round, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		tmps, _ := filepath.Glob(filepath.Join(dir, "*", "*", ".tmp-*"))
		if len(tmps) > 0 {
			t.Fatalf("round %d: reopen left temporary files %v", round, tmps)
		}
	}
}

// writtenSince reports whether the store in dir has written its index
// since t: the child is running and writing.
func writtenSince(dir string, t time.Time) bool {
	fi, err := os.Stat(filepath.Join(dir, indexFile))
	return err == nil && fi.ModTime().After(t)
}

// writeForever is the child: it never returns; the parent kills it.
func writeForever(dir string) {
	s, err := Open(Config{Dir: dir, PerCategory: 20, FlushInterval: time.Millisecond, QueueSize: 64})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	rnd := rand.New(seeded(uint64(os.Getpid())))
	for i := 0; ; i++ {
		f := mapper.Failure{
			Reason: mapper.ReasonUnexpectedField,
			Field:  fmt.Sprint("field", rnd.IntN(6)),
			Detail: strings.Repeat("x", rnd.IntN(4000)),
		}
		s.Observe(&mapper.Origin{Topic: "crash", Offset: int64(i)}, nil, nil, rejected(f), 0)
		if i%64 == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

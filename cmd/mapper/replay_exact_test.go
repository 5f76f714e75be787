package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func ordersArgs(rules string) []string {
	return []string{"--rules", filepath.Join(replayTestdata, rules), "--schemas", filepath.Join(replayTestdata, "orders-schemas")}
}

func TestReplayInputIsExact(t *testing.T) {
	capture := filepath.Join(replayTestdata, "orders-2000.jsonl")
	tests := []struct {
		name     string
		baseline string
		rules    string
		code     int
		want     []string
	}{
		{"accepting on-hold maps every on-hold record", "orders-v1", "orders-v2-on-hold", exitOK,
			[]string{"rules v1 → v2, every one of 2000 records", "(+23 records delivered)", "ok: 2000 records, 23 now mapped, none newly failing"}},
		{"going back regresses them and exits 1", "orders-v2-on-hold", "orders-v1", exitFailure,
			[]string{"REGRESSION: 23 of 2000 records newly failing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"replay", "--source", "orders", "--baseline-rules", filepath.Join(replayTestdata, tc.baseline)}, ordersArgs(tc.rules)...)
			code, out, errOut := runMapperCLI(t, nil, append(args, "--input", capture)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("a single JSON file is one payload and a missing file fails before mapping", func(t *testing.T) {
		one := filepath.Join(t.TempDir(), "one.json")
		if err := os.WriteFile(one, []byte("{\n  \"order_id\": \"A\",\n  \"status\": \"on-hold\"\n}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"replay", "--source", "orders", "--baseline-rules", filepath.Join(replayTestdata, "orders-v1")}, ordersArgs("orders-v2-on-hold")...)
		code, out, errOut := runMapperCLI(t, nil, append(args, "--input", one)...)
		if code != exitOK || !strings.Contains(out, "every one of 1 records") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		code, _, errOut = runMapperCLI(t, nil, append(args, "--input", one, filepath.Join(t.TempDir(), "missing.jsonl"))...)
		if code != exitFailure || !strings.Contains(errOut, "missing.jsonl") {
			t.Fatalf("missing file: exit %d: %s", code, errOut)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"replay", "--input", capture},
			{"replay", "--baseline-rules", "x"},
			{"replay", "--sort", "size"},
		} {
			if code, _, _ := runMapperCLI(t, nil, args...); code != exitUsage {
				t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
			}
		}
	})
}

// TestReplayInputBaselineFromGit: without --baseline-rules, exact replay
// compares with the version of the rule file the samples were captured
// with, taken from the rule file's git history.
func TestReplayInputBaselineFromGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed (CI installs it with the repository)")
	}
	repo := t.TempDir()
	rules := filepath.Join(repo, "rules")
	if err := os.MkdirAll(rules, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	copyFile(filepath.Join(replayTestdata, "orders-v1", "orders.yaml"), filepath.Join(rules, "orders.yaml"))
	git("add", ".")
	git("commit", "-qm", "v1")
	capture := filepath.Join(replayTestdata, "orders-2000.jsonl")
	schemas := filepath.Join(replayTestdata, "orders-schemas")
	dir := filepath.Join(t.TempDir(), "samples")
	if code, out, errOut := runMapperCLI(t, nil, "samples", "add", "--samples", dir, "--source", "orders", "--rules", rules, "--schemas", schemas, capture); code != exitOK {
		t.Fatalf("samples add: %d\n%s%s", code, out, errOut)
	}
	// The edit, committed or not.
	copyFile(filepath.Join(replayTestdata, "orders-v2-on-hold", "orders.yaml"), filepath.Join(rules, "orders.yaml"))
	code, out, errOut := runMapperCLI(t, nil, "replay", "--samples", dir, "--source", "orders", "--rules", rules, "--schemas", schemas, "--input", capture)
	if code != exitOK || !strings.Contains(out, "rules v1 → v2") || !strings.Contains(out, "23 now mapped") || !strings.Contains(errOut, "rules v1 (the samples' version) from git history") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	t.Run("a version nowhere in the history is said", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "samples")
		if code, _, _ := runMapperCLI(t, nil, "samples", "add", "--samples", other, "--source", "orders", "--rules", rules, "--schemas", schemas, capture); code != exitOK {
			t.Fatal("samples add")
		}
		code, _, errOut := runMapperCLI(t, nil, "replay", "--samples", other, "--source", "orders", "--rules", rules, "--schemas", schemas, "--input", capture)
		if code != exitFailure || !strings.Contains(errOut, "no commit of rules/orders.yaml has version 2") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
}

// TestReplayInputBaselineSchemas: a schema fix shows in BEFORE only when
// the baseline runs on its own schemas.
func TestReplayInputBaselineSchemas(t *testing.T) {
	capture := filepath.Join(replayTestdata, "orders-2000.jsonl")
	base := []string{"replay", "--source", "orders", "--baseline-rules", filepath.Join(replayTestdata, "orders-v1"),
		"--rules", filepath.Join(replayTestdata, "orders-v1"), "--schemas", filepath.Join(replayTestdata, "orders-schemas-v2")}
	tests := []struct {
		name  string
		extra []string
		want  string
	}{
		{"without it the baseline runs on the candidate's schemas: the fix is invisible", nil,
			"ok: 2000 records, 0 now mapped"},
		{"with it the baseline runs on its own: the numeric amounts are now mapped",
			[]string{"--baseline-schemas", filepath.Join(replayTestdata, "orders-schemas")},
			"ok: 2000 records, 32 now mapped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append(append([]string{}, base...), tc.extra...), "--input", capture)
			code, out, errOut := runMapperCLI(t, nil, args...)
			if code != exitOK || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want a line %q\n%s%s", code, tc.want, out, errOut)
			}
		})
	}
	t.Run("it needs --input", func(t *testing.T) {
		if code, _, errOut := runMapperCLI(t, nil, "replay", "--baseline-schemas", "x"); code != exitUsage || !strings.Contains(errOut, "need --input") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
}

// TestReplayInputShowGolden holds the exact replay report with examples:
// a candidate that accepts on-hold and numeric amounts (a rule and a
// schema fix), drops refunded, and no longer redacts customer.email,
// which the examples must still mask.
func TestReplayInputShowGolden(t *testing.T) {
	capture := filepath.Join(replayTestdata, "orders-2000.jsonl")
	args := []string{"replay", "--source", "orders",
		"--baseline-rules", filepath.Join(replayTestdata, "orders-v1"), "--baseline-schemas", filepath.Join(replayTestdata, "orders-schemas"),
		"--rules", filepath.Join(replayTestdata, "orders-v3-mixed"), "--schemas", filepath.Join(replayTestdata, "orders-schemas-v2"),
		"--show", "2", "--input", capture}
	code, out, errOut := runMapperCLI(t, nil, args...)
	if code != exitFailure {
		t.Fatalf("exit %d, want 1 (refunded orders regress)\n%s%s", code, out, errOut)
	}
	for _, w := range []string{"== now mapped (" + capture + ":", "== newly failing (" + capture + ":", "== failing differently (" + capture + ":"} {
		if strings.Count(out, w) != 2 {
			t.Errorf("want 2 examples located as %q:\n%s", w, out)
		}
	}
	golden(t, filepath.Join("testdata", "replay", "exact-show.golden"), out)

	t.Run("--json carries the same examples, located", func(t *testing.T) {
		code, js, errOut := runMapperCLI(t, nil, append([]string{"replay", "--json"}, args[1:]...)...)
		if code != exitFailure {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var rep struct {
			Examples []struct{ Verdict, Ref, Diff string } `json:"examples"`
		}
		if err := json.Unmarshal([]byte(js), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Examples) != 6 {
			t.Fatalf("%d examples, want 6", len(rep.Examples))
		}
		for _, ex := range rep.Examples {
			if !strings.HasPrefix(ex.Ref, capture+":") || !strings.Contains(out, "("+ex.Ref+")\n"+ex.Diff) {
				t.Errorf("JSON example %s at %q is not the text's", ex.Verdict, ex.Ref)
			}
		}
	})
}

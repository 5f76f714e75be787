package main

import (
	"os"
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

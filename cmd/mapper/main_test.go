package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "update golden files")

// runCLI runs the command line with args and returns its exit code, stdout
// and stderr.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

// golden compares got with the golden file, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, clip(got), clip(string(want)))
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no command prints usage", nil, exitUsage, "usage: mapper <command>"},
		{"unknown command", []string{"mapp"}, exitUsage, `unknown command "mapp"`},
		{"help on a command", []string{"map", "--help"}, exitOK, "usage: mapper map --source NAME"},
		{"map without a source", []string{"map", "x.json"}, exitUsage, "--source is required"},
		{"map --summary without --lines", []string{"map", "--source", "orders", "--summary", "x.jsonl"}, exitUsage, "--summary counts the results of many payloads: add --lines"},
		{"map with an unknown source", []string{"map", "--rules", "../../rules", "--schemas", "../../schemas", "--source", "nope"}, exitFailure, `no source "nope"`},
		{"map with a missing file", []string{"map", "--rules", "../../rules", "--schemas", "../../schemas", "--source", "orders", "missing.json"}, exitFailure, "missing.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.msg)
			}
		})
	}
}

func TestEnvironmentSetsFlags(t *testing.T) {
	var out, errb bytes.Buffer
	env := map[string]string{"MAPPER_RULES": "testdata/broken-rules", "MAPPER_SCHEMAS": "../../schemas"}
	code := run(context.Background(), []string{"check"}, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	if code != exitFailure || !strings.Contains(errb.String(), "testdata/broken-rules/orders.yaml") {
		t.Errorf("MAPPER_RULES was not used: exit %d, %s", code, errb.String())
	}
}

package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

const replayTestdata = "../../mapper/replay/testdata"

// runMapperCLI runs the command line as main would, with env as the
// environment, and returns the exit code and outputs.
func runMapperCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return env[k] })
	return code, stdout.String(), stderr.String()
}

func rulesArgs(version string) []string {
	return []string{"--rules", filepath.Join(replayTestdata, version), "--schemas", filepath.Join(replayTestdata, "schemas")}
}

// addPayloads imports testdata/payloads.jsonl with the v1 rules into a new
// samples directory.
func addPayloads(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "samples")
	args := append([]string{"samples", "add", "--samples", dir, "--source", "shop-orders"}, rulesArgs("rules-v1")...)
	code, out, errOut := runMapperCLI(t, nil, append(args, filepath.Join(replayTestdata, "payloads.jsonl"))...)
	if code != exitOK {
		t.Fatalf("samples add: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"mapped 11 payloads from 1 files", "unknown_enum:state", "missing_field:customer.email", "malformed_payload"} {
		if !strings.Contains(out, want) {
			t.Errorf("samples add output lacks %q:\n%s", want, out)
		}
	}
	return dir
}

func TestSamplesListsCategoriesAfterAdd(t *testing.T) {
	dir := addPayloads(t)
	code, out, errOut := runMapperCLI(t, map[string]string{"MAPPER_SAMPLES": dir}, "samples")
	if code != exitOK {
		t.Fatalf("samples: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "SOURCE") {
		t.Fatalf("no header: %s", out)
	}
	rows := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		rows[f[1]] = f[2] + " " + f[3] // seen kept
	}
	want := map[string]string{
		"unknown_enum:state":           "3 3",
		"missing_field:customer.email": "2 2",
		"malformed_payload":            "1 1",
		"clean":                        "5 5",
	}
	for cat, w := range want {
		if rows[cat] != w {
			t.Errorf("category %s: seen/kept %q, want %q\n%s", cat, rows[cat], w, out)
		}
	}
}

func TestSamplesShowMarksTheFailingField(t *testing.T) {
	dir := addPayloads(t)
	tests := []struct {
		name     string
		category string
		want     []string
	}{
		{"present field is marked on its line", "unknown_enum:state", []string{`"state": "REFUNDED",  <-- unknown_enum`, "imported from payloads.jsonl:3", "rules v1"}},
		{"absent field is listed", "missing_field:customer.email", []string{"not in payload: customer.email (missing_field)"}},
		{"non-JSON payload is quoted", "malformed_payload", []string{"payload (not JSON)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMapperCLI(t, nil, "samples", "--samples", dir, "show", "--source", "shop-orders", "--category", tt.category)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestSamplesErrors(t *testing.T) {
	dir := addPayloads(t)
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"missing directory", []string{"samples", "--samples", filepath.Join(t.TempDir(), "none")}, exitFailure, "no samples in"},
		{"show needs a category", []string{"samples", "show", "--source", "shop-orders"}, exitUsage, "--category is required"},
		{"show of an empty category", []string{"samples", "--samples", dir, "show", "--source", "shop-orders", "--category", "out_of_range:x"}, exitFailure, "no samples of source"},
		{"unknown subcommand", []string{"samples", "rm"}, exitUsage, "unknown subcommand"},
		{"add needs a source", []string{"samples", "add", "x.json"}, exitUsage, "--source and at least one FILE"},
		{"add of an unknown source", append(append([]string{"samples", "add", "--samples", dir, "--source", "nope"}, rulesArgs("rules-v1")...), "x.json"), exitFailure, `no source "nope"`},
		{"add of a missing file", append(append([]string{"samples", "add", "--samples", dir, "--source", "shop-orders"}, rulesArgs("rules-v1")...), "/nonexistent.json"), exitFailure, "nonexistent.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runMapperCLI(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.wantErr)
			}
		})
	}
}

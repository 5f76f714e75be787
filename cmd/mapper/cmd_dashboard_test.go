package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func runDashboard(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"dashboard"}, args...), strings.NewReader(""), &stdout, &stderr,
		func(k string) string { return env[k] })
	return code, stdout.String(), stderr.String()
}

var shippedDirs = []string{"--rules", "../../rules", "--schemas", "../../schemas"}

func TestDashboardCommand(t *testing.T) {
	t.Run("prints one document to stdout without --out", func(t *testing.T) {
		code, out, errOut := runDashboard(t, nil, shippedDirs...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var set struct {
			Dashboard struct {
				LayoutType string `json:"layout_type"`
				Widgets    []any  `json:"widgets"`
			} `json:"dashboard"`
			Monitors []struct {
				Name string `json:"name"`
			} `json:"monitors"`
		}
		if err := json.Unmarshal([]byte(out), &set); err != nil {
			t.Fatalf("stdout is not the JSON set: %v\n%s", err, out)
		}
		if set.Dashboard.LayoutType != "ordered" || len(set.Dashboard.Widgets) < 2 || len(set.Monitors) < 2 {
			t.Errorf("set = %+v, want an ordered dashboard with source groups and monitors", set)
		}
	})
	t.Run("writes one file per API call with --out", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "datadog")
		code, out, errOut := runDashboard(t, map[string]string{"MAPPER_MONITOR_ENV": "prod"}, append(shippedDirs, "--out", dir)...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(data) {
				t.Errorf("%s is not JSON", e.Name())
			}
			if strings.HasPrefix(e.Name(), "monitor-") && !bytes.Contains(data, []byte("env:prod")) {
				t.Errorf("%s ignores MAPPER_MONITOR_ENV=prod", e.Name())
			}
		}
		if !slices.Contains(names, "dashboard.json") || !slices.Contains(names, "monitor-new-failure-categories.json") {
			t.Errorf("files = %q", names)
		}
		if got := strings.Count(out, "\n"); got != len(names) {
			t.Errorf("printed %d paths for %d files:\n%s", got, len(names), out)
		}
	})
	t.Run("missing rules directory fails with the loader's error", func(t *testing.T) {
		code, _, errOut := runDashboard(t, nil, "--rules", filepath.Join(t.TempDir(), "none"), "--schemas", "../../schemas")
		if code != exitFailure || !strings.Contains(errOut, "mapper dashboard:") {
			t.Errorf("exit %d, stderr %q; want 1 and an error", code, errOut)
		}
	})
	t.Run("an argument is a usage error", func(t *testing.T) {
		if code, _, _ := runDashboard(t, nil, append(shippedDirs, "extra")...); code != exitUsage {
			t.Errorf("exit %d, want %d", code, exitUsage)
		}
	})
}

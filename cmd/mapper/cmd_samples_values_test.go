package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSamplesValuesListsUnknownStatusesAfterDemo runs the demo briefly (the
// real worker on the embedded broker) and lists the failing values of
// orders' unknown_enum:status. The demo is fed the orders fixtures whose
// status the rules do not know, so that every one of them goes round in
// the few seconds even on a slow machine.
func TestSamplesValuesListsUnknownStatusesAfterDemo(t *testing.T) {
	fixtures := filepath.Join(t.TempDir(), "fixtures")
	if err := os.MkdirAll(filepath.Join(fixtures, "orders"), 0o755); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range []string{"generated.jsonl", "defects.jsonl"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "orders", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			var o struct{ Status string }
			if json.Unmarshal([]byte(l), &o) == nil && (o.Status == "on-hold" || o.Status == "Chargeback" || o.Status == "PAID_OUT" || o.Status == "unknown") {
				lines = append(lines, l)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(fixtures, "orders", "unknown-statuses.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "samples")
	code, stdout, stderr := runCmd(t, context.Background(), nil, "demo", "--duration", "3s", "--rate", "300", "--refresh", "1s", "--status-addr", "", "--metrics=false", "--samples", dir, "--fixtures", fixtures)
	if code != exitOK {
		t.Fatalf("demo: exit %d\n%s%s", code, stdout, stderr)
	}
	code, out, errOut := runMapperCLI(t, nil, "samples", "values", "--samples", dir, "--source", "orders", "--category", "unknown_enum:status")
	if code != exitOK {
		t.Fatalf("samples values: exit %d: %s", code, errOut)
	}
	// The orders fixtures hold these four statuses that the rules do not know.
	counts := map[string]int{}
	row := regexp.MustCompile(`^\s+(\d+)\s+[\d.]+%\s+(.+)$`)
	for _, l := range strings.Split(out, "\n") {
		if m := row.FindStringSubmatch(l); m != nil {
			counts[m[2]], _ = strconv.Atoi(m[1])
		}
	}
	total := 0
	for _, v := range []string{`"on-hold"`, `"Chargeback"`, `"PAID_OUT"`, `"unknown"`} {
		if counts[v] == 0 {
			t.Errorf("no count for %s:\n%s", v, out)
		}
		total += counts[v]
	}
	// The profile counted every record of the category that samples lists.
	code, list, _ := runMapperCLI(t, nil, "samples", "--samples", dir)
	if code != exitOK {
		t.Fatalf("samples: exit %d", code)
	}
	for _, l := range strings.Split(list, "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && f[0] == "orders" && f[1] == "unknown_enum:status" {
			if seen, _ := strconv.Atoi(f[2]); seen != total {
				t.Errorf("samples says %d records seen, the profile counts %d values", seen, total)
			}
		}
	}
	if !strings.HasPrefix(out, "orders unknown_enum:status: "+strconv.Itoa(total)+" values counted") {
		t.Errorf("header does not state the total %d:\n%s", total, out)
	}
}

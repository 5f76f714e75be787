package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSamplesValuesListsUnknownStatusesAfterDemo runs the demo briefly (the
// real worker on the embedded broker, fed from the built-in fixtures) and
// lists the failing values of orders' unknown_enum:status.
func TestSamplesValuesListsUnknownStatusesAfterDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "samples")
	code, stdout, stderr := runCmd(t, context.Background(), nil, "demo", "--duration", "3s", "--rate", "300", "--refresh", "1s", "--status-addr", "", "--metrics=false", "--samples", dir)
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

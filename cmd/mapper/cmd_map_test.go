package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper/demo"
)

var shipped = []string{"--rules", "../../rules", "--schemas", "../../schemas"}

// TestMapGolden maps every fixture with `mapper map` and compares the
// printed results with testdata/map/<source>/<fixture>.golden.
func TestMapGolden(t *testing.T) {
	for _, source := range []string{"orders", "github-work-items"} {
		files, _ := filepath.Glob(filepath.Join("../../fixtures", source, "*.json*"))
		if len(files) == 0 {
			t.Fatalf("no fixtures for %s", source)
		}
		hdrs, err := demo.ReadHeaders(os.DirFS("../../fixtures"), source)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			name := filepath.Base(f)
			t.Run(source+"/"+name, func(t *testing.T) {
				args := append(append([]string{"map"}, shipped...), "--source", source)
				for _, h := range hdrs.ForFile(name) {
					args = append(args, "--header", h.Key+"="+string(h.Value))
				}
				if strings.HasSuffix(f, ".jsonl") {
					args = append(args, "--lines")
				}
				code, stdout, stderr := runCLI(t, "", append(args, f)...)
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				golden(t, filepath.Join("testdata/map", source, name+".golden"), stdout)
			})
		}
	}
}

func TestMapReadsStdin(t *testing.T) {
	code, stdout, _ := runCLI(t, `{"order_id":"X"}`, append(append([]string{"map"}, shipped...), "--source", "orders")...)
	if code != exitOK || !strings.HasPrefix(stdout, `{"outcome":"rejected"`) {
		t.Fatalf("exit %d, %s", code, stdout)
	}
}

func TestMapSummaryGolden(t *testing.T) {
	args := append(append([]string{"map"}, shipped...), "--source", "orders", "--lines", "--summary", "../../fixtures/orders/generated.jsonl")
	code, stdout, stderr := runCLI(t, "", args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "testdata/map/orders-summary.golden", stdout)
}

// The summary of a source sharing its topic: mapped, degraded and
// rejected records against the objective, and the records the source does
// not accept on their own row, outside it; a line that is not JSON is
// malformed_payload, not unrouted.
func TestMapSummaryWithUnroutedRecords(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "map", "--rules", "../../mapper/testdata/payments/rules", "--schemas", "../../mapper/testdata/payments/schemas",
		"--source", "provider", "--lines", "--summary", "testdata/map/provider.jsonl")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "testdata/map/provider-summary.golden", stdout)
}

// A JSON-lines file mapped without --lines is one malformed payload, and
// the command says to add --lines.
func TestMapManyLinesWithoutLinesSaysSo(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "map", "--rules", "../../mapper/testdata/payments/rules", "--schemas", "../../mapper/testdata/payments/schemas",
		"--source", "provider", "testdata/map/provider.jsonl")
	if code != exitFailure || !strings.Contains(stdout, `"malformed_payload"`) ||
		!strings.Contains(stderr, "the input has 9 lines and was mapped as one payload: add --lines") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

// A header given twice is refused, not silently dropped.
func TestMapRefusesARepeatedHeader(t *testing.T) {
	code, _, stderr := runCLI(t, `{"id":"1"}`, "map", "--source", "orders", "--header", "X-Env=live", "--header", "x-env=test")
	if code != exitUsage || !strings.Contains(stderr, "header x-env given twice") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// TestMapOrdersMatchesTruth checks every generated order line against the
// generator's truth file: each defect gets exactly its reason code.
func TestMapOrdersMatchesTruth(t *testing.T) {
	want := map[string]string{"missing_key": "missing_field", "null_value": "null_field", "wrong_type": "type_mismatch",
		"unknown_enum": "unknown_enum", "bad_timestamp": "invalid_format", "malformed_json": "malformed_payload"}
	tf, err := os.Open("../../fixtures/orders/generated.truth.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	rows, err := csv.NewReader(tf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"map"}, shipped...), "--source", "orders", "--lines", "../../fixtures/orders/generated.jsonl")
	code, stdout, stderr := runCLI(t, "", args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	line := 0
	defects := 0
	for sc.Scan() {
		line++
		var r struct {
			Outcome  string
			Failures []struct{ Reason, Field string }
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		defect := rows[line][1]
		if defect == "ok" {
			if r.Outcome != "mapped" {
				t.Errorf("line %d: clean line is %s: %v", line, r.Outcome, r.Failures)
			}
			continue
		}
		defects++
		if r.Outcome != "rejected" || len(r.Failures) != 1 || r.Failures[0].Reason != want[defect] {
			t.Errorf("line %d (%s): got %s %v, want rejected with %s", line, defect, r.Outcome, r.Failures, want[defect])
		}
	}
	if line != len(rows)-1 || defects == 0 {
		t.Fatalf("%d results for %d truth rows (%d defects)", line, len(rows)-1, defects)
	}
}

func TestMapLinesIsSilentOffATerminal(t *testing.T) {
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	var out bytes.Buffer
	code := run(context.Background(), []string{"map", "--rules", "../../rules", "--schemas", "../../schemas", "--source", "orders", "--lines", "--summary",
		"../../fixtures/orders/generated.jsonl"}, strings.NewReader(""), &out, stderr, func(string) string { return "" })
	if code != exitOK || !strings.Contains(out.String(), "mapped") {
		t.Fatalf("exit %d, stdout %q", code, out.String())
	}
	if st, _ := stderr.Stat(); st.Size() != 0 {
		b, _ := os.ReadFile(stderr.Name())
		t.Errorf("stderr is a file, not a terminal, yet got %q", b)
	}
}

package mapper_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

// poison overwrites a payload's memory once its record is mapped, as the
// worker does when it reads a later fetch into it.
const poison = '~'

// TestResultsKeepNothingOfThePayload maps every fixture payload (each line
// of the JSON-lines ones) with every source of the shipped rules and the
// payments rules, one Mapper and one Result reused from record to record
// as the worker uses them, then overwrites the payload: the result's
// output, failures' fields and details are what they were. The worker's
// tallies keep those strings, and its observers copy the rest, so that a
// fetch's memory can be read into again once its records are written.
func TestResultsKeepNothingOfThePayload(t *testing.T) {
	var engines []*mapper.Engine
	for _, d := range [][2]string{{"../rules", "../schemas"}, {"testdata/payments/rules", "testdata/payments/schemas"}} {
		e, err := mapper.Load(d[0], d[1], mapper.Options{})
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, e)
	}
	var payloads [][]byte
	err := filepath.WalkDir("../fixtures", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		switch {
		case err != nil:
			return err
		case strings.HasSuffix(p, ".jsonl"):
			for _, line := range bytes.Split(b, []byte("\n")) {
				if len(bytes.TrimSpace(line)) > 0 {
					payloads = append(payloads, line)
				}
			}
		case strings.HasSuffix(p, ".json"):
			payloads = append(payloads, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(payloads) < 100 {
		t.Fatalf("%d fixture payloads: want the orders, GitHub and unclaimed fixtures", len(payloads))
	}
	var m mapper.Mapper
	var res mapper.Result
	buf := make([]byte, 0, 1<<20)
	mapped, failures := 0, 0
	for _, e := range engines {
		for _, src := range e.Sources() {
			name := src.Name()
			for i, p := range payloads {
				if bytes.IndexByte(p, poison) >= 0 {
					continue
				}
				buf = append(buf[:0], p...)
				m.Map(src, buf, &res)
				output := bytes.Clone(res.Output)
				var kept []string
				for _, f := range res.Failures {
					kept = append(kept, strings.Clone(f.Field), strings.Clone(f.Detail))
				}
				for j := range buf {
					buf[j] = poison
				}
				if !bytes.Equal(res.Output, output) {
					t.Fatalf("source %s, payload %d: the output changed with the payload's memory: %q, was %q", name, i, res.Output, output)
				}
				for j, f := range res.Failures {
					if f.Field != kept[2*j] || f.Detail != kept[2*j+1] {
						t.Fatalf("source %s, payload %d: failure %d changed with the payload's memory: %s %q, was %s %q",
							name, i, j, f.Field, f.Detail, kept[2*j], kept[2*j+1])
					}
				}
				mapped++
				failures += len(res.Failures)
			}
		}
	}
	if failures == 0 {
		t.Fatal("no failure in any mapping: the failures were not exercised")
	}
	t.Logf("%d mappings, %d failures", mapped, failures)
}

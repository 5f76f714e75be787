package ruletest_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/ruletest"
)

// FuzzParseAndUpdate holds two properties on any test file: parsing never
// panics and refuses with a *mapper.LoadError; and for a file that parses,
// Update's rewrite parses again, or Update refuses (a flow-style case, or
// a file whose rewrite would not parse) and writes nothing.
func FuzzParseAndUpdate(f *testing.F) {
	for _, p := range []string{"testdata/update/shop.test.yaml", "../../rules/orders.test.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("source: shop\ncases:\n  - name: c\n    payload: { id: A, amount: \"1\" }\n"))
	f.Add([]byte("cases:\n  - { name: c, payload: '{\"id\":1}', outcome: mapped }\n"))
	eng, err := mapper.Load("testdata/rules", "testdata/schemas", mapper.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ruletest.Parse("testdata/fuzz/shop.test.yaml", data)
		if err != nil {
			var le *mapper.LoadError
			if !errors.As(err, &le) || len(le.Problems) == 0 {
				t.Fatalf("err = %v, want problems", err)
			}
			return
		}
		s.Source = "shop"
		rep, err := ruletest.Run(context.Background(), eng, s)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := ruletest.Update(rep)
		switch {
		case err == nil:
			if _, err := ruletest.Parse("testdata/fuzz/shop.test.yaml", out); err != nil {
				t.Fatalf("the rewrite does not parse: %v\n%s", err, out)
			}
		case strings.Contains(err.Error(), "flow style"):
		case strings.Contains(err.Error(), "does not parse"):
			// YAML the parser only accepts at the very end of a file
			// ("{0}!"): Update refuses rather than write a broken file.
		default:
			t.Fatalf("update: %v\nfile:\n%s", err, data)
		}
	})
}

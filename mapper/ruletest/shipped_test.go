package ruletest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/ruletest"
)

// The shipped rules' tests pass, and together they show every reason code
// each shipped source can produce.
func TestShippedRuleTests(t *testing.T) {
	eng, err := mapper.Load("../../rules", "../../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := ruletest.Find("../../rules")
	if err != nil {
		t.Fatal(err)
	}
	// What each source can produce. orders has no default and an input
	// contract that allows unknown fields: no defaulted, no unexpected_field.
	canProduce := map[string][]mapper.Reason{
		"orders": {mapper.ReasonMalformedPayload, mapper.ReasonMissingField, mapper.ReasonNullField,
			mapper.ReasonTypeMismatch, mapper.ReasonInvalidFormat, mapper.ReasonUnknownEnum, mapper.ReasonOutOfRange,
			mapper.ReasonOutputInvalid, mapper.ReasonUnknownSource},
		"github-work-items": mapper.Reasons(),
	}
	tested := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := ruletest.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := ruletest.Run(context.Background(), eng, s)
			if err != nil {
				t.Fatal(err)
			}
			tested[rep.Source] = true
			seen := map[mapper.Reason]bool{}
			for _, r := range rep.Results {
				if !r.Pass {
					t.Errorf("%s:%d: %s\n%s", f, r.Case.Line, r.Case.Name, r.Diff)
				}
				for _, fl := range r.Got.Failures {
					seen[fl.Reason] = true
				}
			}
			for _, reason := range canProduce[rep.Source] {
				if !seen[reason] {
					t.Errorf("no case of %s shows %s", rep.Source, reason)
				}
			}
		})
	}
	for _, s := range eng.Sources() {
		if !tested[s.Name()] {
			t.Errorf("source %s has no rule test file", s.Name())
		}
		if _, ok := canProduce[s.Name()]; !ok {
			t.Errorf("source %s: say which reasons it can produce in canProduce", s.Name())
		}
	}
}

package mapper_test

import (
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

// TestDeepNestingIsRefusedBeforeValidation maps payloads whose nesting is far
// past the limit, in sizes where validating them would recurse once per
// level, and payloads just as large whose brackets sit inside strings.
func TestDeepNestingIsRefusedBeforeValidation(t *testing.T) {
	eng, err := mapper.Load("testdata/rules", "testdata/schemas", mapper.Options{MaxPayloadBytes: 2 << 20, MaxDepth: 8})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	src := eng.Source("shop")
	deep := func(open, close string, n int) string {
		return `{"a":` + strings.Repeat(open, n) + "1" + strings.Repeat(close, n) + "}"
	}
	tests := []struct {
		name       string
		payload    string
		wantDetail string
	}{
		{"a million nested arrays", deep("[", "]", 500_000), "nested deeper than 8 levels"},
		{"a hundred thousand nested objects", deep(`{"b":`, "}", 100_000), "nested deeper than 8 levels"},
		{"deep nesting that never closes", `{"a":` + strings.Repeat("[", 100_000), "nested deeper than 8 levels"},
		{"brackets inside a large string are not nesting", `{"ref":"` + strings.Repeat(`[{\"`, 10_000) + `"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := src.Map([]byte(tt.payload))
			var malformed *mapper.Failure
			for i, f := range res.Failures {
				if f.Reason == mapper.ReasonMalformedPayload {
					malformed = &res.Failures[i]
				}
			}
			if tt.wantDetail == "" {
				if malformed != nil {
					t.Fatalf("malformed_payload %q for brackets inside a string", malformed.Detail)
				}
				return
			}
			if malformed == nil || malformed.Detail != tt.wantDetail {
				t.Fatalf("failures = %v, want malformed_payload %q", res.Failures, tt.wantDetail)
			}
		})
	}
}

package suggest

import (
	"strings"
	"testing"
)

func TestAddEnumValuesKeepsTheFileAsWritten(t *testing.T) {
	tests := []struct {
		name, doc, pointer string
		add                []string
		want, err          string
	}{
		{"an element per line stays so",
			"{\n  \"properties\": {\n    \"state\": {\n      \"enum\": [\n        \"open\",\n        \"closed\"\n      ]\n    }\n  }\n}\n",
			"/properties/state", []string{"triaged", "on-hold"},
			"{\n  \"properties\": {\n    \"state\": {\n      \"enum\": [\n        \"open\",\n        \"closed\",\n        \"triaged\",\n        \"on-hold\"\n      ]\n    }\n  }\n}\n", ""},
		{"an inline enum stays inline",
			`{"$defs": {"s": {"type": "string", "enum": ["a", "b"]}}, "enum2": 1}`,
			"/$defs/s", []string{"c"},
			`{"$defs": {"s": {"type": "string", "enum": ["a", "b", "c"]}}, "enum2": 1}`, ""},
		{"an empty enum gets its first value", `{"enum": []}`, "", []string{"x", "y"}, `{"enum": ["x", "y"]}`, ""},
		{"values are written as JSON strings", `{"enum":["a"]}`, "", []string{`say "hi"`}, `{"enum":["a", "say \"hi\""]}`, ""},
		{"escaped pointer tokens and array indexes are followed",
			`{"allOf": [{}, {"properties": {"a/b": {"enum": ["x"]}}}]}`, "/allOf/1/properties/a~1b", []string{"y"},
			`{"allOf": [{}, {"properties": {"a/b": {"enum": ["x", "y"]}}}]}`, ""},
		{"a missing key is an error", `{"properties": {}}`, "/properties/state", []string{"x"}, "", `no key "state"`},
		{"an enum that is not an array is an error", `{"enum": "x"}`, "", []string{"y"}, "", "not an array"},
		{"an index past the end is an error", `{"allOf": [{}]}`, "/allOf/3", []string{"y"}, "", "no element 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := addEnumValues([]byte(tc.doc), tc.pointer, tc.add)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

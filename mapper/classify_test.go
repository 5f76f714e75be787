package mapper_test

import (
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

func TestTimestampUnits(t *testing.T) {
	rules, schemas := writeRules(t, map[string]string{"rules/a.yaml": goodRule +
		"  ms:  { from: ms, transform: { timestamp: { unit: ms } } }\n" +
		"  s:   { from: s, transform: { timestamp: { unit: s, layouts: [\"2006-01-02 15:04\"] } } }\n" +
		"  any: { from: any, transform: timestamp }\n"})
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("s")
	tests := []struct {
		name, payload, output string
		failures              []rf
	}{
		{"milliseconds with the unit are exact", `{"id":"1","ms":1700000000123}`, `{"id":"1","ms":"2023-11-14T22:13:20.123Z"}`, nil},
		{"seconds with the unit, and a listed layout", `{"id":"1","s":1700000000,"any":"2024-05-01T12:00:00Z"}`,
			`{"id":"1","s":"2023-11-14T22:13:20Z","any":"2024-05-01T12:00:00Z"}`, nil},
		{"a layout beside the unit", `{"id":"1","s":"2024-05-01 12:30"}`, `{"id":"1","s":"2024-05-01T12:30:00Z"}`, nil},
		{"a time before year 0000 is out_of_range at the source field", `{"id":"1","ms":-99999999999999999}`, "",
			[]rf{{"out_of_range", "ms"}}},
		{"a guess outside 1970-2099 is out_of_range at the source field", `{"id":"1","any":-99999999999999}`, "",
			[]rf{{"out_of_range", "any"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := src.Map([]byte(tt.payload))
			if tt.output != "" && string(res.Output) != tt.output {
				t.Errorf("output %s, want %s", res.Output, tt.output)
			}
			if got := failuresOf(res); !equalRF(got, tt.failures) {
				t.Errorf("failures %v, want %v", res.Failures, tt.failures)
			}
		})
	}
}

func TestOrdersTimestampOutOfRangeIsADataError(t *testing.T) {
	src := loadShipped(t).Source("orders")
	res := src.Map([]byte(`{"order_id":"A-1","customer":{"email":"a@example.com"},"amount":"9.99","currency":"EUR","status":"paid","created":-99999999999999,"items":[{"sku":"s","qty":1,"price":"9.99"}]}`))
	if got := failuresOf(res); len(got) != 1 || got[0] != (rf{"out_of_range", "created"}) {
		t.Fatalf("failures %v, want out_of_range at created (the data is bad, not the rules)", res.Failures)
	}
}

func TestLoadNamesTheValidChoices(t *testing.T) {
	tests := []struct{ name, field, want string }{
		{"a transform that is a prefix of one", "{ from: a, transform: upper }", `unknown transform "upper" (did you mean "uppercase"?)`},
		{"a transform far from every name", "{ from: a, transform: shout }", `unknown transform "shout" (valid: trim, lowercase, uppercase, int,`},
		{"a field key far from every key", "{ from: a, colour: red }", `unknown key "colour" in field "x" (valid: from, required,`},
		{"a timestamp argument that is not a layout", `{ from: a, transform: { timestamp: "unix" } }`,
			`x.transform.timestamp: "unix" is not a Go time layout (for a Unix time write {timestamp: {unit: s|ms|us|ns}})`},
		{"a timestamp layout with no element", `{ from: a, transform: { timestamp: [today] } }`, `"today" is not a Go time layout`},
		{"an unknown unit", "{ from: a, transform: { timestamp: { unit: sec } } }", `x.transform.timestamp.unit: unknown unit "sec" (did you mean "s"?)`},
		{"an unknown timestamp key", "{ from: a, transform: { timestamp: { units: ms } } }", `unknown key "units" in x.transform.timestamp (did you mean "unit"?)`},
		{"an argument where none is taken", "{ from: a, transform: { trim: 1 } }", "x.transform: trim takes no argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, schemas := writeRules(t, map[string]string{"rules/a.yaml": goodRule + "  x: " + tt.field + "\n"})
			_, err := mapper.Load(rules, schemas, mapper.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "a.yaml:7:") {
				t.Fatalf("err = %v, want a problem at line 7 saying %q", err, tt.want)
			}
		})
	}
}

func TestParseReason(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"missing_field", ""},
		{"missing_feild", `unknown reason "missing_feild" (did you mean "missing_field"?)`},
		{"oops", `unknown reason "oops" (valid: malformed_payload, missing_field,`},
	} {
		r, err := mapper.ParseReason(tt.in)
		if tt.want == "" {
			if err != nil || string(r) != tt.in {
				t.Errorf("ParseReason(%q) = %q, %v", tt.in, r, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseReason(%q): err = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestEachElementLackingAField(t *testing.T) {
	rules, schemas := writeRules(t, map[string]string{"rules/a.yaml": goodRule +
		"  labels: { from: labels, each: { .: { from: name, required: true } } }\n" +
		"  tags:   { from: tags, each: { .: { from: name } } }\n"})
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := eng.Source("s").Map([]byte(`{"id":"1","labels":[{"name":"a"},{"noname":1}],"tags":[{"name":"a"},{"noname":1}]}`))
	if got := failuresOf(res); len(got) != 1 || got[0] != (rf{"missing_field", "labels[].name"}) || res.Outcome != mapper.OutcomeRejected {
		t.Errorf("a required element field: %s %v", res.Outcome, res.Failures)
	}
	if !strings.Contains(string(res.Output), `"tags":["a"]`) {
		t.Errorf("an optional element field that is absent leaves the element out (documented): %s", res.Output)
	}
}

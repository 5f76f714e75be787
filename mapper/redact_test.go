package mapper_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

const redactInputSchema = `{
  "type": "object",
  "properties": {
    "extra": {"type": "object"},
    "meta": {"type": "object", "additionalProperties": false, "properties": {"ip": {"type": "string"}, "agent": {"type": "string"}}},
    "id": {"type": "string"},
    "customer": {"type": "object", "properties": {"email": {"type": "string"}, "name": {"type": "string"}, "tier": {"type": "string"}}},
    "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}},
    "tags": {"type": "string"},
    "profile": {"type": "object", "additionalProperties": false, "properties": {"nick": {"type": "string"}}}
  }
}`

const redactRule = `source: people
version: 1
topics: [people]
input_schema: in.json
output_schema: out.json
fields:
  id:    { from: id, required: true }
  email: { from: customer.email, required: true }
  tier:  { from: customer.tier, default: basic }
  items: { from: lines, each: { sku: { from: sku }, qty: { from: qty } } }
redact: [customer.email, customer.name, lines[].sku, profile]
`

// redactSource loads the people source: redact customer.email,
// customer.name, lines[].sku and profile.
func redactSource(t *testing.T) *mapper.Source {
	t.Helper()
	rules, schemas := writeRules(t, map[string]string{"rules/people.yaml": redactRule, "schemas/in.json": redactInputSchema})
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng.Source("people")
}

func TestRedactPathsAtLoad(t *testing.T) {
	const head = "source: s\nversion: 1\ntopics: [t]\noutput_schema: out.json\ninput_schema: in.json\nfields:\n  id: { from: id }\nredact: [%s]\n"
	tests := []struct {
		name  string
		path  string
		want  string   // problem without the directory; "" when accepted
		paths []string // RedactPaths when accepted
	}{
		{"object path is accepted", "customer.email", "", []string{"customer.email"}},
		{"array path with [] is accepted", "lines[].sku", "", []string{"lines[].sku"}},
		{"[] written as a segment is normalised", "lines.[].sku", "", []string{"lines[].sku"}},
		{"path the schema does not describe is accepted", "extra.secret", "", []string{"extra.secret"}},
		{"crossing an array without [] is refused with the fix", "lines.sku",
			`rules/a.yaml:8:10: redact: "lines.sku": the input schema says lines is an array, which has no field "sku" (write "lines[].sku")`, nil},
		{"[] on an object is refused", "customer[].email",
			`rules/a.yaml:8:10: redact: "customer[].email": the input schema says customer is an object, not an array`, nil},
		{"key inside a string is refused", "tags.x",
			`rules/a.yaml:8:10: redact: "tags.x": the input schema says tags is a string, which has no field "x"`, nil},
		{"a misspelt key the schema rules out is refused", "meta.iq",
			`rules/a.yaml:8:10: redact: "meta.iq": the input schema allows no key "iq" in meta: additionalProperties is false (did you mean "ip"?)`, nil},
		{"block list is accepted", "redact:\n  - lines[].sku\n  - meta.ip\n", "", []string{"lines[].sku", "meta.ip"}},
		{"quoted flow item is accepted", `"lines[].sku", 'customer.email'`, "", []string{"lines[].sku", "customer.email"}},
		{"a comment after the flow list is ignored", "redact: [lines[].sku] # see [docs] and []\n", "", []string{"lines[].sku"}},
		{"empty segment is refused", "a..b", `rules/a.yaml:8:10: redact: "a..b" has an empty segment`, nil},
		{"leading [] is refused", "[].x", `rules/a.yaml:8:10: redact: "[].x" starts with []: a payload is an object, start with its key`, nil},
		{"bracket inside a key is refused", `"a[0].b"`, `rules/a.yaml:8:10: redact: "a[0].b": segment "a[0]": write [] right after a key, with nothing inside`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule := strings.Replace(head, "%s", tt.path, 1)
			if strings.HasPrefix(tt.path, "redact:") { // the whole list as written
				rule = head[:strings.Index(head, "redact:")] + tt.path
			}
			rules, schemas := writeRules(t, map[string]string{"rules/a.yaml": rule, "schemas/in.json": redactInputSchema})
			eng, err := mapper.Load(rules, schemas, mapper.Options{})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got := eng.Source("s").RedactPaths(); strings.Join(got, ",") != strings.Join(tt.paths, ",") {
					t.Errorf("RedactPaths = %v, want %v", got, tt.paths)
				}
				return
			}
			var le *mapper.LoadError
			if !errors.As(err, &le) || len(le.Problems) != 1 {
				t.Fatalf("err = %v, want one load problem", err)
			}
			if got := strings.ReplaceAll(le.Problems[0].String(), filepath.Dir(rules)+string(filepath.Separator), ""); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRedactIsShapeSafe(t *testing.T) {
	src := redactSource(t)
	tests := []struct{ name, in, want string }{
		{"values at redacted paths keep only their shape",
			`{"id":"A1","customer":{"email":"Jane.D1@example.org","name":"Jane","tier":"gold"}}`,
			`{"id":"A1","customer":{"email":"Xxxx.X0@xxxxxxx.xxx","name":"Xxxx","tier":"gold"}}`},
		{"a parent that is a string is masked whole",
			`{"id":"A1","customer":"Jane <jane@example.org>"}`, `{"id":"A1","customer":"Xxxx <xxxx@xxxxxxx.xxx>"}`},
		{"a parent that is an array of objects is masked whole",
			`{"customer":[{"email":"jane@example.org","tier":"gold"}]}`, `{"customer":[{"email":"xxxx@xxxxxxx.xxx","tier":"xxxx"}]}`},
		{"a parent that is a number is masked", `{"customer":4711}`, `{"customer":0}`},
		{"a parent that is a boolean is masked", `{"customer":true}`, `{"customer":false}`},
		{"a null parent stays null", `{"customer":null}`, `{"customer":null}`},
		{"array elements are followed through []", `{"lines":[{"sku":"AB-12","qty":2},{"qty":1}]}`, `{"lines":[{"sku":"XX-00","qty":2},{"qty":1}]}`},
		{"an object where an array was expected is masked whole", `{"lines":{"sku":"AB-12","qty":2}}`, `{"lines":{"sku":"XX-00","qty":0}}`},
		{"an element that is not an object is masked", `{"lines":["AB-12",[{"sku":"CD-3"}]]}`, `{"lines":["XX-00",[{"sku":"XX-0"}]]}`},
		{"a key that looks like a redacted path is masked", `{"customer.email":"jane@example.org","lines[].sku":"AB"}`,
			`{"customer.email":"xxxx@xxxxxxx.xxx","lines[].sku":"XX"}`},
		{"keys the rules do not know are masked inside a masked value", `{"customer":[{"jane@example.org":{"Ann":1}}]}`,
			`{"customer":[{"xxxx@xxxxxxx.xxx":{"Xxx":0}}]}`},
		{"masked keys that become equal stay distinct", `{"customer":{"email":{"ab":1,"cd":2,"ef":3}}}`,
			`{"customer":{"email":{"xx":0,"xx~2":0,"xx~3":0}}}`},
		{"a payload that is not an object is masked whole", `["jane@example.org"]`, `["xxxx@xxxxxxx.xxx"]`},
		{"non-ASCII letters, digits and symbols are masked", `{"customer":{"name":"Zoë ٣ ☎ x"}}`, `{"customer":{"name":"Xxx 0 * x"}}`},
		{"unparseable payload masks values and keys the rules do not know", `{"customer":{"email":"jane@example.org":1,"jane":"x"`,
			`{"customer":{"email":"xxxx@xxxxxxx.xxx":0,"xxxx":"x"`},
		{"invalid UTF-8 is masked", "{\"customer\":{\"name\":\"J\xffne\"}}", `{"customer":{"name":"X?xx"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(src.Redact([]byte(tt.in)))
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			for _, secret := range []string{"jane", "Jane", "example", "AB-12", "4711", "Ann", "Zoë"} {
				if strings.Contains(got, secret) {
					t.Errorf("%q survived: %s", secret, got)
				}
			}
			if json.Valid([]byte(tt.in)) && !json.Valid([]byte(got)) {
				t.Errorf("redacting valid JSON gave invalid JSON: %s", got)
			}
		})
	}
}

func TestRedactWithoutRedactPathsCopies(t *testing.T) {
	src := loadShipped(t).Source("orders")
	rules, schemas := writeRules(t, map[string]string{"rules/a.yaml": goodRule})
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := []byte(`{"id":"x","customer":"jane@example.org"}`)
	if got := eng.Source("s").Redact(in); string(got) != string(in) || &got[0] == &in[0] {
		t.Errorf("a source without redact paths must return a copy of the payload, got %s", got)
	}
	if len(src.RedactPaths()) == 0 {
		t.Fatal("the shipped orders rules redact fields")
	}
}

func TestFailureDetailsNearRedactedPathsAreValueFree(t *testing.T) {
	src := redactSource(t)
	tests := []struct {
		name     string
		f        mapper.Failure
		withheld bool
	}{
		{"at a redacted path", mapper.Failure{Reason: mapper.ReasonInvalidFormat, Field: "customer.email", Detail: `"jane@example.org"`}, true},
		{"above a redacted path", mapper.Failure{Reason: mapper.ReasonTypeMismatch, Field: "customer", Detail: `"Jane <jane@example.org>" is a string`}, true},
		{"inside a redacted path", mapper.Failure{Reason: mapper.ReasonUnexpectedField, Field: "customer.email.x", Detail: "jane"}, true},
		{"in an array element", mapper.Failure{Reason: mapper.ReasonOutOfRange, Field: "lines[].sku", Detail: `"AB-12"`}, true},
		{"above an array path", mapper.Failure{Reason: mapper.ReasonTypeMismatch, Field: "lines", Detail: `"AB-12"`}, true},
		{"output field read from a redacted path", mapper.Failure{Reason: mapper.ReasonOutputInvalid, Field: "email", Detail: `"jane@example.org" is not an email`}, true},
		{"output field inside an each read from a redacted path", mapper.Failure{Reason: mapper.ReasonOutputInvalid, Field: "items[].sku", Detail: `"AB-12"`}, true},
		{"a sibling keeps its detail", mapper.Failure{Reason: mapper.ReasonUnknownEnum, Field: "customer.tier", Detail: `"gold" is not one of`}, false},
		{"an output field not read from a redacted path keeps its detail", mapper.Failure{Reason: mapper.ReasonOutputInvalid, Field: "tier", Detail: `"gold"`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := src.SafeDetail(tt.f)
			if tt.withheld == (got == tt.f.Detail) {
				t.Fatalf("SafeDetail = %q (from %q), withheld %v", got, tt.f.Detail, tt.withheld)
			}
			if tt.withheld && (strings.Contains(got, "jane") || strings.Contains(got, "AB") || !strings.Contains(got, string(tt.f.Reason))) {
				t.Errorf("withheld detail %q must name the reason and no value", got)
			}
			if again := src.SafeDetail(mapper.Failure{Reason: tt.f.Reason, Field: tt.f.Field, Detail: got}); again != got {
				t.Errorf("SafeDetail is not idempotent: %q then %q", got, again)
			}
		})
	}
	t.Run("quoted text in a detail about the whole payload is masked", func(t *testing.T) {
		got := src.SafeDetail(mapper.Failure{Reason: mapper.ReasonMalformedPayload, Detail: `duplicate key "jane@example.org"`})
		if got != `duplicate key "xxxx@xxxxxxx.xxx"` {
			t.Errorf("got %q", got)
		}
	})
}

func TestRedactFailuresCopiesOnWrite(t *testing.T) {
	src := redactSource(t)
	in := []mapper.Failure{
		{Reason: mapper.ReasonUnknownEnum, Field: "customer.tier", Detail: "kept"},
		{Reason: mapper.ReasonInvalidFormat, Field: "customer.email", Detail: "jane@example.org"},
	}
	out := src.RedactFailures(in)
	if out[0].Detail != "kept" || strings.Contains(out[1].Detail, "jane") {
		t.Errorf("RedactFailures = %+v", out)
	}
	if in[1].Detail != "jane@example.org" {
		t.Error("RedactFailures changed its argument")
	}
	if clean := in[:1]; &src.RedactFailures(clean)[0] != &clean[0] {
		t.Error("nothing to mask must return the same slice")
	}
}

func TestMapWithholdsDetailsOfDriftedRedactedFields(t *testing.T) {
	src := redactSource(t)
	for _, payload := range []string{
		`{"id":"A1","customer":"Jane <jane@example.org>"}`,
		`{"id":"A1","customer":[{"email":"jane@example.org"}]}`,
		`{"id":"A1","customer":{"email":["jane@example.org"]}}`,
		`{"id":"A1","customer":{"email":"jane@example.org"},"lines":"AB-12"}`,
		`{"id":"A1","customer":{"email":"jane@example.org"},"lines":[{"sku":{"AB-12":1}}]}`,
	} {
		res := src.Map([]byte(payload))
		if len(res.Failures) == 0 {
			t.Errorf("%s: no failure, want the drift reported", payload)
		}
		for _, f := range res.Failures {
			if strings.Contains(f.Detail, "jane") || strings.Contains(f.Detail, "AB-12") {
				t.Errorf("%s: failure %s:%s leaks: %q", payload, f.Reason, f.Field, f.Detail)
			}
		}
	}
}

func TestRedactOutputMasksFieldsReadFromRedactedPaths(t *testing.T) {
	src := redactSource(t)
	res := src.Map([]byte(`{"id":"A1","customer":{"email":"jane@example.org","tier":"gold"},"lines":[{"sku":"AB-12","qty":2}]}`))
	got := string(src.RedactOutput(res.Output))
	want := `{"id":"A1","email":"xxxx@xxxxxxx.xxx","tier":"gold","items":[{"sku":"XX-00","qty":2}]}`
	if got != want {
		t.Errorf("got  %s\nwant %s\n(output %s)", got, want, res.Output)
	}
}

func TestRedactStaysBoundedOnHostileShapes(t *testing.T) {
	src := redactSource(t)
	t.Run("nesting deeper than the parser allows is masked as text", func(t *testing.T) {
		deep := `{"customer":{"email":` + strings.Repeat(`[`, 100000) + `"jane@example.org"` + strings.Repeat(`]`, 100000) + `}}`
		got := src.Redact([]byte(deep))
		if strings.Contains(string(got), "jane") || len(got) != len(deep) {
			t.Errorf("deep payload: %d bytes, leaks %v", len(got), strings.Contains(string(got), "jane"))
		}
	})
	t.Run("many masked keys that collide stay distinct", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`{"customer":{"email":{`)
		for i := range 200 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"k%03d":%d`, i, i)
		}
		b.WriteString(`}}}`)
		got := src.Redact([]byte(b.String()))
		var doc struct {
			Customer struct {
				Email map[string]int `json:"email"`
			} `json:"customer"`
		}
		if err := json.Unmarshal(got, &doc); err != nil {
			t.Fatalf("%v: %s", err, got)
		}
		if len(doc.Customer.Email) != 200 {
			t.Errorf("got %d distinct keys, want 200", len(doc.Customer.Email))
		}
		for k, v := range doc.Customer.Email {
			if v != 0 || !strings.HasPrefix(k, "x000") {
				t.Errorf("key %q value %d not masked", k, v)
			}
		}
	})
}

func TestFailureFieldsInsideRedactedValuesNameNoData(t *testing.T) {
	src := redactSource(t)
	res := src.Map([]byte(`{"id":"A1","customer":{"email":"a@example.com"},"profile":{"jane@example.org":1,"ann@example.org":2,"nick":"x"}}`))
	var got []string
	for _, f := range res.Failures {
		got = append(got, f.Category().String())
		if strings.Contains(f.Field+f.Detail, "example.org") {
			t.Errorf("failure %s: %q names a key of a redacted value", f.Category(), f.Detail)
		}
	}
	if strings.Join(got, ",") != "unexpected_field:profile,defaulted:customer.tier" {
		t.Errorf("failures %v, want one unexpected_field:profile (and the tier defaulted)", got)
	}
	in := []mapper.Failure{
		{Reason: mapper.ReasonUnexpectedField, Field: "customer.email.jane@example.org", Detail: "property not in the contract"},
		{Reason: mapper.ReasonTypeMismatch, Field: "lines[].sku", Detail: "number, expected string"},
		{Reason: mapper.ReasonUnexpectedField, Field: "profile.nick", Detail: "kept: nick is a field name"},
	}
	out := src.RedactFailures(in)
	if out[0].Field != "customer.email" || out[1].Field != "lines[].sku" || out[2].Field != "profile.nick" {
		t.Errorf("fields %q %q %q, want customer.email lines[].sku profile.nick", out[0].Field, out[1].Field, out[2].Field)
	}
	if in[0].Field != "customer.email.jane@example.org" {
		t.Error("RedactFailures changed its argument")
	}
}

func TestRedactPathLengthIsBounded(t *testing.T) {
	long := strings.Repeat("a[].", 40) + "b" // 81 segments, [] included
	rule := goodRule + "redact: [" + long + "]\n"
	rules, schemas := writeRules(t, map[string]string{"rules/a.yaml": rule})
	_, err := mapper.Load(rules, schemas, mapper.Options{})
	var le *mapper.LoadError
	if !errors.As(err, &le) || len(le.Problems) != 1 || !strings.Contains(le.Problems[0].String(), "a.yaml:7:10: redact: path") ||
		!strings.Contains(le.Problems[0].String(), "81 segments, over the limit of 64") {
		t.Fatalf("err = %v, want the path refused at its position for its length", err)
	}
}

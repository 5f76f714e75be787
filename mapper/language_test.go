package mapper_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/ruletest"
)

// The payments rule set uses every form of the rules language that real
// feeds asked for (templates, comparisons, defaults from another path,
// $root and $parent inside each, fields for one record type); its rule
// tests hold one case per form and per failure the form gives.
func TestLanguageFormsOnPayments(t *testing.T) {
	eng, err := mapper.Load("testdata/payments/rules", "testdata/payments/schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w := eng.Warnings(); len(w) > 0 {
		t.Errorf("static check warnings: %v", w)
	}
	for _, file := range []string{"payments.test.yaml", "provider.test.yaml"} {
		s, err := ruletest.ParseFile(filepath.Join("testdata/payments/rules", file))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ruletest.Run(context.Background(), eng, s)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Results) < 15 {
			t.Errorf("%s: only %d cases", file, len(rep.Results))
		}
		for _, r := range rep.Results {
			if !r.Pass {
				t.Errorf("%s: %s:\n%s", file, r.Case.Name, r.Diff)
			}
		}
	}
}

// The same forms on GitHub's own webhook payloads, as sent and drifted.
func TestLanguageFormsOnGitHubPayloads(t *testing.T) {
	const rules = `source: gh
version: 1
topics: [t]
input_schema: in.json
output_schema: out.json
fields:
  ref: { template: "{repository.full_name}#{issue.number}", required: true }
  busy:
    cases:
      - { when: issue.comments, gte: 10, value: true }
      - { when: issue.comments, lt: 10, value: false }
  labels:
    from: issue.labels
    each:
      name:  { from: name, required: true }
      repo:  { from: $root.repository.full_name }
      issue: { from: $parent.issue.id }
  closed_as: { from: issue.state_reason, default_from: issue.state, when: { path: issue.state, is: closed } }
`
	rulesDir, schemas := writeRules(t, map[string]string{"rules/a.yaml": rules})
	copyFile(t, "../schemas/github-work-item.input.json", filepath.Join(schemas, "in.json"))
	eng, err := mapper.Load(rulesDir, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opened := readFile(t, "../fixtures/github-work-items/issues.opened.payload.json")
	tests := []struct {
		name     string
		edit     func(map[string]any)
		want     string
		failures []mapper.Category
	}{
		{"an opened issue as GitHub sends it", nil,
			`{"ref":"Codertocat/Hello-World#1","busy":false,"labels":[{"name":"bug","repo":"Codertocat/Hello-World","issue":444500041}]}`, nil},
		{"a busy closed issue without a state reason takes its state", func(p map[string]any) {
			issue := p["issue"].(map[string]any)
			issue["state"], issue["comments"] = "closed", 12
		}, `{"ref":"Codertocat/Hello-World#1","busy":true,"labels":[{"name":"bug","repo":"Codertocat/Hello-World","issue":444500041}],"closed_as":"closed"}`,
			[]mapper.Category{{Reason: mapper.ReasonDefaulted, Field: "issue.state_reason"}}},
		{"a missing repository name is missing_field at that template part", func(p map[string]any) {
			delete(p["repository"].(map[string]any), "full_name")
		}, "", []mapper.Category{{Reason: mapper.ReasonMissingField, Field: "repository.full_name"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := opened
			if tt.edit != nil {
				var p map[string]any
				if err := json.Unmarshal(opened, &p); err != nil {
					t.Fatal(err)
				}
				tt.edit(p)
				payload, _ = json.Marshal(p)
			}
			got := eng.Source("gh").Map(payload)
			if tt.want != "" && string(got.Output) != tt.want {
				t.Errorf("output %s\nwant   %s", got.Output, tt.want)
			}
			var cats []mapper.Category
			for _, f := range got.Failures {
				cats = append(cats, f.Category())
			}
			if fmt.Sprint(cats) != fmt.Sprint(tt.failures) {
				t.Errorf("failures %v, want %v", got.Failures, tt.failures)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.WriteFile(to, readFile(t, from), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLanguageLoadProblems(t *testing.T) {
	tests := []struct {
		name, field, want string
	}{
		{"a template with no path", `  x: { template: "plain" }`, `x.template: template "plain" has no {path}`},
		{"an unclosed template part", `  x: { template: "{a" }`, `has no }`},
		{"a stray closing brace", `  x: { template: "a}" }`, `write }} for a brace`},
		{"template with from", `  x: { template: "{a}", from: b }`, `field "x": template cannot be combined with from or each`},
		{"a comparison with a word", "  x:\n    cases:\n      - { when: a, gt: ten, value: 1 }", `x.cases.gt: expected a number, got a string`},
		{"in needs a list", "  x:\n    cases:\n      - { when: a, in: b, value: 1 }", `x.cases.in: expected a list of values`},
		{"an unknown case key", "  x:\n    cases:\n      - { when: a, gtee: 1, value: 1 }", `unknown key "gtee" in x.cases (did you mean "gte"?)`},
		{"a condition without a path", `  x: { from: a, when: { is: b } }`, `x.when: a condition needs a path`},
		{"an unclosed brace is placed where it opens", "  x: { from: a\n  y: { from: b }", `a.yaml:7:6: invalid YAML: this { is never closed`},
		{"a case with both value and from", "  x:\n    cases:\n      - { when: a, value: 1, from: b }", `x.cases: each case needs either value or from`},
		{"a combinator that is not a list", `  x: { from: a, when: { any: b } }`, `x.when.any: expected a non-empty list of conditions`},
		{"tests beside a condition when", "  x:\n    cases:\n      - { when: { path: a }, is: 1, value: 1 }", `write the tests inside it`},
		{"absent with a test", `  x: { from: a, when: { path: a, absent: true, is: 1 } }`, `an absent path has no value to test`},
		{"minor_to_decimal without its places", `  x: { from: a, transform: minor_to_decimal }`, `minor_to_decimal needs its decimal places`},
		{"minor_to_decimal with an unknown key", `  x: { from: a, transform: { minor_to_decimal: { currency: c } } }`, `unknown key "currency" in x.transform.minor_to_decimal (did you mean "currency_from"?)`},
		{"minor_to_decimal with too many places", `  x: { from: a, transform: { minor_to_decimal: 19 } }`, `expected a number of decimal places (0-18)`},
		{"an unclosed template quote", `  x: { template: "{'a b}" }`, `has no closing '`},
		{"an unknown anchor", `  x: { from: $record.a }`, `only $root. and $parent. may start a path`},
		{"an anchor alone", `  x: { from: $root }`, `name a field after it`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rulesDir, schemas := writeRules(t, map[string]string{"rules/a.yaml": goodRule + tt.field + "\n"})
			_, err := mapper.Load(rulesDir, schemas, mapper.Options{})
			var le *mapper.LoadError
			if !errors.As(err, &le) || !strings.Contains(le.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// A field read only through $root or $parent inside each counts as read:
// a schema failure there rejects the record instead of degrading it.
func TestAnchoredPathsAreRead(t *testing.T) {
	const schema = `{"type": "object", "properties": {"tz": {"type": "string"}, "note": {"type": "string"},
	  "items": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}}}}`
	const rules = `source: s
version: 1
topics: [t]
input_schema: in.json
output_schema: out.json
fields:
  items: { from: items, each: { sku: { from: sku }, tz: { from: $root.tz }, note: { from: $parent.note } } }
`
	eng, err := loadWithSchema(t, schema, rules)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, payload string
		want          mapper.Outcome
	}{
		{"a bad value read through $root", `{"tz": 1, "items": [{"sku": "a"}]}`, mapper.OutcomeRejected},
		{"a bad value read through $parent", `{"note": 1, "items": [{"sku": "a"}]}`, mapper.OutcomeRejected},
		{"all well", `{"tz": "UTC", "note": "n", "items": [{"sku": "a"}]}`, mapper.OutcomeMapped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := eng.Source("s").Map([]byte(tt.payload))
			if got.Outcome != tt.want {
				t.Errorf("outcome %s (%v), want %s", got.Outcome, got.Failures, tt.want)
			}
		})
	}
}

// An output field built from a redacted path through the new forms
// (template, default_from, $root inside each, when) is masked in the
// redacted output, like one read with from.
func TestRedactedOutputsFollowTheNewForms(t *testing.T) {
	const rules = `source: s
version: 1
topics: [t]
output_schema: out.json
redact: [customer.last_name, account.iban, secret]
fields:
  name:  { template: "{customer.first_name} {customer.last_name}" }
  iban:  { from: payout_iban, default_from: account.iban }
  kind:  { from: kind, when: { path: secret, is: x } }
  lines: { from: lines, each: { holder: { from: $root.customer.last_name }, amount: { from: amount } } }
  plain: { from: plain }
`
	rulesDir, schemas := writeRules(t, map[string]string{"rules/a.yaml": rules})
	eng, err := mapper.Load(rulesDir, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("s")
	payload := `{"customer":{"first_name":"Ana","last_name":"Silva"},"account":{"iban":"PT50000201231234567890154"},"secret":"x","kind":"k","lines":[{"amount":1}],"plain":"p"}`
	res := src.Map([]byte(payload))
	if res.Outcome != mapper.OutcomeDegraded {
		t.Fatalf("outcome %s: %v", res.Outcome, res.Failures)
	}
	masked := string(src.RedactOutput(res.Output))
	for _, secret := range []string{"Silva", "PT50000201231234567890154", `"k"`} {
		if strings.Contains(masked, secret) {
			t.Errorf("redacted output %s shows %s", masked, secret)
		}
	}
	for _, kept := range []string{`"plain":"p"`, `"amount":1`} {
		if !strings.Contains(masked, kept) {
			t.Errorf("redacted output %s lost %s", masked, kept)
		}
	}
}

// One failure per cause, at the path the payload uses: the input schema's
// failure wins over the rule's defaulted, and a fallback list reports at
// the path that got furthest, not at a legacy path that is null.
func TestOneFailurePerCause(t *testing.T) {
	eng, err := mapper.Load("../rules", "../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := os.ReadFile("../fixtures/github-work-items/issues.opened.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(payload, &doc); err != nil {
		t.Fatal(err)
	}
	doc["issue"].(map[string]any)["labels"] = nil
	nullLabels, _ := json.Marshal(doc)
	res := eng.Source("github-work-items").Map(nullLabels)
	if got := categories(res.Failures); got != "null_field:issue.labels" {
		t.Errorf("labels: null gives %s, want null_field:issue.labels alone", got)
	}

	pay, err := mapper.Load("testdata/payments/rules", "testdata/payments/schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sepa := `{"id":"ch_2","object":"charge","amount":100,"currency":"eur","status":"succeeded",` +
		`"payment_method_details":{"type":"sepa_debit","sepa_debit":{"last4":"3000"}},"source":null}`
	res = pay.Source("provider").Map([]byte(sepa))
	if got := categories(res.Failures); got != "missing_field:payment_method_details.card.last4" {
		t.Errorf("a SEPA charge gives %s, want missing_field at the preferred path alone", got)
	}
}

func categories(fs []mapper.Failure) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Category().String())
	}
	return strings.Join(out, " ")
}

package mapper_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

// A payment provider's contract, shaped like Stripe's objects: an invoice
// whose lines are an object holding the array (lines.data).
const invoiceSchema = `{
  "type": "object",
  "required": ["id", "object"],
  "properties": {
    "id": {"type": "string"},
    "object": {"enum": ["invoice", "charge"]},
    "amount_due": {"type": "integer"},
    "currency": {"type": "string"},
    "customer_name": {"type": ["string", "null"]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "account": {"type": "object", "additionalProperties": false, "properties": {"country": {"type": "string"}}},
    "metadata": {"type": "object"},
    "lines": {
      "type": "object",
      "properties": {
        "data": {"type": "array", "items": {"$ref": "#/definitions/line"}},
        "has_more": {"type": "boolean"}
      }
    }
  },
  "definitions": {
    "line": {"type": "object", "additionalProperties": false, "properties": {"amount": {"type": "integer"}, "description": {"type": "string"}}}
  }
}`

const invoiceHead = `source: invoices
version: 1
topics: [t]
input_schema: in.json
output_schema: out.json
fields:
  id: { from: id, required: true }
`

// numberEnumSchema has number enums and a const that float64 cannot hold
// exactly.
const numberEnumSchema = `{
  "type": "object",
  "properties": {
    "id": {"type": "string"},
    "code": {"enum": [12345678901234567890, 1.50, 1000]},
    "fixed": {"const": 0.1000000000000000001}
  }
}`

func loadWithSchema(t *testing.T, schema, rules string) (*mapper.Engine, error) {
	t.Helper()
	rulesDir, schemas := writeRules(t, map[string]string{"rules/a.yaml": rules})
	if err := os.WriteFile(filepath.Join(schemas, "in.json"), []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	return mapper.Load(rulesDir, schemas, mapper.Options{})
}

func TestStaticChecks(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		fields string // appended to invoiceHead
		want   string // a problem (without the directory), "" for none
		warn   string // a warning, "" for none
	}{
		{"each over an object-typed path", invoiceSchema,
			"  lines: { from: lines, each: { amount: { from: amount } } }\n",
			`rules/a.yaml:8:18: each over "lines": the input schema says lines is an object, not an array (did you mean "lines.data"?)`, ""},
		{"each over the array itself is fine", invoiceSchema,
			"  lines: { from: lines.data, each: { amount: { from: amount } } }\n", "", ""},
		{"join over a string", invoiceSchema,
			"  name: { from: customer_name, transform: { join: \" \" } }\n",
			`rules/a.yaml:8:45: transform join on "customer_name": the input schema says customer_name is null or a string; join takes an array`, ""},
		{"join over an array is fine", invoiceSchema, "  tags: { from: tags, transform: { join: \",\" } }\n", "", ""},
		{"count on a number", invoiceSchema,
			"  n: { from: amount_due, transform: count }\n",
			`rules/a.yaml:8:37: transform count on "amount_due": the input schema says amount_due is an integer; count takes an array`, ""},
		{"a transform after one that gives the wrong type", invoiceSchema,
			"  n: { from: currency, transform: [trim, count] }\n",
			`rules/a.yaml:8:42: transform count gets a string from trim; it takes an array`, ""},
		{"a path additionalProperties false rules out", invoiceSchema,
			"  region: { from: account.region }\n",
			`rules/a.yaml:8:19: from "account.region" can never be present: the input schema allows no key "region" in account: additionalProperties is false (valid: country)`, ""},
		{"a path through a string", invoiceSchema,
			"  code: { from: currency.code }\n",
			`rules/a.yaml:8:17: from "currency.code" can never be present: the input schema says currency is a string, which has no field "code"`, ""},
		{"a path inside each checked against the element schema", invoiceSchema,
			"  lines: { from: lines.data, each: { qty: { from: quantity } } }\n",
			`rules/a.yaml:8:51: from "quantity" can never be present: the input schema allows no key "quantity" in lines.data[]: additionalProperties is false (valid: amount, description)`, ""},
		{"a path the schema says nothing about is a warning", invoiceSchema,
			"  source: { from: metadata.source }\n", "", `rules/a.yaml:8:19: warning: from "metadata.source": the input schema says nothing about metadata.source`},
		{"an enum key the schema's enum never gives is an error at the key", invoiceSchema,
			"  kind: { from: object, enum: { invoice: INVOICE, payment_intent: PI } }\n",
			`rules/a.yaml:8:51: enum key "payment_intent" can never match: the input schema allows object only "invoice", "charge"`, ""},
		{"an enum key is a warning when the schema uses keywords the checks do not read", `{"type": "object", "oneOf": [{"required": ["object"]}], "properties": {"object": {"enum": ["invoice"]}}}`,
			"  kind: { from: object, enum: { invoice: INVOICE, payment_intent: PI } }\n", "",
			`rules/a.yaml:8:51: warning: enum key "payment_intent" can never match: the input schema allows object only "invoice" (the schema uses keywords these checks do not read, so this may be wrong)`},
		{"enum keys match the schema's numbers exactly, as it writes them", numberEnumSchema,
			"  c: { from: code, enum: { 12345678901234567890: A, 1.5: B, 1e3: C } }\n", "", ""},
		{"an enum key float64 cannot tell from the schema's number is an error", numberEnumSchema,
			"  c: { from: code, enum: { 12345678901234567000: A } }\n",
			`rules/a.yaml:8:28: enum key "12345678901234567000" can never match: the input schema allows code only "12345678901234567890", "1.50", "1000"`, ""},
		{"an enum key near a schema const is an error naming the const as written", numberEnumSchema,
			"  c: { from: fixed, enum: { 0.1: A } }\n",
			`rules/a.yaml:8:29: enum key "0.1" can never match: the input schema allows fixed only "0.1000000000000000001"`, ""},
		{"a redact path the schema cannot have", invoiceSchema,
			"redact: [account.email]\n",
			`rules/a.yaml:8:10: redact: "account.email": the input schema allows no key "email" in account: additionalProperties is false (valid: country)`, ""},
		{"a redact path is walked as the static checks walk a from path", `{"type": "object", "properties": {"id": {"type": "string"}, "gone": false}}`,
			"redact: [gone.secret]\n",
			`rules/a.yaml:8:10: redact: "gone.secret": the input schema allows no value at gone`, ""},
		{"an accept predicate on an impossible path", invoiceSchema,
			"accept: [{ path: account.type, in: [business] }]\n",
			`rules/a.yaml:8:18: accept path "account.type" can never be present: the input schema allows no key "type" in account: additionalProperties is false (valid: country)`, ""},
		{"a case on an impossible path", invoiceSchema,
			"  kind:\n    cases:\n      - { when: account.kind, value: x }\n",
			`rules/a.yaml:10:17: cases.when "account.kind" can never be present`, ""},
		{"a schema the checks cannot fully read gives warnings", `{"type": "object", "oneOf": [{"required": ["id"]}], "properties": {"id": {"type": "string"}, "tags": {"type": "string"}}}`,
			"  tags: { from: tags, transform: { join: \",\" } }\n", "",
			`rules/a.yaml:8:36: warning: transform join on "tags": the input schema says tags is a string; join takes an array (the schema uses keywords these checks do not read, so this may be wrong)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, tt.schema, invoiceHead+tt.fields, tt.want, tt.warn)
		})
	}
}

// checkProblems loads rules against schema and wants the problem want
// and the warning warn ("" for none).
func checkProblems(t *testing.T, schema, rules, want, warn string) {
	t.Helper()
	eng, err := loadWithSchema(t, schema, rules)
	var le *mapper.LoadError
	var warnings []mapper.Problem
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected problems: %v", err)
	case want != "":
		if !errors.As(err, &le) {
			t.Fatalf("err = %v, want a problem %q", err, want)
		}
		if !containsProblem(le.Problems, want) {
			t.Fatalf("problems:\n%s\nwant %q", le.Error(), want)
		}
		warnings = le.Warnings
	default:
		warnings = eng.Warnings()
	}
	if warn != "" && !containsProblem(warnings, warn) {
		t.Errorf("warnings %v, want %q", warnings, warn)
	}
	if warn == "" && len(warnings) > 0 {
		t.Errorf("unexpected warnings %v", warnings)
	}
}

func containsProblem(ps []mapper.Problem, want string) bool {
	for _, p := range ps {
		s := p.String()
		if i := strings.Index(s, "rules/"); i >= 0 && strings.HasPrefix(s[i:], want) {
			return true
		}
	}
	return false
}

// The shipped rules pass the static checks without a warning.
func TestShippedRulesPassStaticChecks(t *testing.T) {
	eng, err := mapper.Load("../rules", "../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w := eng.Warnings(); len(w) > 0 {
		t.Errorf("warnings: %v", w)
	}
}

// mapper check reads every leaf path of a combined condition (all, any,
// not, present, absent) against the input schema, wherever a condition is
// accepted, and places the problem at the leaf.
func TestStaticChecksReadCombinedConditions(t *testing.T) {
	tests := []struct {
		name   string
		fields string // appended to invoiceHead
		want   string // a problem (without the directory), "" for none
		warn   string // a warning, "" for none
	}{
		{"an impossible path inside any of a field's when",
			"  country: { from: account.country, when: { any: [{ path: object, is: invoice }, { path: account.kind, present: true }] } }\n",
			`rules/a.yaml:8:82: when "account.kind" can never be present: the input schema allows no key "kind" in account`, ""},
		{"a path the schema is silent about inside all is a warning",
			"  country: { from: account.country, when: { all: [{ path: object, is: invoice }, { path: metadata.region, absent: true }] } }\n",
			"", `rules/a.yaml:8:82: warning: when "metadata.region": the input schema says nothing about metadata.region`},
		{"an impossible path inside not",
			"  country: { from: account.country, when: { not: { path: account.type, is: business } } }\n",
			`rules/a.yaml:8:50: when "account.type" can never be present`, ""},
		{"a misspelt path in any nested under all of a case",
			"  kind:\n    cases:\n      - when: { all: [{ path: object, is: invoice }, { any: [{ path: account.contry, present: true }, { path: currency, is: eur }] }] }\n        value: x\n",
			`rules/a.yaml:10:62: cases.when "account.contry" can never be present: the input schema allows no key "contry" in account: additionalProperties is false (did you mean "country"?)`, ""},
		{"an impossible path inside not of accept",
			"accept: [{ not: { path: account.kind, in: [test] } }]\n",
			`rules/a.yaml:8:25: accept path "account.kind" can never be present`, ""},
		{"an impossible path inside any of accept, after a good one",
			"accept: [{ any: [{ path: object, in: [invoice] }, { path: account.region, present: true }] }]\n",
			`rules/a.yaml:8:59: accept path "account.region" can never be present`, ""},
		{"a path the schema is silent about inside all of accept is a warning",
			"accept: [{ all: [{ path: object, in: [invoice] }, { path: lines.total, absent: true }] }]\n",
			"", `rules/a.yaml:8:59: warning: accept path "lines.total": the input schema says nothing about lines.total`},
		{"paths the schema has pass in every form",
			"  country: { from: account.country, when: { all: [{ path: object, is: invoice }, { not: { path: customer_name, absent: true } }] } }\n" +
				"accept: [{ any: [{ path: object, in: [invoice] }, { path: lines.has_more, in: [false] }] }]\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, invoiceSchema, invoiceHead+tt.fields, tt.want, tt.warn)
		})
	}
}

package suggest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// eventRules writes a rules directory whose source events-created takes
// the records of topic events with the header Kind: created (a block-style
// list), and a source named as a starter for Kind: refunded would be.
func eventRules(t *testing.T) (rules, schemas string) {
	t.Helper()
	root := t.TempDir()
	rules, schemas = filepath.Join(root, "rules"), filepath.Join(root, "schemas")
	files := map[string]string{
		filepath.Join(rules, "created.yaml"): `# Orders created.
source: events-created
version: 4
topics: [events]
accept:
  - header: Kind
    in:
      - created   # the only kind today
input_schema: in.json
output_schema: out.json
fields:
  id: { from: id, required: true }
`,
		filepath.Join(rules, "taken.yaml"): `source: events-refunded
version: 1
topics: [other]
input_schema: in.json
output_schema: out.json
fields:
  id: { from: id, required: true }
`,
		filepath.Join(schemas, "in.json"):  `{"type":"object","properties":{"id":{"type":"string"}}}`,
		filepath.Join(schemas, "out.json"): `{"type":"object","properties":{"id":{"type":"string"}},"required":["id"],"additionalProperties":false}`,
	}
	for p, text := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return rules, schemas
}

func refundGroup(records uint64) samples.ShapeGroup {
	return samples.ShapeGroup{
		Topic: "events", Routing: []samples.RoutingValue{{Header: "Kind", Value: "refunded"}},
		Records: records, Objects: records,
		Paths: []samples.ShapePath{
			{Path: "id", Present: records, Types: map[string]uint64{"string": records}},
			{Path: "amount", Present: records, Types: map[string]uint64{"integer": records}},
			{Path: "note", Present: 2, Types: map[string]uint64{"string": 1, "null": 1}},
			{Path: "customer", Present: records, Types: map[string]uint64{"object": records}},
			{Path: "customer.email", Present: records, Types: map[string]uint64{"string": records}},
			{Path: "customer.*", Present: records, Types: map[string]uint64{"string": records}},
		},
	}
}

func TestUnroutedGroupsGetAStarterOrSayWhyNot(t *testing.T) {
	rules, schemas := eventRules(t)
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		group samples.ShapeGroup
		kind  Kind
		says  string
	}{
		{"a group with enough records gets a starter", refundGroup(12), KindNewSource,
			"12 records on topic events with Kind=refunded match no source: a starter source events-refunded-2 (accept Kind in [refunded], mapping 3 top-level fields)"},
		{"a small group is too few", refundGroup(3), KindNoFix, "3 records on topic events with Kind=refunded: too few to start a source from (at least 10)"},
		{"a group without routing values on a claimed topic cannot be told apart",
			samples.ShapeGroup{Topic: "events", Records: 40, Objects: 40}, KindNoFix, "carry no header the rules route on"},
		{"a withheld routing value is no name to test",
			samples.ShapeGroup{Topic: "events", Routing: []samples.RoutingValue{{Header: "Kind", Withheld: true}}, Records: 40, Objects: 40}, KindNoFix, "Kind=(withheld)"},
		{"imported records have no topic", samples.ShapeGroup{Records: 40, Objects: 40}, KindNoFix, "topic is not known"},
		{"payloads that are not objects have no structure", samples.ShapeGroup{Topic: "raw", Records: 40, NotObjects: 40}, KindNoFix, "no payload is a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			us, err := ProposeUnrouted(UnroutedInput{Engine: eng, Shapes: samples.Shapes{Groups: []samples.ShapeGroup{c.group}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(us) != 1 {
				t.Fatalf("%d suggestions, want 1", len(us))
			}
			u := us[0]
			if u.Kind != c.kind || !strings.Contains(u.Edit, c.says) {
				t.Errorf("got %s %q, want %s saying %q", u.Kind, u.Edit, c.kind, c.says)
			}
			if (u.Starter != nil) != (c.kind == KindNewSource) {
				t.Errorf("starter %v with kind %s", u.Starter, u.Kind)
			}
		})
	}
}

func TestAStarterLoadsAndTheAlternativeKeepsTheFile(t *testing.T) {
	rules, schemas := eventRules(t)
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	us, err := ProposeUnrouted(UnroutedInput{Engine: eng, Shapes: samples.Shapes{Groups: []samples.ShapeGroup{refundGroup(12)}}})
	if err != nil {
		t.Fatal(err)
	}
	st := us[0].Starter
	if st == nil || st.Source != "events-refunded-2" {
		t.Fatalf("starter %+v, want events-refunded-2 (events-refunded is taken)", st)
	}
	if got := strings.Join(st.Fields, ","); got != "amount,id,note" {
		t.Errorf("fields %s, want the top-level scalars amount,id,note", got)
	}
	if got := strings.Join(st.Redact, ","); got != "customer.email" {
		t.Errorf("redact %s, want customer.email", got)
	}
	for _, want := range []string{"\"required\": [\n    \"amount\",\n    \"customer\",\n    \"id\"\n  ]", "no enum and no format"} {
		if !strings.Contains(string(st.InputSchema), want) {
			t.Errorf("input schema lacks %q:\n%s", want, st.InputSchema)
		}
	}
	if strings.Contains(string(st.InputSchema), samples.OtherKey) {
		t.Errorf("input schema describes a key the profile did not keep:\n%s", st.InputSchema)
	}
	// The starter beside the shipped rules loads and takes the records.
	if err := os.WriteFile(filepath.Join(rules, st.RuleFile), st.Rules, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{st.InputSchemaFile: st.InputSchema, st.OutputSchemaFile: st.OutputSchema} {
		if err := os.WriteFile(filepath.Join(schemas, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cand, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatalf("the starter does not load:\n%s\n%v", st.Rules, err)
	}
	payload := []byte(`{"id":"r1","amount":5,"note":null,"customer":{"email":"a@example.org"}}`)
	src, res := cand.Route("events", []mapper.Header{{Key: "kind", Value: []byte("refunded")}}, payload)
	if src == nil || src.Name() != st.Source {
		t.Fatalf("routed to %v (%v)", src, res.Failures)
	}
	if res := src.Map(payload); res.Outcome != mapper.OutcomeMapped || string(res.Output) != `{"amount":5,"id":"r1","note":null}` {
		t.Errorf("mapped %s %s %v", res.Outcome, res.Output, res.Failures)
	}
	// The alternative: only the list and the version change.
	if len(us[0].Alternatives) != 1 {
		t.Fatalf("alternatives %+v, want one", us[0].Alternatives)
	}
	a := us[0].Alternatives[0]
	if a.Kind != KindAcceptPredicate || a.Source != "events-created" || a.Edit != "events-created: accept Kind in [created] → add refunded (rules v4 → v5)" {
		t.Errorf("alternative %s %s %q", a.Kind, a.Source, a.Edit)
	}
	orig, _ := os.ReadFile(filepath.Join(rules, "created.yaml"))
	body := string(a.Rules)
	if i := strings.Index(body, "# Orders created."); i > 0 {
		body = body[i:]
	}
	want := strings.Replace(strings.Replace(string(orig), "version: 4", "version: 5", 1),
		"      - created   # the only kind today\n", "      - created   # the only kind today\n      - refunded\n", 1)
	if body != want {
		t.Errorf("the alternative:\n%s\nwant the file with only the list and version changed:\n%s", body, want)
	}
}

package suggest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

func payload(state, created, qty, emailKey string) []byte {
	return fmt.Appendf(nil, `{"id":"A1","state":%q,"created":%q,"qty":%s,"customer":{%q:" Ana@Example.com "}}`, state, created, qty, emailKey)
}

// shopDrift is the shop feed after its partner changed things; each payload
// fails one way.
var shopDrift = [][]byte{
	payload("Paid", "2024-05-01T12:00:00Z", "1", "email"),         // a known state in other case
	payload("on-hold", "2024-05-01T12:00:00Z", "1", "email"),      // a new state
	payload("open", "21/11/2024 10:00", "1", "email"),             // day/month only
	payload("open", "2024-05-01 12:00:00", "1", "email"),          // a space, no zone
	payload("open", "yesterday", "1", "email"),                    // no layout reads it
	payload("open", "2024-05-01T12:00:00Z", `"12"`, "email"),      // a number sent as a string
	payload("open", "2024-05-01T12:00:00Z", "1", "email_address"), // renamed
	payload("open", "2024-05-01T12:00:00Z", "1", "email_address"), // renamed
	payload("shipped", "2024-05-01T12:00:00Z", "2", "email"),      // clean
}

// keep maps payloads with the testdata rules into a sample store and
// value profiles in a temporary directory, as the worker does, and
// returns what Propose takes.
func keep(t testing.TB, payloads [][]byte) (Input, *mapper.Engine) {
	t.Helper()
	return keepWith(t, filepath.Join("testdata", "rules"), filepath.Join("testdata", "schemas"), payloads)
}

// keepWith is keep with the rules and schemas of the given directories.
func keepWith(t testing.TB, rules, schemas string, payloads [][]byte) (Input, *mapper.Engine) {
	t.Helper()
	return keepWithSource(t, rules, schemas, "shop", payloads)
}

// keepWithSource is keepWith for the named source.
func keepWithSource(t testing.TB, rules, schemas, source string, payloads [][]byte) (Input, *mapper.Engine) {
	t.Helper()
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source(source)
	dir := t.TempDir()
	st, err := samples.Open(samples.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	vals, err := samples.OpenValues(samples.ValuesConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range payloads {
		res := src.Map(p)
		st.Add(src, nil, p, &res, "test")
		vals.Observe(nil, src, p, &res, 0)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := vals.Close(); err != nil {
		t.Fatal(err)
	}
	in, err := samples.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := samples.Counts(dir)
	if err != nil {
		t.Fatal(err)
	}
	all, err := samples.ReadAllValues(dir)
	if err != nil {
		t.Fatal(err)
	}
	profiles := map[string]samples.ValueProfile{}
	for _, p := range all {
		profiles[p.Category] = p
	}
	text, err := os.ReadFile(src.File())
	if err != nil {
		t.Fatal(err)
	}
	return Input{Source: src, RuleFile: text, Samples: in, Profiles: profiles, Seen: counts[source].Seen}, eng
}

func TestProposeFixesTheMechanicalFailures(t *testing.T) {
	in, _ := keep(t, shopDrift)
	ss, err := Propose(in)
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[Kind]Suggestion{}
	for _, s := range ss {
		byKind[s.Kind] = s
	}
	tests := []struct {
		name   string
		kind   Kind
		edit   []string
		review []string
	}{
		{"a known state in other case maps to its output; a new one gets a marked placeholder", KindEnumValue,
			[]string{"Paid → PAID,", "on-hold → ", "(PLACEHOLDER)"}, []string{`"on-hold"`, "choose one of OPEN, PAID, SHIPPED"}},
		{"layouts for the forms a layout reads, day/month said", KindTimestampLayout,
			[]string{`"2006-01-02 15:04:05"`, `"02/01/2006 15:04"`, "day/month"}, nil},
		{"numbers sent as strings get an int transform", KindNumberTransform, []string{"quantity: transform int"}, nil},
		{"a renamed field is read under both names and stays redacted", KindRenamedField,
			[]string{`[customer.email, customer.email_address]`, "redact customer.email_address too"},
			[]string{"no kept record carries both customer.email and customer.email_address"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := byKind[tc.kind]
			if !ok {
				t.Fatalf("no %s suggestion in %+v", tc.kind, ss)
			}
			for _, w := range tc.edit {
				if !strings.Contains(s.Edit, w) {
					t.Errorf("edit %q lacks %q", s.Edit, w)
				}
			}
			review := strings.Join(s.Review, "\n")
			for _, w := range tc.review {
				if !strings.Contains(review, w) {
					t.Errorf("review %q lacks %q", review, w)
				}
			}
			if tc.review == nil && len(s.Review) > 0 {
				t.Errorf("a mechanical edit asks for review: %q", s.Review)
			}
		})
	}
	if ts := byKind[KindTimestampLayout]; len(ts.Unfixable) != 1 || ts.Unfixable[0].Text != `"yesterday"` {
		t.Errorf("unfixable timestamps %+v, want only \"yesterday\"", ts.Unfixable)
	}
}

func TestAppliedCandidateLoadsAndMapsTheFixedRecords(t *testing.T) {
	in, _ := keep(t, shopDrift)
	ss, err := Propose(in)
	if err != nil {
		t.Fatal(err)
	}
	text, err := Apply(in.RuleFile, ss, in.Source.Version()+1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "shop.yaml"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	cand, err := mapper.Load(dir, filepath.Join("testdata", "schemas"), mapper.Options{})
	if err != nil {
		t.Fatalf("candidate does not load: %v\n%s", err, text)
	}
	src := cand.Source("shop")
	if src.Version() != 4 {
		t.Errorf("version %d, want 4", src.Version())
	}
	for i, p := range shopDrift {
		res := src.Map(p)
		want := !strings.Contains(string(p), "yesterday")
		if res.Outcome.Delivered() != want {
			t.Errorf("payload %d %s: %s %+v, want delivered=%v", i, p, res.Outcome, res.Failures, want)
		}
	}
	if !strings.Contains(string(text), "REVIEW:") || !strings.Contains(string(text), "# A small shop feed") {
		t.Errorf("candidate lacks its placeholder's REVIEW or lost the file's comments:\n%s", text)
	}
	// The renamed field is redacted as the old one was.
	red := src.Redact(shopDrift[6])
	if strings.Contains(string(red), "Ana@") {
		t.Errorf("the renamed email is not redacted: %s", red)
	}
}

func TestLayoutAmbiguityIsSaid(t *testing.T) {
	in, _ := keep(t, [][]byte{payload("open", "01/02/2024 10:00", "1", "email")})
	ss, err := Propose(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || ss[0].Kind != KindTimestampLayout {
		t.Fatalf("suggestions %+v, want one layout", ss)
	}
	if r := strings.Join(ss[0].Review, "\n"); !strings.Contains(r, "reads as day/month") || !strings.Contains(r, "month/day") {
		t.Errorf("ambiguity not said: %q", r)
	}
	// The candidate says it on the edited line, and nowhere else.
	text, err := Apply(in.RuleFile, ss, in.Source.Version()+1)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(text), "\n") {
		if strings.Contains(l, "REVIEW") != strings.Contains(l, "timestamp: [") {
			t.Errorf("REVIEW is not on the edited layouts' line alone: %q\n%s", l, text)
		}
	}
}

func TestNothingToSuggestForCleanOrUnfixableRecords(t *testing.T) {
	in, _ := keep(t, [][]byte{shopDrift[8], payload("open", "yesterday", "1", "email"), []byte(`not json`), []byte(`{"id":1}`)})
	ss, err := Propose(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if s.Fixes() || s.NoFix == "" {
			t.Errorf("%s: %s %q, want no_fix with a reason", s.Category, s.Kind, s.Edit)
		}
	}
	if len(ss) == 0 {
		t.Fatal("no line for the unfixable categories")
	}
}

// shopWithInputSchema writes the testdata rules with an input schema
// whose state is restricted as stateSchema says, and returns the rules
// and schemas directories.
func shopWithInputSchema(t *testing.T, stateSchema string) (rules, schemas string) {
	t.Helper()
	dir := t.TempDir()
	rules, schemas = filepath.Join(dir, "rules"), filepath.Join(dir, "schemas")
	rule, err := os.ReadFile(filepath.Join("testdata", "rules", "shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(filepath.Join("testdata", "schemas", "shop.v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	rule = []byte(strings.Replace(string(rule), "output_schema:", "input_schema: shop.input.json\noutput_schema:", 1))
	in := `{
  "type": "object",
  "properties": {
    "state": {"$ref": "#/$defs/state"}
  },
  "$defs": {
    "state": ` + stateSchema + `
  }
}
`
	for p, b := range map[string][]byte{filepath.Join(rules, "shop.yaml"): rule, filepath.Join(schemas, "shop.v1.json"): out, filepath.Join(schemas, "shop.input.json"): []byte(in)} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return rules, schemas
}

func TestEnumSuggestionCarriesTheInputSchemaEdit(t *testing.T) {
	states := [][]byte{shopDrift[0], shopDrift[1], shopDrift[8]} // Paid, on-hold, shipped

	t.Run("new values are added to the schema's enum where it lists them, and the candidate maps them", func(t *testing.T) {
		rules, schemas := shopWithInputSchema(t, `{
      "type": "string",
      "enum": [
        "open",
        "paid",
        "shipped"
      ]
    }`)
		in, _ := keepWith(t, rules, schemas, states)
		ss, err := Propose(in)
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != 1 || ss[0].Kind != KindEnumValue {
			t.Fatalf("suggestions %+v, want one enum_value", ss)
		}
		want := []SchemaEdit{{File: "shop.input.json", Pointer: "/$defs/state", Add: []string{"Paid", "on-hold"}}}
		if got := ss[0].SchemaEdits; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("schema edits %+v, want %+v", got, want)
		}
		if !strings.Contains(ss[0].Edit, `input schema shop.input.json#/$defs/state enum: add ["Paid", "on-hold"]`) {
			t.Errorf("edit %q does not say the schema change", ss[0].Edit)
		}

		// Without the schema edit the candidate's new keys are dead: a
		// check error. With it, it loads and delivers both states.
		text, err := Apply(in.RuleFile, ss, in.Source.Version()+1)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(rules, "shop.yaml"), text, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := mapper.Load(rules, schemas, mapper.Options{}); err == nil || !strings.Contains(err.Error(), `enum key "on-hold" can never match`) {
			t.Fatalf("the candidate rules load against the old schema: %v", err)
		}
		p := filepath.Join(schemas, "shop.input.json")
		doc, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if doc, err = ApplySchema(doc, "shop.input.json", ss); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), "\"shipped\",\n        \"Paid\",\n        \"on-hold\"\n      ]") {
			t.Errorf("the enum's layout is not kept:\n%s", doc)
		}
		if err := os.WriteFile(p, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		cand, err := mapper.Load(rules, schemas, mapper.Options{})
		if err != nil {
			t.Fatalf("the candidate does not load: %v", err)
		}
		for _, pl := range states {
			if res := cand.Source("shop").Map(pl); !res.Outcome.Delivered() {
				t.Errorf("%s: %s %+v, want delivered", pl, res.Outcome, res.Failures)
			}
		}
	})

	t.Run("a const is not edited and the suggestion says so", func(t *testing.T) {
		rules, schemas := shopWithInputSchema(t, `{"const": "shipped"}`)
		rule, _ := os.ReadFile(filepath.Join(rules, "shop.yaml"))
		// Only keys the const gives, so that the rules load.
		rule = []byte(strings.Replace(string(rule), "{ open: OPEN, paid: PAID, shipped: SHIPPED }", "{ shipped: SHIPPED }", 1))
		if err := os.WriteFile(filepath.Join(rules, "shop.yaml"), rule, 0o644); err != nil {
			t.Fatal(err)
		}
		in, _ := keepWith(t, rules, schemas, [][]byte{shopDrift[1], shopDrift[8]})
		ss, err := Propose(in)
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != 1 || len(ss[0].SchemaEdits) != 0 {
			t.Fatalf("suggestions %+v, want one without schema edits", ss)
		}
		if r := strings.Join(ss[0].Review, "\n"); !strings.Contains(r, `const "shipped"`) || !strings.Contains(r, "change the input schema by hand") {
			t.Errorf("review %q does not say the const must be changed by hand", r)
		}
	})
}

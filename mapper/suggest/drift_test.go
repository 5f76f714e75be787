package suggest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/drift"
)

const ticketRules = `source: tickets
version: 1
topics: [tickets]
input_schema: tickets.input.json
output_schema: ticket.v1.json
input_contract: { unread: degrade }
fields:
  id:       { from: id, required: true }
  title:    { from: title, required: true }
  priority:
    from: priority
    required: true
    enum: { low: LOW, high: HIGH }
redact: [reporter_email]
`

const ticketSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["id", "title", "priority", "legacy_ref"],
  "properties": {
    "id": {"type": "string"},
    "title": {"type": "string"},
    "priority": {"type": "string", "enum": ["low", "high"]},
    "legacy_ref": {"type": "string"},
    "tags": {"type": "array"},
    "reporter_email": {"type": "string"}
  }
}
`

const ticketOutput = `{
  "type": "object",
  "required": ["id", "title", "priority"],
  "properties": {
    "id": {"type": "string"},
    "title": {"type": "string"},
    "priority": {"enum": ["LOW", "HIGH"]}
  }
}
`

// TestDriftEntriesNoSampleShowsGetContractEdits: the samples keep only
// clean tickets; the drift report, written by the drift package's Observer
// from the drifting ones, is all suggest knows of them. Each entry gets its
// contract edit with the report's counts, or a no_fix, and the candidate's
// contract takes the drifting tickets.
func TestDriftEntriesNoSampleShowsGetContractEdits(t *testing.T) {
	dir := t.TempDir()
	rules, schemas := filepath.Join(dir, "rules"), filepath.Join(dir, "schemas")
	for p, body := range map[string]string{filepath.Join(rules, "tickets.yaml"): ticketRules, filepath.Join(schemas, "tickets.input.json"): ticketSchema,
		filepath.Join(schemas, "ticket.v1.json"): ticketOutput} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var clean, drifting [][]byte
	for i := range 6 {
		clean = append(clean, fmt.Appendf(nil, `{"id":"T%d","title":"t","priority":"low","legacy_ref":"L%d","tags":[]}`, i, i))
	}
	for i := range 10 {
		drifting = append(drifting,
			fmt.Appendf(nil, `{"id":"U%d","title":"t","priority":"urgent","legacy_ref":"L","reporter_email":"r%d@secret.example"}`, i, i), // a new enum value
			fmt.Appendf(nil, `{"id":"A%d","title":"t","priority":"low","app":"x%d"}`, i, i),                                               // legacy_ref absent, a new property
			fmt.Appendf(nil, `{"id":"S%d","title":"t","priority":"high","legacy_ref":"L","tags":"a,b"}`, i),                               // tags as a string
		)
	}
	drifting = append(drifting, []byte(`{"id":"N1","priority":"low","legacy_ref":"L"}`)) // the title, which a rule reads, absent
	in, eng := keepWithSource(t, rules, schemas, "tickets", clean)
	src := eng.Source("tickets")
	obs, err := drift.Open(drift.Config{Dir: filepath.Join(dir, "samples")})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(append([][]byte(nil), clean...), drifting...) {
		res := src.Map(p)
		obs.Observe(nil, src, p, &res, 0)
	}
	if err := obs.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := drift.ReadFile(filepath.Join(dir, "samples"), "tickets")
	if err != nil {
		t.Fatal(err)
	}
	in.Drift = &rep
	ss, err := Propose(in)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*Suggestion{}
	for i := range ss {
		got[ss[i].Category] = &ss[i]
		t.Logf("%s %s (%d records): %s %v", ss[i].Kind, ss[i].Category, ss[i].Records, ss[i].Edit, ss[i].Review)
	}
	for _, tc := range []struct {
		cat      string
		kind     Kind
		records  uint64
		evidence string
	}{
		{"unknown_enum:priority", KindEnumValue, 10, "outside the enum in 10 of 37 records (27%), drift report"},
		{"missing_field:legacy_ref", KindContractOptional, 10, "absent in 10 of 37 records (27%), drift report"},
		{"unexpected_field:app", KindContractProperty, 10, "seen in 10 of 37 records (27%), drift report"},
		{"type_mismatch:tags", KindContractProperty, 10, "string in 10 of 37 records (27%), drift report"},
		{"missing_field:title", KindNoFix, 1, "the rules read it"},
	} {
		t.Run(tc.cat, func(t *testing.T) {
			s := got[tc.cat]
			if s == nil {
				t.Fatalf("no suggestion for %s: %+v", tc.cat, ss)
			}
			if s.Kind != tc.kind || s.Records != tc.records || !strings.Contains(s.Edit, tc.evidence) {
				t.Errorf("%s: %s (%d records) %q; want %s (%d records) saying %q", tc.cat, s.Kind, s.Records, s.Edit, tc.kind, tc.records, tc.evidence)
			}
			if tc.kind != KindNoFix && (s.Traffic == nil || s.Traffic.Records != rep.Records) {
				t.Errorf("%s: traffic %+v, want the report's", tc.cat, s.Traffic)
			}
		})
	}
	// The candidate's contract takes the drifting tickets (but the one
	// without the title the rules read).
	text, err := Apply(in.RuleFile, ss, 2)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ApplySchema([]byte(ticketSchema), "tickets.input.json", ss)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc)+string(text), "secret.example") {
		t.Errorf("a redacted value reached the candidate:\n%s\n%s", text, doc)
	}
	for p, body := range map[string][]byte{filepath.Join(rules, "tickets.yaml"): text, filepath.Join(schemas, "tickets.input.json"): doc} {
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cand, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatalf("the candidate does not load: %v\n%s\n%s", err, text, doc)
	}
	for _, p := range drifting[:len(drifting)-1] {
		if res := cand.Source("tickets").Map(p); res.Outcome != mapper.OutcomeMapped {
			t.Errorf("%s: %s %v with the candidate", p, res.Outcome, res.Failures)
		}
	}
	// A report written before the candidate shipped proposes nothing the
	// candidate's contract answers already.
	again, err := Propose(Input{Source: cand.Source("tickets"), RuleFile: text, Samples: in.Samples, Drift: &rep})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range again {
		if s.Category != "missing_field:title" {
			t.Errorf("the candidate's contract answers %s, yet: %s %s", s.Category, s.Kind, s.Edit)
		}
	}
}

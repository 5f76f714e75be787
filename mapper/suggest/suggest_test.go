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

// drift is the shop feed after its partner changed things; each payload
// fails one way.
var drift = [][]byte{
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
func keep(t *testing.T, payloads [][]byte) (Input, *mapper.Engine) {
	t.Helper()
	eng, err := mapper.Load(filepath.Join("testdata", "rules"), filepath.Join("testdata", "schemas"), mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("shop")
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
	return Input{Source: src, RuleFile: text, Samples: in, Profiles: profiles, Seen: counts["shop"].Seen}, eng
}

func TestProposeFixesTheMechanicalFailures(t *testing.T) {
	in, _ := keep(t, drift)
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
		{"numbers sent as strings get an int transform", KindTypeTransform, []string{"quantity: transform int"}, nil},
		{"a renamed field is read under both names and stays redacted", KindRenamedField,
			[]string{`["customer.email", "customer.email_address"]`, "redact customer.email_address too"}, nil},
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
	in, _ := keep(t, drift)
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
	for i, p := range drift {
		res := src.Map(p)
		want := !strings.Contains(string(p), "yesterday")
		if res.Outcome.Delivered() != want {
			t.Errorf("payload %d %s: %s %+v, want delivered=%v", i, p, res.Outcome, res.Failures, want)
		}
	}
	if !strings.Contains(string(text), "REVIEW:") || !strings.Contains(string(text), "# A small shop feed") {
		t.Errorf("candidate lacks its review header or lost the file's comments:\n%s", text)
	}
	// The renamed field is redacted as the old one was.
	red := src.Redact(drift[6])
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
}

func TestNothingToSuggestForCleanOrUnfixableRecords(t *testing.T) {
	in, _ := keep(t, [][]byte{drift[8], payload("open", "yesterday", "1", "email"), []byte(`not json`), []byte(`{"id":1}`)})
	ss, err := Propose(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 0 {
		t.Fatalf("suggestions for nothing mechanical: %+v", ss)
	}
}

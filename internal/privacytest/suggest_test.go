package privacytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
	"github.com/mapperhq/mapper/mapper/suggest"
)

// TestSuggestLeavesNoMarkerOfARedactedPath: suggest reads the kept
// samples of payloads whose redacted paths carry markers, in every shape
// the generator makes, plus drift around the redacted fields (a renamed
// e-mail, new properties beside it, unknown states); nothing it returns
// or writes — the suggestions (edits, values, review, no_fix lines), the
// candidate rule file, the candidate schema files and the generated rule
// tests — holds a marker.
func TestSuggestLeavesNoMarkerOfARedactedPath(t *testing.T) {
	eng := loadOrders(t)
	src := eng.Source("orders")
	dir := t.TempDir()
	st, err := samples.Open(samples.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(17, 2026))
	var probes []string
	keep := func(p []byte) {
		res := src.Map(p)
		st.Add(src, nil, p, &res, "privacy")
	}
	for i := range 200 {
		m := marker(r)
		probes = append(probes, m[:8])
		g := &payloadGen{r: r, marker: m}
		keep(g.payload())
		// Drift next to the redacted fields.
		switch i % 4 {
		case 0:
			keep(fmt.Appendf(nil, `{"order_id":"O-%d","state":"OPEN","customer":{"email_address":"%s@example.org","name":"%s"}}`, i, m, m))
		case 1:
			keep(fmt.Appendf(nil, `{"order_id":"O-%d","state":"ON_HOLD","customer":{"email":"%s@example.org","phone":"%s"}}`, i, m, m))
		case 2:
			keep(fmt.Appendf(nil, `{"order_id":"O-%d","state":"OPEN","customer":{"email":null,"contact":{"email":"%s@example.org"}}}`, i, m))
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	kept, err := samples.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ruleFile := filepath.Join("testdata", "rules", "orders.yaml")
	text, err := os.ReadFile(ruleFile)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := suggest.Propose(suggest.Input{Source: src, RuleFile: text, Samples: kept, Schemas: os.DirFS(filepath.Join("testdata", "schemas"))})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string][]byte{}
	js, err := json.Marshal(ss)
	if err != nil {
		t.Fatal(err)
	}
	outputs["suggestions"] = js
	cand, err := suggest.Apply(text, ss, src.Version()+1)
	if err != nil {
		t.Fatal(err)
	}
	outputs["candidate rules"] = cand
	candDir := t.TempDir()
	rules, schemas := filepath.Join(candDir, "rules"), filepath.Join(candDir, "schemas")
	if err := os.CopyFS(schemas, os.DirFS(filepath.Join("testdata", "schemas"))); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"orders.input.json", "order.json"} {
		doc, err := os.ReadFile(filepath.Join(schemas, f))
		if err != nil {
			t.Fatal(err)
		}
		if doc, err = suggest.ApplySchema(doc, f, ss); err != nil {
			t.Fatal(err)
		}
		outputs["candidate schema "+f] = doc
		if err := os.WriteFile(filepath.Join(schemas, f), doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(rules, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rules, "orders.yaml"), cand, 0o644); err != nil {
		t.Fatal(err)
	}
	candEng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatalf("the candidate does not load: %v\n%s", err, cand)
	}
	cases, _ := suggest.TestCases(src, candEng.Source("orders"), ss, kept)
	if len(cases) == 0 {
		t.Fatal("no rule test generated: the property would check nothing there")
	}
	tests, err := suggest.AppendTestCases(nil, cases)
	if err != nil {
		t.Fatal(err)
	}
	outputs["generated rule tests"] = tests
	fixes := 0
	for _, s := range ss {
		if s.Fixes() {
			fixes++
		}
	}
	if fixes == 0 {
		t.Fatalf("no edit proposed: the property would check nothing: %s", js)
	}
	for where, b := range outputs {
		for _, p := range probes {
			if bytes.Contains(b, []byte(p)) {
				t.Errorf("%s holds the marker %q of a redacted path:\n%s", where, p, b)
				break
			}
		}
	}
}

package infer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aymanbagabas/go-udiff"
)

// driftedOrders are orders of a feed that moved on from its contract
// (testdata/against/orders.input.json): JPY and GBP charges, numeric
// amounts, an e-mail that is not one, a new phone and refunds (always
// null), shipping objects where the contract says null, item titles, an
// order without items, statuses refunded and null.
func driftedOrders() [][]byte {
	var out [][]byte
	for i := range 60 {
		o := map[string]any{
			"order_id": fmt.Sprintf("O-%d", i),
			"customer": map[string]any{"email": fmt.Sprintf("c%d@example.org", i), "name": "Ann"},
			"items":    []any{map[string]any{"sku": "S", "qty": 1, "price": "1.00"}},
			"amount":   "1.00",
			"currency": []string{"EUR", "USD", "JPY"}[i%3],
			"status":   []string{"paid", "pending"}[i%2],
			"created":  "2024-05-01T12:00:00Z",
			"shipping": nil,
			"refunds":  nil,
		}
		switch {
		case i%10 == 0:
			o["amount"] = 12.5
		case i%10 == 1:
			o["shipping"] = map[string]any{"method": "express", "eta_days": 2}
		case i%10 == 2:
			o["customer"].(map[string]any)["phone"] = "+351 000"
		case i%10 == 3:
			o["items"].([]any)[0].(map[string]any)["title"] = "Widget"
		}
		switch i {
		case 5:
			o["customer"].(map[string]any)["email"] = "not an address"
		case 6:
			delete(o, "items")
		case 7:
			o["currency"] = "GBP"
		case 8:
			o["status"] = "refunded"
		case 9:
			o["status"] = nil
		}
		b, _ := json.Marshal(o)
		out = append(out, b)
	}
	return out
}

func TestAgainstWidensTheContractInPlace(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join("testdata", "against", "orders.input.json"))
	if err != nil {
		t.Fatal(err)
	}
	payloads := driftedOrders()
	rejected := 0
	before := compile(t, orig)
	for _, p := range payloads {
		if validate(before, p) != nil {
			rejected++
		}
	}
	if rejected == 0 {
		t.Fatal("the contract accepts every drifted order already; the test needs some it rejects")
	}
	in := New(Options{})
	for _, p := range payloads {
		if err := in.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	merged, changes, notes, err := in.Against(orig)
	if err != nil {
		t.Fatal(err)
	}
	after := compile(t, merged)
	for _, p := range payloads {
		if err := validate(after, p); err != nil {
			t.Errorf("the merged schema rejects %s: %v", p, err)
		}
	}
	var report bytes.Buffer
	for _, c := range changes {
		fmt.Fprintln(&report, c)
	}
	for _, n := range notes {
		fmt.Fprintln(&report, "note:", n)
	}
	report.WriteString("\n")
	report.WriteString(udiff.Unified("orders.input.json", "orders.input.json (merged)", string(orig), string(merged)))
	golden(t, filepath.Join("against", "orders.changes.golden"), report.Bytes())

	t.Run("only the changed lines differ", func(t *testing.T) {
		// Every line of the original that the diff does not remove is in
		// the merged document, in order.
		diff := udiff.Unified("a", "b", string(orig), string(merged))
		removed := 0
		for _, l := range strings.Split(diff, "\n") {
			if strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "---") {
				removed++
			}
		}
		if removed > len(changes)+2 {
			t.Errorf("%d lines removed for %d changes:\n%s", removed, len(changes), diff)
		}
	})
	t.Run("merging again changes nothing", func(t *testing.T) {
		again, changes, _, err := in.Against(merged)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 0 || !bytes.Equal(again, merged) {
			t.Errorf("second merge: %v\n%s", changes, udiff.Unified("merged", "again", string(merged), string(again)))
		}
	})
}

func TestAgainstRefusesWhatIsNotASchemaObject(t *testing.T) {
	in := New(Options{})
	in.Add([]byte(`{"a":1}`))
	for _, doc := range []string{"", "[1]", `{"a":`, `"x"`} {
		if _, _, _, err := in.Against([]byte(doc)); err == nil {
			t.Errorf("Against(%q) took it", doc)
		}
	}
}

func TestEditorKeepsLayout(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		do   func(e *editor, root *jval)
		want string
	}{
		{"a member added to a one-line object stays on the line", `{"a": {"type": "string"}}`,
			func(e *editor, r *jval) { e.addMember(r.member("a"), "format", "email") },
			`{"a": {"type": "string", "format": "email"}}`},
		{"a member added to a multi-line object gets its own line, on one line beside one-line siblings", "{\n    \"a\": 1,\n    \"b\": 2\n}",
			func(e *editor, r *jval) { e.addMember(r, "c", map[string]any{"type": "string"}) },
			"{\n    \"a\": 1,\n    \"b\": 2,\n    \"c\": {\"type\": \"string\"}\n}"},
		{"beside a multi-line sibling the value is laid out the same way", "{\n    \"a\": {\n        \"x\": 1\n    }\n}",
			func(e *editor, r *jval) { e.addMember(r, "c", map[string]any{"type": "string"}) },
			"{\n    \"a\": {\n        \"x\": 1\n    },\n    \"c\": {\n        \"type\": \"string\"\n    }\n}"},
		{"the first two members removed", `{"a": 1, "b": 2, "c": 3}`,
			func(e *editor, r *jval) { e.removeMember(r, "a"); e.removeMember(r, "b") },
			`{"c": 3}`},
		{"the last two members removed", "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}",
			func(e *editor, r *jval) { e.removeMember(r, "c"); e.removeMember(r, "b") },
			"{\n  \"a\": 1\n}"},
		{"every member removed", `{"a": {"x": 1}}`,
			func(e *editor, r *jval) { e.removeMember(r.member("a"), "x") },
			`{"a": {}}`},
		{"an array one per line stays so", "{\"e\": [\n  \"A\",\n  \"B\"\n]}",
			func(e *editor, r *jval) { e.setArray(r.member("e"), append(e.rawElems(r.member("e")), `"C"`)) },
			"{\"e\": [\n  \"A\",\n  \"B\",\n  \"C\"\n]}"},
		{"a compact array stays compact", `{"e":["A","B"]}`,
			func(e *editor, r *jval) { e.setArray(r.member("e"), append(e.rawElems(r.member("e")), `"C"`)) },
			`{"e":["A","B","C"]}`},
		{"a string type becomes a list", `{"type": "string"}`,
			func(e *editor, r *jval) { e.replace(r.member("type"), []string{"string", "null"}) },
			`{"type": ["string", "null"]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root, err := parseSpans([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			e := newEditor([]byte(tc.doc), root)
			tc.do(e, root)
			if got := string(e.apply()); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// FuzzAgainst: whatever JSON document stands for the schema, Against
// returns an error or valid JSON, and never panics.
func FuzzAgainst(f *testing.F) {
	orig, err := os.ReadFile(filepath.Join("testdata", "against", "orders.input.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(orig)
	f.Add([]byte(`{"properties": {"a": {"type": "null", "enum": [null]}}, "required": ["a", 1, null]}`))
	f.Add([]byte(`{"properties": {}, "required": [], "type": []}`))
	f.Add([]byte(`{"items": {"properties": {"x": {"format": "email", "type": "string"}}}}`))
	in := New(Options{})
	for _, p := range driftedOrders() {
		in.Add(p)
	}
	in.Add([]byte(`{"a": {"b": [1, "x", null]}, "x": "not-an-email", "items": {"x": 1}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, _, _, err := in.Against(doc)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON out of\n%s\n---\n%s", doc, out)
		}
	})
}

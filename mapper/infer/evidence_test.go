package infer

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// propertyOf infers from lines and returns the schema of one top-level
// property.
func propertyOf(t *testing.T, lines []string, prop string) map[string]any {
	t.Helper()
	in := New(Options{})
	for _, l := range lines {
		if err := in.Add([]byte(l)); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
	}
	p, _ := in.Schema("")["properties"].(map[string]any)[prop].(map[string]any)
	return p
}

func repeat(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func TestEnumOnlyWithEvidence(t *testing.T) {
	tests := []struct {
		name  string
		prop  string
		lines []string
		enum  []any // nil: no enum
	}{
		{"three records of one currency give no enum", "currency",
			[]string{`{"currency":"usd"}`, `{"currency":"usd"}`, `{"currency":"usd"}`}, nil},
		{"one value however often is a constant of the capture, not a closed set", "currency",
			repeat(500, func(int) string { return `{"currency":"usd"}` }), nil},
		{"two values in ten records is too few records", "status",
			repeat(10, func(i int) string { return fmt.Sprintf(`{"status":%q}`, []string{"open", "paid"}[i%2]) }), nil},
		{"a value seen once says the set is open", "status",
			append(repeat(99, func(i int) string { return fmt.Sprintf(`{"status":%q}`, []string{"open", "paid"}[i%2]) }), `{"status":"refunded"}`), nil},
		{"more distinct values than the square root of the records", "code",
			repeat(40, func(i int) string { return fmt.Sprintf(`{"code":"c%d"}`, i%10) }), nil},
		{"identifiers repeat but are no closed set", "org_id",
			repeat(60, func(i int) string { return fmt.Sprintf(`{"org_id":"o%d"}`, i%2) }), nil},
		{"links are no closed set", "home",
			repeat(60, func(i int) string { return fmt.Sprintf(`{"home":"https://example.org/%d"}`, i%2) }), nil},
		{"free text is no closed set", "note",
			repeat(60, func(i int) string { return fmt.Sprintf(`{"note":"please leave it at the door %d"}`, i%2) }), nil},
		{"few values each seen often in enough records", "status",
			repeat(40, func(i int) string { return fmt.Sprintf(`{"status":%q}`, []string{"open", "paid", "void"}[i%3]) }),
			[]any{"open", "paid", "void"}},
		{"nulls seen join the enum", "status",
			repeat(40, func(i int) string {
				if i%10 == 0 {
					return `{"status":null}`
				}
				return fmt.Sprintf(`{"status":%q}`, []string{"open", "paid"}[i%2])
			}),
			[]any{"open", "paid", nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := propertyOf(t, tc.lines, tc.prop)
			if p == nil {
				t.Fatalf("no property %s", tc.prop)
			}
			got, _ := p["enum"].([]any)
			if !reflect.DeepEqual(got, tc.enum) {
				t.Errorf("enum %v, want %v (schema %v)", got, tc.enum, p)
			}
		})
	}
}

func TestNullOnlyPropertiesGetNoType(t *testing.T) {
	in := New(Options{})
	for _, l := range []string{`{"a":1,"refunds":null,"card":{"wallet":null}}`, `{"a":2,"refunds":null,"card":{"wallet":null}}`} {
		if err := in.Add([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if got := in.NullOnly(); !reflect.DeepEqual(got, []string{"card.wallet", "refunds"}) {
		t.Errorf("NullOnly %v", got)
	}
	b, err := in.JSON("")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	r := s.Properties["refunds"]
	if _, typed := r["type"]; typed || !strings.Contains(fmt.Sprint(r["description"]), "Only null seen (2 times)") {
		t.Errorf("refunds: %v; want no type and a note", r)
	}
	// The object a later record carries validates.
	sch := compile(t, b)
	if err := validate(sch, []byte(`{"a":3,"refunds":{"data":[]},"card":{"wallet":{"type":"apple_pay"}}}`)); err != nil {
		t.Errorf("a later record with objects where nulls were is rejected: %v", err)
	}
}

func TestFormatOnlyWhenEveryValueHasIt(t *testing.T) {
	lines := repeat(30, func(i int) string { return `{"at":"2024-05-01T12:00:00Z","maybe":"2024-05-01T12:00:00Z"}` })
	lines = append(lines, `{"at":"2024-05-02T08:00:00+02:00","maybe":"yesterday"}`)
	if f := propertyOf(t, lines, "at")["format"]; f != "date-time" {
		t.Errorf("at: format %v, want date-time", f)
	}
	if f, ok := propertyOf(t, lines, "maybe")["format"]; ok {
		t.Errorf("maybe: format %v, but one value is not a date-time", f)
	}
}

// orderWorkload writes n orders shaped like the benchmark workload's: five
// statuses, 30% defective records of six kinds (unknown statuses among
// them, and truncated lines), in a fixed random order.
func orderWorkload(n int, each func(line []byte)) {
	r := rand.New(rand.NewPCG(42, 7))
	statuses := []string{"paid", "pending", "shipped", "cancelled", "refunded"}
	unknown := []string{"PAID_OUT", "on-hold", "unknown", "Chargeback"}
	currencies := []string{"USD", "EUR", "GBP", "JPY", "BRL"}
	for i := range n {
		o := map[string]any{
			"order_id": fmt.Sprintf("ORD-%09d", i),
			"source":   []string{"partner-alpha", "partner-beta", "partner-gamma"}[r.IntN(3)],
			"customer": map[string]any{"email": fmt.Sprintf("c%d@example.org", r.IntN(1000)), "name": fmt.Sprintf("Ana %d", r.IntN(80))},
			"items":    []any{map[string]any{"sku": fmt.Sprintf("SKU-%d", 10000+r.IntN(90000)), "qty": 1 + r.IntN(5), "price": "12.50"}},
			"amount":   fmt.Sprintf("%d.%02d", r.IntN(900), r.IntN(100)),
			"currency": currencies[r.IntN(len(currencies))],
			"status":   statuses[r.IntN(len(statuses))],
			"created":  "2024-05-01T12:00:00Z",
		}
		defect := -1
		if r.Float64() < 0.3 {
			defect = r.IntN(6)
		}
		switch defect {
		case 0:
			delete(o, "amount")
		case 1:
			o["status"] = nil
		case 2:
			o["amount"] = 12.5
		case 3:
			o["status"] = unknown[r.IntN(len(unknown))]
		case 4:
			o["created"] = "yesterday"
		}
		b, _ := json.Marshal(o)
		if defect == 5 {
			b = b[:20+r.IntN(len(b)-25)]
		}
		each(b)
	}
}

// TestTheStatusEnumSurvivesABenchSizedWorkload: 200,000 orders (20,000
// with -short) still give the status enum, defects included, and no enum
// for identifiers, e-mails or names.
func TestTheStatusEnumSurvivesABenchSizedWorkload(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	in := New(Options{})
	skipped := 0
	orderWorkload(n, func(line []byte) {
		if in.Add(line) != nil {
			skipped++
		}
	})
	if skipped == 0 || in.Records()+skipped != n {
		t.Fatalf("%d records, %d skipped of %d", in.Records(), skipped, n)
	}
	props := in.Schema("")["properties"].(map[string]any)
	enum := func(p map[string]any) []any { e, _ := p["enum"].([]any); return e }
	want := []any{"Chargeback", "PAID_OUT", "cancelled", "on-hold", "paid", "pending", "refunded", "shipped", "unknown", nil}
	if got := enum(props["status"].(map[string]any)); !reflect.DeepEqual(got, want) {
		t.Errorf("status enum %v, want %v", got, want)
	}
	if got := enum(props["currency"].(map[string]any)); len(got) != 5 {
		t.Errorf("currency enum %v, want the 5 currencies", got)
	}
	for _, p := range []string{"order_id", "amount"} {
		if e := enum(props[p].(map[string]any)); e != nil {
			t.Errorf("%s got an enum %v", p, e)
		}
	}
	customer := props["customer"].(map[string]any)["properties"].(map[string]any)
	for _, p := range []string{"email", "name"} {
		if e := enum(customer[p].(map[string]any)); e != nil {
			t.Errorf("customer.%s got an enum of %d values", p, len(e))
		}
	}
}

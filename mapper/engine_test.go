package mapper_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

func loadTestdata(tb testing.TB) *mapper.Engine {
	tb.Helper()
	eng, err := mapper.Load("testdata/rules", "testdata/schemas", mapper.Options{MaxPayloadBytes: 4096, MaxDepth: 8})
	if err != nil {
		tb.Fatalf("load: %v", err)
	}
	return eng
}

type rf struct{ reason, field string }

func failuresOf(r mapper.Result) []rf {
	var out []rf
	for _, f := range r.Failures {
		out = append(out, rf{string(f.Reason), f.Field})
	}
	return out
}

func TestMapShop(t *testing.T) {
	src := loadTestdata(t).Source("shop")
	tests := []struct {
		name     string
		payload  string
		outcome  mapper.Outcome
		failures []rf
		output   string // compared when not empty
	}{
		{"clean record is mapped with every option applied",
			`{"ref":"S-1","customer":{"email":" Ana@X.COM ","tier":"gold"},"amount":"12.30","tags":"a; b","placed":"21/11/2024 10:00","note":null,"kind":"exp","lines":[{"sku":"ab-1","qty":"2"},{"sku":"cd-2"}]}`,
			mapper.OutcomeMapped, nil,
			`{"id":"S-1","customer":{"email":"ana@x.com","tier":"gold"},"total_cents":1230,"tags":["a","b"],"placed_at":"2024-11-21T10:00:00Z","note":null,"kind":"express","items":[{"sku":"AB-1","quantity":2},{"sku":"CD-2"}]}`},
		{"fallback source path is used when the first is absent",
			`{"legacy":{"ref":"S-2"},"contact":{"email":"b@x.com"},"customer":{"tier":"gold"},"kind":"std"}`,
			mapper.OutcomeMapped, nil,
			`{"id":"S-2","customer":{"email":"b@x.com","tier":"gold"},"kind":"standard"}`},
		{"case value wins over the enum",
			`{"ref":"S-3","customer":{"email":"c@x.com","tier":"t"},"gift":true,"kind":"nope"}`,
			mapper.OutcomeMapped, nil,
			`{"id":"S-3","customer":{"email":"c@x.com","tier":"t"},"kind":"gift"}`},
		{"default fills a missing optional field and degrades",
			`{"ref":"S-4","customer":{"email":"d@x.com"},"kind":"std"}`,
			mapper.OutcomeDegraded, []rf{{"defaulted", "customer.tier"}},
			`{"id":"S-4","customer":{"email":"d@x.com","tier":"standard"},"kind":"standard"}`},
		{"unexpected field degrades",
			`{"ref":"S-5","customer":{"email":"e@x.com","tier":"t"},"kind":"std","coupon":"X"}`,
			mapper.OutcomeDegraded, []rf{{"unexpected_field", "coupon"}}, ""},
		{"missing required field names the deepest candidate path",
			`{"legacy":{},"customer":{"email":"f@x.com","tier":"t"},"kind":"std"}`,
			mapper.OutcomeRejected, []rf{{"missing_field", "legacy.ref"}}, ""},
		{"null required field",
			`{"ref":"S-7","customer":{"email":null,"tier":"t"},"kind":"std"}`,
			mapper.OutcomeRejected, []rf{{"null_field", "customer.email"}}, ""},
		{"type mismatch from the input schema",
			`{"ref":"S-8","customer":{"email":"g@x.com","tier":"t"},"kind":"std","gift":"yes"}`,
			mapper.OutcomeRejected, []rf{{"type_mismatch", "gift"}}, ""},
		{"invalid format from a transform",
			`{"ref":"S-9","customer":{"email":"h@x.com","tier":"t"},"kind":"std","placed":"tomorrow"}`,
			mapper.OutcomeRejected, []rf{{"invalid_format", "placed"}}, ""},
		{"unknown enum value",
			`{"ref":"S-10","customer":{"email":"i@x.com","tier":"t"},"kind":"overnight"}`,
			mapper.OutcomeRejected, []rf{{"unknown_enum", "kind"}}, ""},
		{"out of range inside an array has a normalised path",
			`{"ref":"S-11","customer":{"email":"j@x.com","tier":"t"},"kind":"std","lines":[{"sku":"a","qty":1},{"sku":"b","qty":100}]}`,
			mapper.OutcomeRejected, []rf{{"out_of_range", "lines[].qty"}}, ""},
		{"required field inside each",
			`{"ref":"S-12","customer":{"email":"k@x.com","tier":"t"},"kind":"std","lines":[{"qty":1}]}`,
			mapper.OutcomeRejected, []rf{{"missing_field", "lines[].sku"}}, ""},
		{"output schema failure is output_invalid at the output path",
			`{"ref":"X-13","customer":{"email":"not-an-email","tier":"t"},"kind":"std"}`,
			mapper.OutcomeRejected, []rf{{"output_invalid", "id"}, {"output_invalid", "customer.email"}}, ""},
		{"every failure of a record is listed in order",
			`{"customer":{"email":5,"tier":"t"},"kind":"x","placed":"soon","extra":1}`,
			mapper.OutcomeRejected, []rf{{"type_mismatch", "customer.email"}, {"unexpected_field", "extra"}, {"missing_field", "ref"}, {"invalid_format", "placed"}, {"unknown_enum", "kind"}}, ""},
		{"truncated JSON is malformed", `{"ref":"S-1","customer":{`, mapper.OutcomeRejected, []rf{{"malformed_payload", ""}}, "null"},
		{"non-object JSON is malformed", `[1,2]`, mapper.OutcomeRejected, []rf{{"malformed_payload", ""}}, "null"},
		{"duplicate keys are malformed", `{"ref":"a","ref":"b"}`, mapper.OutcomeRejected, []rf{{"malformed_payload", ""}}, "null"},
		{"invalid UTF-8 is malformed", "{\"ref\":\"\xff\"}", mapper.OutcomeRejected, []rf{{"malformed_payload", ""}}, "null"},
		{"NaN is malformed", `{"ref":NaN}`, mapper.OutcomeRejected, []rf{{"malformed_payload", ""}}, "null"},
		{"too deep is malformed", `{"a":[[[[[[[[[1]]]]]]]]]}`, mapper.OutcomeRejected, []rf{{"malformed_payload", ""}}, "null"},
		{"too large is malformed", `{"ref":"` + strings.Repeat("x", 5000) + `"}`, mapper.OutcomeRejected, []rf{{"malformed_payload", ""}}, "null"},
		{"empty payload is malformed", ``, mapper.OutcomeRejected, []rf{{"malformed_payload", ""}}, "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := src.Map([]byte(tt.payload))
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %s, want %s (failures %v)", res.Outcome, tt.outcome, res.Failures)
			}
			if got := failuresOf(res); fmt.Sprint(got) != fmt.Sprint(tt.failures) {
				t.Errorf("failures = %v, want %v", got, tt.failures)
			}
			for _, f := range res.Failures {
				if f.Detail == "" {
					t.Errorf("failure %v has no detail", f)
				}
			}
			if tt.output != "" && string(res.Output) != tt.output {
				t.Errorf("output = %s\nwant     %s", res.Output, tt.output)
			}
			if !json.Valid(res.Output) {
				t.Errorf("output is not valid JSON: %s", res.Output)
			}
		})
	}
}

func TestMapIsDeterministicAndReusesBuffers(t *testing.T) {
	src := loadTestdata(t).Source("shop")
	payloads := []string{
		`{"customer":{"email":5,"tier":"t"},"kind":"x","placed":"soon","extra":1}`,
		`{"ref":"S-1","customer":{"email":"a@x.com","tier":"t"},"kind":"std"}`,
		`{"ref":`,
	}
	var m mapper.Mapper
	var res mapper.Result
	for round := 0; round < 3; round++ {
		for _, p := range payloads {
			want := src.Map([]byte(p))
			m.Map(src, []byte(p), &res)
			if got, w := string(res.AppendJSON(nil)), string(want.AppendJSON(nil)); got != w {
				t.Fatalf("round %d: reused mapper gave\n%s\nfresh gave\n%s", round, got, w)
			}
		}
	}
}

func TestUnknownSource(t *testing.T) {
	res := mapper.UnknownSource("some.topic")
	if res.Outcome != mapper.OutcomeRejected || len(res.Failures) != 1 || res.Failures[0].Reason != mapper.ReasonUnknownSource {
		t.Fatalf("got %+v", res)
	}
}

func TestEngineLookups(t *testing.T) {
	eng := loadTestdata(t)
	if eng.SourceForTopic("shop.raw") != eng.Source("shop") || eng.Source("shop") == nil {
		t.Fatal("topic lookup does not find the source")
	}
	if eng.SourceForTopic("nope") != nil {
		t.Fatal("unclaimed topic found a source")
	}
	s := eng.Source("shop")
	if s.Version() != 7 || s.Objective().MappedRatio != 0.9 || len(s.RedactPaths()) != 2 {
		t.Fatalf("source attributes: version %d objective %v redact %v", s.Version(), s.Objective(), s.RedactPaths())
	}
}

func ExampleSource_Map() {
	eng, err := mapper.Load("../rules", "../schemas", mapper.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	res := eng.Source("orders").Map([]byte(`{"order_id":"A-1","customer":{"email":" Ana@Example.COM"},"items":[{"sku":"S","qty":1,"price":"9.99"}],"amount":"9.99","currency":"EUR","status":"on-hold","created":1714564800}`))
	fmt.Println(string(res.AppendJSON(nil)))
	// Output:
	// {"outcome":"rejected","output":{"id":"A-1","email":"ana@example.com","total_cents":999,"currency":"EUR","created_at":"2024-05-01T12:00:00Z","item_count":1},"failures":[{"reason":"unknown_enum","field":"status","detail":"\"on-hold\" is not one of \"paid\", \"pending\", \"shipped\", \"cancelled\", \"refunded\""}]}
}

func TestFailuresAreCapped(t *testing.T) {
	eng, err := mapper.Load("testdata/rules", "testdata/schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("shop")
	var b strings.Builder
	b.WriteString(`{`)
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, `"x%d":1,`, i)
	}
	b.WriteString(`"customer":{"tier":"t"}}`) // and no ref, no email: rejecting failures come last
	res := src.Map([]byte(b.String()))
	if len(res.Failures) != mapper.MaxFailures {
		t.Fatalf("%d failures listed, want %d", len(res.Failures), mapper.MaxFailures)
	}
	if res.Outcome != mapper.OutcomeRejected {
		t.Fatalf("outcome %s", res.Outcome)
	}
	var rejecting int
	for _, f := range res.Failures {
		if f.Reason.Severity() == mapper.OutcomeRejected {
			rejecting++
		}
	}
	if rejecting != 2 {
		t.Errorf("%d rejecting failures listed, want 2 (missing ref and email): %v", rejecting, res.Failures[90:])
	}
}

package mapper_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

func rule(name, topics, accept string) string {
	r := "source: " + name + "\nversion: 1\ntopics: [" + topics + "]\noutput_schema: out.json\nfields:\n  id: { from: id, required: true }\n"
	if accept != "" {
		r += "accept:\n" + accept
	}
	return r
}

func hdr(kv ...string) []mapper.Header {
	var hs []mapper.Header
	for i := 0; i+1 < len(kv); i += 2 {
		hs = append(hs, mapper.Header{Key: kv[i], Value: []byte(kv[i+1])})
	}
	return hs
}

// A record whose payload a path predicate must read, and cannot, is
// malformed_payload before any source is chosen: the reason table's
// meaning, not unknown_source.
func TestRouteMalformedPayload(t *testing.T) {
	rules, schemas := writeRules(t, map[string]string{
		"rules/charges.yaml": rule("charges", "events", "  - { path: object, in: [charge] }\n"),
		"rules/legacy.yaml":  rule("legacy", "events", "  - { not: { path: object, present: true } }\n"),
	})
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, payload, detail string
	}{
		{"a payload that is not JSON is malformed", `not json`, "invalid JSON"},
		{"a JSON array is malformed", `[1,2]`, "payload is an array, expected a JSON object"},
		{"an empty payload is malformed", ``, "empty payload"},
		{"a payload over the size limit is not parsed", `{"object":"charge","pad":"` + strings.Repeat("x", 2<<20) + `"}`, "over the limit of 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, res := eng.Route("events", nil, []byte(tt.payload))
			if src != nil {
				t.Fatalf("routed to %s", src.Name())
			}
			if len(res.Failures) != 1 || res.Failures[0].Reason != mapper.ReasonMalformedPayload || res.Outcome != mapper.OutcomeRejected {
				t.Fatalf("result %+v, want one malformed_payload", res)
			}
			if !strings.Contains(res.Failures[0].Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", res.Failures[0].Detail, tt.detail)
			}
			var m mapper.Mapper
			var got mapper.Result
			m.MapRecord(eng.Source("charges"), nil, []byte(tt.payload), &got)
			if len(got.Failures) != 1 || got.Failures[0].Reason != mapper.ReasonMalformedPayload {
				t.Errorf("MapRecord with the source named: %+v, want malformed_payload", got.Failures)
			}
		})
	}
}

func TestRoute(t *testing.T) {
	rules, schemas := writeRules(t, map[string]string{
		"rules/charges.yaml": rule("charges", "events", "  - { path: object, in: [charge] }\n  - { header: X-Env, in: [live] }\n"),
		"rules/refunds.yaml": rule("refunds", "events", "  - { path: object, in: [refund] }\n"),
		"rules/legacy.yaml":  rule("legacy", "events", "  - { path: object, present: false }\n"),
		"rules/solo.yaml":    rule("solo", "solo", ""),
	})
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		topic   string
		headers []mapper.Header
		payload string
		want    string   // source name; "" for unknown_source
		detail  []string // what the unknown_source detail must say
	}{
		{"a discriminator value picks its source", "events", hdr("x-env", "live"), `{"id":"1","object":"charge"}`, "charges", nil},
		{"another value picks another source", "events", nil, `{"id":"1","object":"refund"}`, "refunds", nil},
		{"an absent discriminator picks the source that wants it absent", "events", nil, `{"id":"1"}`, "legacy", nil},
		{"a null discriminator counts as absent", "events", nil, `{"id":"1","object":null}`, "legacy", nil},
		{"a failing header predicate is named", "events", hdr("X-Env", "test"), `{"id":"1","object":"charge"}`, "",
			[]string{`topic "events"`, `charges: header X-Env is "test", want one of live`,
				"refunds: path object holds a value that is not one of \"refund\"", "legacy: path object is present, want absent"}},
		{"an unknown discriminator is unknown_source without quoting it", "events", nil, `{"id":"1","object":"secret-value"}`, "",
			[]string{"charges: path object holds a value that is not one of \"charge\""}},
		{"a topic with one source and no predicates takes everything", "solo", nil, `{}`, "solo", nil},
		{"a topic no source claims", "nobody", nil, `{}`, "", []string{`no source claims topic "nobody"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, res := eng.Route(tt.topic, tt.headers, []byte(tt.payload))
			// RouteInto picks the same source, and writes the result only
			// when none maps the record.
			left := mapper.Result{Outcome: "left as it was"}
			into := left
			if got := eng.RouteInto(tt.topic, tt.headers, []byte(tt.payload), &into); got != src {
				t.Errorf("RouteInto routed to %v, Route to %v", got, src)
			}
			if src != nil && !reflect.DeepEqual(into, left) {
				t.Errorf("RouteInto wrote %+v for a record %s maps", into, src.Name())
			}
			if src == nil && !reflect.DeepEqual(into, res) {
				t.Errorf("RouteInto wrote %+v, Route returned %+v", into, res)
			}
			if tt.want != "" {
				if src == nil || src.Name() != tt.want {
					t.Fatalf("routed to %v (%v), want %s", src, res.Failures, tt.want)
				}
				return
			}
			if src != nil {
				t.Fatalf("routed to %s, want unknown_source", src.Name())
			}
			if res.Outcome != mapper.OutcomeRejected || len(res.Failures) != 1 || res.Failures[0].Reason != mapper.ReasonUnknownSource {
				t.Fatalf("result %+v", res)
			}
			for _, d := range tt.detail {
				if !strings.Contains(res.Failures[0].Detail, d) {
					t.Errorf("detail %q lacks %q", res.Failures[0].Detail, d)
				}
			}
			if strings.Contains(res.Failures[0].Detail, "secret-value") {
				t.Errorf("detail quotes the payload: %q", res.Failures[0].Detail)
			}
		})
	}
}

func TestMapRecordHonoursAccept(t *testing.T) {
	src := loadShipped(t).Source("github-work-items")
	payload, err := os.ReadFile("../fixtures/github-work-items/issue_comment.created.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	var m mapper.Mapper
	var res mapper.Result
	m.MapRecord(src, hdr("X-GitHub-Event", "issue_comment"), payload, &res)
	if res.Outcome != mapper.OutcomeRejected || len(res.Failures) != 1 || res.Failures[0].Reason != mapper.ReasonUnknownSource {
		t.Fatalf("an issue_comment event: %s %v", res.Outcome, res.Failures)
	}
	push, err := os.ReadFile("../fixtures/github-work-items/push.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	m.MapRecord(src, hdr("X-GitHub-Event", "push"), push, &res)
	if len(res.Failures) != 1 || res.Failures[0].Reason != mapper.ReasonUnknownSource {
		t.Fatalf("a push event: %v", res.Failures)
	}
	issue, err := os.ReadFile("../fixtures/github-work-items/issues.opened.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	m.MapRecord(src, hdr("X-GitHub-Event", "issues"), issue, &res)
	if res.Outcome != mapper.OutcomeMapped {
		t.Fatalf("an issues event: %s %v", res.Outcome, res.Failures)
	}
}

func TestLoadRefusesSourcesThatCanShareARecord(t *testing.T) {
	tests := []struct {
		name  string
		a, b  string // accept lists
		clash bool
	}{
		{"neither has predicates", "", "", true},
		{"one has none", "  - { header: H, in: [x] }\n", "", true},
		{"different headers can both hold", "  - { header: H, in: [x] }\n", "  - { header: G, in: [y] }\n", true},
		{"overlapping header values", "  - { header: H, in: [x, y] }\n", "  - { header: h, in: [y, z] }\n", true},
		{"disjoint header values", "  - { header: H, in: [x] }\n", "  - { header: h, in: [y] }\n", false},
		{"present against absent", "  - { path: a.b, present: true }\n", "  - { path: a.b, present: false }\n", false},
		{"absent against a value", "  - { path: a.b, present: false }\n", "  - { path: a.b, in: [1] }\n", false},
		{"present against a value", "  - { path: a.b, present: true }\n", "  - { path: a.b, in: [1] }\n", true},
		{"disjoint values", "  - { path: kind, in: [1, \"1\"] }\n", "  - { path: kind, in: [2] }\n", false},
		{"different paths", "  - { path: kind, in: [1] }\n", "  - { path: type, in: [2] }\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, schemas := writeRules(t, map[string]string{
				"rules/a.yaml": rule("a", "t", tt.a),
				"rules/b.yaml": rule("b", "t", tt.b),
			})
			_, err := mapper.Load(rules, schemas, mapper.Options{})
			var le *mapper.LoadError
			if !tt.clash {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.As(err, &le) || len(le.Problems) != 1 ||
				!strings.Contains(le.Problems[0].String(), `b.yaml:3:10: topic "t" is already claimed by source "a"`) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestLoadRefusesBadAccept(t *testing.T) {
	tests := []struct{ name, accept, want string }{
		{"unknown key", "  - { header: H, inn: [x] }\n", `unknown key "inn" in accept (did you mean "in"?)`},
		{"header without values", "  - { header: H }\n", "a header predicate is {header: NAME, in: [values]}"},
		{"both header and path", "  - { header: H, path: p, in: [x] }\n", "exactly one header or one path"},
		{"path with both in and present", "  - { path: p, in: [x], present: true }\n", "either in: [values] or present"},
		{"null value", "  - { path: p, in: [null] }\n", "null never matches"},
		{"array path", "  - { path: \"a[].b\", present: true }\n", "read arrays with each"},
		{"not a list", "  { header: H, in: [x] }\n", "accept: expected a list of predicates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, schemas := writeRules(t, map[string]string{"rules/a.yaml": rule("a", "t", tt.accept)})
			_, err := mapper.Load(rules, schemas, mapper.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), filepath.Join("rules", "a.yaml")+":8:") {
				t.Fatalf("err = %v, want a problem at line 8 saying %q", err, tt.want)
			}
		})
	}
}

// Records of several types share a topic; Route picks the source that
// accepts each one.
func ExampleEngine_Route() {
	eng, err := mapper.Load("../rules", "../schemas", mapper.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	push := []mapper.Header{{Key: "X-GitHub-Event", Value: []byte("push")}}
	src, res := eng.Route("github.webhooks", push, []byte(`{"ref":"refs/heads/main"}`))
	fmt.Println(src == nil, res.Failures[0].Reason)
	fmt.Println(res.Failures[0].Detail)
	issues := []mapper.Header{{Key: "X-GitHub-Event", Value: []byte("issues")}}
	src, _ = eng.Route("github.webhooks", issues, nil)
	fmt.Println(src.Name())
	// Output:
	// true unknown_source
	// no source accepts the record on topic "github.webhooks": github-work-items: header X-GitHub-Event is "push", want one of issues, pull_request
	// github-work-items
}

// BenchmarkRoute measures the worker's lookup of a record's source on the
// shared GitHub topic (a header predicate), for an accepted record and for
// one no source takes.
func BenchmarkRoute(b *testing.B) {
	eng := loadShipped(b)
	payload := []byte(`{"action":"opened"}`)
	for _, event := range []string{"issues", "push"} {
		b.Run(event, func(b *testing.B) {
			h := []mapper.Header{{Key: "Content-Type", Value: []byte("application/json")}, {Key: "X-GitHub-Event", Value: []byte(event)}}
			b.ReportAllocs()
			for b.Loop() {
				if src, _ := eng.Route("github.webhooks", h, payload); (src == nil) != (event == "push") {
					b.Fatal("routed wrong")
				}
			}
		})
	}
}

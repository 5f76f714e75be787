package mapper_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

// shippedWith loads the shipped rules with the GitHub rule file edited by
// edit, against the shipped schemas.
func shippedWith(t *testing.T, edit func(string) string) *mapper.Engine {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"github-work-items.yaml", "orders.yaml"} {
		b, err := os.ReadFile(filepath.Join("../rules", name))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if name == "github-work-items.yaml" {
			text = edit(text)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := mapper.Load(dir, "../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func setPolicy(policy string) func(string) string {
	return func(s string) string {
		out := strings.Replace(s, "input_contract: { unread: degrade }", "input_contract: { unread: "+policy+" }", 1)
		if out == s {
			panic("the shipped rules no longer say input_contract: { unread: degrade }")
		}
		return out
	}
}

// drift edits a fixture payload: fn changes the decoded document.
func drift(t *testing.T, fixture string, fn func(doc map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../fixtures/github-work-items", fixture))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	fn(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func obj(doc map[string]any, key string) map[string]any { return doc[key].(map[string]any) }

func TestInputContractUnreadFields(t *testing.T) {
	older, err := os.ReadFile("../fixtures/github-work-items/issues.opened.older-release.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	olderPR, err := os.ReadFile("../fixtures/github-work-items/pull_request.opened.older-release.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	engines := map[string]*mapper.Engine{
		"degrade": loadShipped(t),
		"reject":  shippedWith(t, setPolicy("reject")),
		"ignore":  shippedWith(t, setPolicy("ignore")),
	}
	tests := []struct {
		name     string
		policy   string
		payload  []byte
		outcome  mapper.Outcome
		failures []rf
	}{
		{"an older issue payload is degraded with the absent fields named", "degrade", older, mapper.OutcomeDegraded,
			[]rf{{"missing_field", "issue.active_lock_reason"}, {"missing_field", "issue.reactions"}}},
		{"an older pull request payload is degraded with the absent fields named", "degrade", olderPR, mapper.OutcomeDegraded,
			[]rf{{"missing_field", "pull_request.active_lock_reason"}, {"missing_field", "pull_request.auto_merge"}, {"missing_field", "pull_request.draft"}}},
		{"unread: reject rejects the older issue payload", "reject", older, mapper.OutcomeRejected,
			[]rf{{"missing_field", "issue.active_lock_reason"}, {"missing_field", "issue.reactions"}}},
		{"unread: reject rejects the older pull request payload", "reject", olderPR, mapper.OutcomeRejected,
			[]rf{{"missing_field", "pull_request.active_lock_reason"}, {"missing_field", "pull_request.auto_merge"}, {"missing_field", "pull_request.draft"}}},
		{"unread: ignore maps the older issue payload clean", "ignore", older, mapper.OutcomeMapped, nil},
		{"an unread field of another type degrades", "degrade",
			drift(t, "issues.opened.payload.json", func(d map[string]any) { obj(d, "issue")["reactions"] = "lots" }),
			mapper.OutcomeDegraded, []rf{{"type_mismatch", "issue.reactions"}}},
		{"a field a rule reads still rejects when absent", "degrade",
			drift(t, "issues.opened.payload.json", func(d map[string]any) {
				delete(obj(d, "issue"), "title")
				delete(obj(d, "issue"), "reactions")
			}),
			mapper.OutcomeRejected, []rf{{"missing_field", "issue.reactions"}, {"missing_field", "issue.title"}}},
		{"a field a case reads (when) still rejects when of another type", "degrade",
			drift(t, "issues.opened.payload.json", func(d map[string]any) { obj(d, "issue")["node_id"] = 7 }),
			mapper.OutcomeRejected, []rf{{"type_mismatch", "issue.node_id"}}},
		{"an ancestor of a read field rejects", "degrade",
			drift(t, "issues.opened.payload.json", func(d map[string]any) { obj(d, "issue")["user"] = "octocat" }),
			mapper.OutcomeRejected, []rf{{"type_mismatch", "issue.user"}}},
		{"an each element lacking the field the each reads rejects", "degrade",
			drift(t, "issues.labeled.payload.json", func(d map[string]any) {
				labels := obj(d, "issue")["labels"].([]any)
				delete(labels[0].(map[string]any), "name")
			}),
			mapper.OutcomeRejected, []rf{{"missing_field", "issue.labels[].name"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := engines[tt.policy].Source("github-work-items")
			res := src.Map(tt.payload)
			if res.Outcome != tt.outcome {
				t.Errorf("outcome %s, want %s: %v", res.Outcome, tt.outcome, res.Failures)
			}
			if tt.failures != nil || tt.outcome == mapper.OutcomeMapped {
				if got := failuresOf(res); !equalRF(got, tt.failures) {
					t.Errorf("failures %v, want %v", got, tt.failures)
				}
			}
			for _, f := range res.Failures {
				if tt.outcome == mapper.OutcomeDegraded && f.Reason.Severity() == mapper.OutcomeRejected &&
					!strings.HasSuffix(f.Detail, "so the record is delivered") {
					t.Errorf("failure %v degrades without saying why", f)
				}
			}
		})
	}
}

func equalRF(a, b []rf) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInputContractOnPolicyTypos(t *testing.T) {
	rules, schemas := writeRules(t, map[string]string{"rules/a.yaml": goodRule + "input_contract: { unread: degarde }\n"})
	_, err := mapper.Load(rules, schemas, mapper.Options{})
	if err == nil || !strings.Contains(err.Error(), `a.yaml:7:27: input_contract.unread: unknown policy "degarde" (did you mean "degrade"?)`) {
		t.Fatalf("err = %v", err)
	}
}

func TestInputContractReadSet(t *testing.T) {
	rules, schemas := writeRules(t, map[string]string{
		"rules/a.yaml": `source: s
version: 1
topics: [t]
input_schema: in.json
output_schema: out.json
fields:
  id:    { from: id, required: true }
  kind:  { cases: [{ when: meta.kind, value: k }] }
  items: { from: lines, each: { sku: { from: sku, required: true } } }
  tags:  { from: tags, each: { .: { from: ., required: true } } }
`,
		"schemas/in.json": `{"type":"object","required":["id","extra"],"properties":{
  "id":{"type":"string"}, "extra":{"type":"string"},
  "meta":{"type":"object","properties":{"kind":{"type":"string"},"other":{"type":"string"}}},
  "lines":{"type":"array","items":{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"},"note":{"type":"string"}}}},
  "tags":{"type":"array","items":{"type":"string"}}}}`,
	})
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("s")
	tests := []struct {
		name, payload string
		outcome       mapper.Outcome
		failures      []rf
	}{
		{"an absent required field no rule reads degrades", `{"id":"a"}`,
			mapper.OutcomeDegraded, []rf{{"missing_field", "extra"}}},
		{"a sibling of a case's when path is not read", `{"id":"a","extra":"x","meta":{"kind":"k","other":1}}`,
			mapper.OutcomeDegraded, []rf{{"type_mismatch", "meta.other"}}},
		{"a case's when path is read", `{"id":"a","extra":"x","meta":{"kind":1}}`,
			mapper.OutcomeRejected, []rf{{"type_mismatch", "meta.kind"}}},
		{"the parent of a when path is read", `{"id":"a","extra":"x","meta":"m"}`,
			mapper.OutcomeRejected, []rf{{"type_mismatch", "meta"}}},
		{"an unread field of an each element degrades", `{"id":"a","extra":"x","lines":[{"sku":"s","note":3}]}`,
			mapper.OutcomeDegraded, []rf{{"type_mismatch", "lines[].note"}}},
		{"the field an each reads rejects", `{"id":"a","extra":"x","lines":[{"sku":3}]}`,
			mapper.OutcomeRejected, []rf{{"type_mismatch", "lines[].sku"}}},
		{"an each element of another type rejects", `{"id":"a","extra":"x","lines":["s"]}`,
			mapper.OutcomeRejected, []rf{{"type_mismatch", "lines[]"}}},
		{"an element an each reads whole (.) rejects", `{"id":"a","extra":"x","tags":[1]}`,
			mapper.OutcomeRejected, []rf{{"type_mismatch", "tags[]"}}},
		{"the array an each walks rejects", `{"id":"a","extra":"x","lines":{}}`,
			mapper.OutcomeRejected, []rf{{"type_mismatch", "lines"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := src.Map([]byte(tt.payload))
			if res.Outcome != tt.outcome || !equalRF(failuresOf(res), tt.failures) {
				t.Errorf("got %s %v, want %s %v", res.Outcome, failuresOf(res), tt.outcome, tt.failures)
			}
		})
	}
}

func TestUnreadFailuresGiveWayAtTheCap(t *testing.T) {
	var props, req strings.Builder
	for i := range 150 {
		fmt.Fprintf(&props, `"u%d":{"type":"string"},`, i)
		fmt.Fprintf(&req, `"u%d",`, i)
	}
	rules, schemas := writeRules(t, map[string]string{
		"rules/a.yaml": goodRule + "  n: { from: n }\n",
		"schemas/in.json": `{"type":"object","required":[` + req.String() + `"id"],"properties":{` + props.String() +
			`"id":{"type":"string"},"n":{"type":"integer"}}}`,
	})
	text, err := os.ReadFile(filepath.Join(rules, "a.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rules, "a.yaml"), []byte(strings.Replace(string(text), "output_schema:", "input_schema: in.json\noutput_schema:", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 150 unread required fields are absent, and a read field has the wrong
	// type: the cap must keep the failure that rejects.
	res := eng.Source("s").Map([]byte(`{"id":"1","n":"seven"}`))
	if res.Outcome != mapper.OutcomeRejected || len(res.Failures) != mapper.MaxFailures {
		t.Fatalf("%s with %d failures", res.Outcome, len(res.Failures))
	}
	found := false
	for _, f := range res.Failures {
		found = found || f.Reason == mapper.ReasonTypeMismatch && f.Field == "n"
	}
	if !found {
		t.Errorf("the failure at the read field n was dropped at the cap")
	}
}

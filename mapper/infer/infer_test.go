package infer

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	goldenfile "github.com/mapperhq/mapper/internal/golden"
)

var update = flag.Bool("update", false, "update golden files")

const fixtures = "../../fixtures/github-work-items"

func readFixtures(t *testing.T) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(fixtures, "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(n)] = b
	}
	return out
}

func compile(t *testing.T, schema []byte) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat = true
	if err := c.AddResource("inferred.json", bytes.NewReader(schema)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("inferred.json")
	if err != nil {
		t.Fatalf("the inferred schema does not compile: %v", err)
	}
	return s
}

func validate(s *jsonschema.Schema, payload []byte) error {
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return err
	}
	return s.Validate(v)
}

func inferAll(t *testing.T, opts Options, payloads map[string][]byte, order []string) []byte {
	t.Helper()
	in := New(opts)
	for _, n := range order {
		if err := in.Add(payloads[n]); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	b, err := in.JSON("GitHub work items")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInferredSchemaAcceptsEveryFixtureAndOlderPayloads(t *testing.T) {
	fx := readFixtures(t)
	var names []string
	for n := range fx {
		names = append(names, n)
	}
	schemaJSON := inferAll(t, Options{}, fx, names)
	s := compile(t, schemaJSON)
	for n, p := range fx {
		if err := validate(s, p); err != nil {
			t.Errorf("%s does not validate: %v", n, err)
		}
	}

	t.Run("an older payload lacking fields added later validates", func(t *testing.T) {
		// performed_via_github_app and timeline_url came to issues later;
		// a payload from before lacks them.
		var doc map[string]any
		if err := json.Unmarshal(fx["issues.reopened.payload.json"], &doc); err != nil {
			t.Fatal(err)
		}
		issue := doc["issue"].(map[string]any)
		for _, k := range []string{"performed_via_github_app", "timeline_url"} {
			if _, ok := issue[k]; !ok {
				t.Fatalf("the fixture lacks issue.%s already; pick another", k)
			}
			delete(issue, k)
		}
		older, _ := json.Marshal(doc)
		if err := validate(s, older); err != nil {
			t.Errorf("older payload rejected: %v", err)
		}
	})

	t.Run("a field added since is accepted: objects stay open", func(t *testing.T) {
		var doc map[string]any
		json.Unmarshal(fx["pull_request.opened.payload.json"], &doc)
		doc["pull_request"].(map[string]any)["brand_new_field"] = map[string]any{"x": 1}
		newer, _ := json.Marshal(doc)
		if err := validate(s, newer); err != nil {
			t.Errorf("newer payload rejected: %v", err)
		}
	})

	t.Run("nulls seen make a field nullable", func(t *testing.T) {
		var sch struct {
			Properties map[string]struct {
				Properties map[string]struct {
					Type any `json:"type"`
				} `json:"properties"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(schemaJSON, &sch); err != nil {
			t.Fatal(err)
		}
		got := sch.Properties["pull_request"].Properties["body"].Type
		if b, _ := json.Marshal(got); string(b) != `["null","string"]` {
			t.Errorf("pull_request.body type %s, want [\"null\",\"string\"] (a fixture has a null body)", b)
		}
	})

	t.Run("output is the same whatever the order", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for range 3 {
			r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
			if got := inferAll(t, Options{}, fx, names); !bytes.Equal(got, schemaJSON) {
				t.Fatal("a different order gives a different schema")
			}
		}
	})
	golden(t, "github-work-items.schema.json", schemaJSON)
}

func TestRequiredShareAndEnums(t *testing.T) {
	var lines [][]byte
	for i := range 100 {
		rec := map[string]any{"id": i, "status": []string{"paid", "open"}[i%2], "at": "2024-05-01T12:00:00Z",
			"email": "a@b.example", "uid": "123e4567-e89b-12d3-a456-426614174000", "note": nil}
		if i == 0 {
			delete(rec, "email") // missing once
		}
		if i%2 == 0 {
			rec["note"] = "n" + string(rune('a'+i%26))
		}
		b, _ := json.Marshal(rec)
		lines = append(lines, b)
	}
	tests := []struct {
		name     string
		opts     Options
		required string
	}{
		{"present in every record by default", Options{}, `["at","id","note","status","uid"]`},
		{"nearly all with a share", Options{RequiredShare: 0.95}, `["at","email","id","note","status","uid"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := New(tc.opts)
			for _, l := range lines {
				if err := in.Add(l); err != nil {
					t.Fatal(err)
				}
			}
			s := in.Schema("")
			if b, _ := json.Marshal(s["required"]); string(b) != tc.required {
				t.Errorf("required %s, want %s", b, tc.required)
			}
			props := s["properties"].(map[string]any)
			want := map[string]string{
				"status": `{"enum":["open","paid"],"type":"string"}`,
				"at":     `{"format":"date-time","type":"string"}`,
				"email":  `{"format":"email","type":"string"}`,
				"uid":    `{"format":"uuid","type":"string"}`,
				"id":     `{"type":"integer"}`,
				"note":   `{"type":["null","string"]}`,
			}
			for k, w := range want {
				if b, _ := json.Marshal(props[k]); string(b) != w {
					t.Errorf("%s: %s, want %s", k, b, w)
				}
			}
		})
	}
}

func TestHostileInput(t *testing.T) {
	in := New(Options{MaxDepth: 4, MaxProperties: 3})
	for _, p := range []string{"", "not json", "[1,2]", `"x"`, `{"a":1} {"b":2}`} {
		if err := in.Add([]byte(p)); err == nil {
			t.Errorf("Add(%q) took it", p)
		}
	}
	deep := strings.Repeat(`{"a":`, 50) + "1" + strings.Repeat("}", 50)
	if err := in.Add([]byte(deep)); err != nil {
		t.Fatal(err)
	}
	if err := in.Add([]byte(`{"a":{},"b":1,"c":2,"d":3,"e":4}`)); err != nil {
		t.Fatal(err)
	}
	if in.Records() != 2 {
		t.Errorf("records %d, want 2", in.Records())
	}
	s := in.Schema("")
	if n := len(s["properties"].(map[string]any)); n != 3 {
		t.Errorf("%d properties tracked, want the bound of 3", n)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got, *update)
}

func BenchmarkInfer(b *testing.B) {
	p, err := os.ReadFile(filepath.Join(fixtures, "pull_request.opened.payload.json"))
	if err != nil {
		b.Fatal(err)
	}
	in := New(Options{})
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if err := in.Add(p); err != nil {
			b.Fatal(err)
		}
	}
}

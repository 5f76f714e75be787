package mapper_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

const goodRule = `source: s
version: 1
topics: [t]
output_schema: out.json
fields:
  id: { from: id, required: true }
`

func writeRules(t *testing.T, files map[string]string) (rules, schemas string) {
	t.Helper()
	dir := t.TempDir()
	rules, schemas = filepath.Join(dir, "rules"), filepath.Join(dir, "schemas")
	for _, d := range []string{rules, schemas} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(schemas, "out.json"), []byte(`{"type":"object"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return rules, schemas
}

func TestLoadRefusesBadRules(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // problems, without the temp dir prefix
	}{
		{"unknown top-level key", map[string]string{"rules/a.yaml": goodRule + "objectve: {}\n"},
			[]string{`rules/a.yaml:7:1: unknown key "objectve" (did you mean "objective"?)`}},
		{"unknown field key", map[string]string{"rules/a.yaml": `source: s
version: 1
topics: [t]
output_schema: out.json
fields:
  id: { from: id, requird: true }
`}, []string{`rules/a.yaml:6:19: unknown key "requird" in field "id" (did you mean "required"?)`}},
		{"unknown transform", map[string]string{"rules/a.yaml": goodRule + "  email: { from: e, transform: [trim, lowercse] }\n"},
			[]string{`rules/a.yaml:7:39: unknown transform "lowercse" (did you mean "lowercase"?)`}},
		{"missing schema file", map[string]string{"rules/a.yaml": `source: s
version: 1
topics: [t]
output_schema: order.json
fields:
  id: { from: id }
`}, []string{`rules/a.yaml:4:16: output_schema "order.json" not found in the schemas directory (valid: out.json)`}},
		{"bad YAML", map[string]string{"rules/a.yaml": "source: s\nversion: [1\n"},
			[]string{`rules/a.yaml:2:10: invalid YAML: sequence end token ']' not found`}},
		{"two sources claim one topic", map[string]string{"rules/a.yaml": goodRule, "rules/b.yaml": `source: b
version: 1
topics: [u, t]
output_schema: out.json
fields:
  id: { from: id }
`}, []string{`rules/b.yaml:3:13: topic "t" is already claimed by source "s" (rules/a.yaml:3:10)`}},
		{"missing required keys", map[string]string{"rules/a.yaml": "source: s\n"},
			[]string{`rules/a.yaml:1:7: missing required key "version"`, `rules/a.yaml:1:7: missing required key "topics"`,
				`rules/a.yaml:1:7: missing required key "output_schema"`, `rules/a.yaml:1:7: missing required key "fields"`}},
		{"wrong value types", map[string]string{"rules/a.yaml": `source: s
version: 1
topics: [t]
output_schema: out.json
fields:
  id: { from: id, required: yes please }
  n: { from: n, transform: { decimal_to_minor: x } }
objective: { mapped_ratio: 1.5 }
`}, []string{`rules/a.yaml:6:29: id.required: expected true or false, got a string`,
			`rules/a.yaml:7:48: n.transform.decimal_to_minor: expected a number of decimal places (0-18)`,
			`rules/a.yaml:8:28: objective.mapped_ratio: expected a number between 0 and 1, got 1.5`}},
		{"invalid schema JSON", map[string]string{"rules/a.yaml": goodRule, "schemas/bad.json": "{\n  \"type\": \"object\",\n}\n"},
			[]string{`schemas/bad.json:3:1: invalid JSON: invalid character '}' looking for beginning of object key string`}},
		{"array path in from", map[string]string{"rules/a.yaml": goodRule + "  sku: { from: \"items[].sku\" }\n"},
			[]string{`rules/a.yaml:7:16: sku.from: path "items[].sku": read arrays with each, not []`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, schemas := writeRules(t, tt.files)
			eng, err := mapper.Load(rules, schemas, mapper.Options{})
			if eng != nil {
				t.Error("a rule set with problems must not be loaded, not even in part")
			}
			var le *mapper.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LoadError", err)
			}
			root := filepath.Dir(rules) + string(filepath.Separator)
			var got []string
			for _, p := range le.Problems {
				got = append(got, strings.ReplaceAll(p.String(), root, ""))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("problems:\n%v\nwant:\n%v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("problem %d:\n got %s\nwant %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestLoadShippedRules(t *testing.T) {
	eng := loadShipped(t)
	if len(eng.Sources()) != 2 || eng.Source("orders") == nil || eng.Source("github-work-items") == nil {
		t.Fatalf("sources: %v", eng.Sources())
	}
}

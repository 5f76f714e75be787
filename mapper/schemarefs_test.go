package mapper_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

const refRule = `source: s
version: 1
topics: [t]
input_schema: in.json
output_schema: out.json
fields:
  id: { from: id, required: true }
`

func TestSchemaRefsStayInsideTheSchemasDirectory(t *testing.T) {
	tests := []struct {
		name   string
		ref    string
		want   string // in the problem; "" means it loads
		secret bool   // the outside file's content must not surface
	}{
		{"a fragment of the same file", "#/definitions/id", "", false},
		{"another schema file of the directory", "sub/id.json", "", false},
		{"a fragment of another file", "sub/defs.json#/definitions/id", "", false},
		{"a file outside through ..", "../outside.json", `$ref "../outside.json" at /properties/id/$ref points outside the schemas directory`, true},
		{"a file outside through a subdirectory", "sub/../../outside.json", "points outside the schemas directory", true},
		{"an absolute path", "/etc/passwd", `$ref "/etc/passwd" at /properties/id/$ref points outside`, false},
		{"a file URL", "file:///etc/passwd", "points outside the schemas directory", false},
		{"an http URL", "http://127.0.0.1:1/schema.json", "points outside the schemas directory", false},
		{"a network-path reference", "//example.com/x.json", "points outside the schemas directory", false},
		{"a file of the directory that is not a schema", "notes.txt", "names notes.txt, which is not a schema file", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, schemas := writeRules(t, map[string]string{
				"rules/a.yaml": refRule,
				"schemas/in.json": `{"type":"object","definitions":{"id":{"type":"string"}},
"properties":{"id":{"$ref":"` + tt.ref + `"}}}`,
				"schemas/sub/id.json":   `{"type":"string"}`,
				"schemas/sub/defs.json": `{"definitions":{"id":{"type":"string"}}}`,
				"schemas/notes.txt":     `{"type":"string"}`,
				"outside.json":          `{"type":"string","enum":["TOP-SECRET-VALUE"]}`,
			})
			eng, err := mapper.Load(rules, schemas, mapper.Options{})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if res := eng.Source("s").Map([]byte(`{"id":1}`)); len(res.Failures) != 1 || res.Failures[0].Reason != mapper.ReasonTypeMismatch {
					t.Errorf("the ref is not followed: %v", res.Failures)
				}
				return
			}
			if err == nil {
				t.Fatal("loaded")
			}
			msg := err.Error()
			if !strings.Contains(msg, filepath.Join("schemas", "in.json")+":2:") || !strings.Contains(msg, tt.want) {
				t.Errorf("problem %q, want one at in.json line 2 saying %q", msg, tt.want)
			}
			if strings.Contains(msg, "TOP-SECRET") {
				t.Errorf("the outside file was read: %s", msg)
			}
		})
	}
}

func TestSchemaSymlinkOutOfTheDirectoryIsNotRead(t *testing.T) {
	rules, schemas := writeRules(t, map[string]string{
		"rules/a.yaml":   refRule,
		"outside.json":   `{"type":"object","properties":{"id":{"enum":["TOP-SECRET-VALUE"]}}}`,
		"outside/x.json": `{"type":"string"}`,
	})
	if err := os.Symlink(filepath.Join(filepath.Dir(schemas), "outside.json"), filepath.Join(schemas, "in.json")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := os.Symlink(filepath.Join(filepath.Dir(schemas), "outside"), filepath.Join(schemas, "dir")); err != nil {
		t.Fatal(err)
	}
	_, err := mapper.Load(rules, schemas, mapper.Options{})
	if err == nil {
		t.Fatal("loaded a schema through a link out of the schemas directory")
	}
	if msg := err.Error(); !strings.Contains(msg, filepath.Join("schemas", "in.json")+": cannot read") || strings.Contains(msg, "TOP-SECRET") {
		t.Errorf("problem %q", msg)
	}
}

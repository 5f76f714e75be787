package ruleschema_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/ruleschema"
	"github.com/mapperhq/mapper/mapper/ruletest"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

const root = "../.."

func compile(t *testing.T, name string, schema []byte) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name, bytes.NewReader(schema)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// flowRedact is a one-line flow redact list; the loader reads its paths
// with [] unquoted (redact: [lines[].sku]), which plain YAML does not.
var flowRedact = regexp.MustCompile(`(?m)^redact:\s*\[(.*)\]\s*$`)

// validate converts a YAML file to JSON and validates it.
func validate(s *jsonschema.Schema, data []byte) error {
	data = flowRedact.ReplaceAllFunc(data, func(line []byte) []byte {
		items := strings.Split(string(flowRedact.FindSubmatch(line)[1]), ",")
		for i, it := range items {
			items[i] = strconv.Quote(strings.Trim(strings.TrimSpace(it), `"'`))
		}
		return []byte("redact: [" + strings.Join(items, ", ") + "]")
	})
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return err
	}
	return s.Validate(v)
}

// ruleDirs finds every directory named rules in the repository whose rule
// files load cleanly (with the schemas directory beside it): directories
// of deliberately broken rules are left out.
func ruleDirs(t *testing.T) []string {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() || d.Name() != "rules" {
			return nil
		}
		if _, err := mapper.Load(p, filepath.Join(filepath.Dir(p), "schemas"), mapper.Options{}); err == nil {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// Every rule and rule test file that loads, shipped or in testdata, is
// valid under the published schemas, so an editor never flags a good file.
func TestEveryLoadingFileFitsTheSchemas(t *testing.T) {
	rulesSchema := compile(t, "rules.schema.json", ruleschema.Rules())
	testsSchema := compile(t, "tests.schema.json", ruleschema.Tests())
	dirs := ruleDirs(t)
	if len(dirs) < 3 {
		t.Fatalf("only %d rule directories load: %v", len(dirs), dirs)
	}
	n := 0
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s := rulesSchema
			if strings.HasSuffix(f, ".test.yaml") {
				if _, err := ruletest.ParseFile(f); err != nil {
					continue
				}
				s = testsSchema
			}
			n++
			if err := validate(s, data); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d files checked", n)
	}
}

// A rule file with a mistake the loader refuses is refused by the schema
// too: what an editor flags as the file is typed.
func TestTheSchemaRefusesMutatedRules(t *testing.T) {
	rulesSchema := compile(t, "rules.schema.json", ruleschema.Rules())
	good, err := os.ReadFile(filepath.Join(root, "mapper/testdata/payments/rules/provider.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(rulesSchema, good); err != nil {
		t.Fatalf("the unchanged file: %v", err)
	}
	mutations := []struct{ name, old, new string }{
		{"an unknown field key", "required: true, transform: { minor_to_decimal", "requird: true, transform: { minor_to_decimal"},
		{"an unknown transform argument", "currency_from: currency", "currency: currency"},
		{"decimal places out of range", "minor_to_decimal: 2", "minor_to_decimal: 40"},
		{"a case with neither value nor from", "        value: true\n", "        valeu: true\n"},
		{"a combinator that is not a list", "any: [{ path: object, is: charge }, { path: object, is: payment_intent }]", "any: { path: object }"},
		{"an unknown top-level key", "input_schema:", "input_schemas:"},
		{"version zero", "version: 1", "version: 0"},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			if !bytes.Contains(good, []byte(m.old)) {
				t.Fatalf("the file lacks %q", m.old)
			}
			bad := bytes.Replace(good, []byte(m.old), []byte(m.new), 1)
			if err := validate(rulesSchema, bad); err == nil {
				t.Errorf("the schema accepts the file with %s", m.name)
			}
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "rules"), 0o755)
			os.WriteFile(filepath.Join(dir, "rules", "provider.yaml"), bad, 0o644)
			if _, err := mapper.Load(filepath.Join(dir, "rules"), filepath.Join(root, "mapper/testdata/payments/schemas"), mapper.Options{}); err == nil {
				t.Errorf("the loader accepts the file with %s", m.name)
			}
		})
	}
}

// Shipped rule and test files name the schema on their first line, with a
// path that resolves from the file's directory.
func TestShippedFilesPointEditorsAtTheSchema(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(root, "rules", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no shipped rule files")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(data), "\n")
		rel, ok := strings.CutPrefix(first, "# yaml-language-server: $schema=")
		if !ok {
			t.Errorf("%s: first line %q does not name the schema", f, first)
			continue
		}
		want := "rules.schema.json"
		if strings.HasSuffix(f, ".test.yaml") {
			want = "tests.schema.json"
		}
		if filepath.Base(rel) != want {
			t.Errorf("%s: names %s, want %s", f, rel, want)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(f), rel)); err != nil {
			t.Errorf("%s: the schema path does not resolve: %v", f, err)
		}
	}
}

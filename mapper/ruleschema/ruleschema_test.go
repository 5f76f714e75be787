package ruleschema_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

// treeFiles finds every rule and rule test file in the repository by its
// shape, wherever it is (testdata of any package included): a YAML file,
// or a template of one (NAME.yaml.tmpl), whose top level names a source is
// a rule file, listed by directory; NAME.test.yaml, and the
// NAME.test.yaml.golden that `mapper test -update` writes, a rule test
// file.
func treeFiles(t *testing.T) (rules map[string][]string, tests []string) {
	t.Helper()
	rules = map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules"):
			return filepath.SkipDir
		case d.IsDir():
			return nil
		case strings.HasSuffix(p, ".test.yaml"), strings.HasSuffix(p, ".test.yaml.golden"):
			tests = append(tests, p)
		case strings.HasSuffix(p, ".yaml"), strings.HasSuffix(p, ".yaml.tmpl"):
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if sourceKey.Match(data) {
				rules[filepath.Dir(p)] = append(rules[filepath.Dir(p)], p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rules, tests
}

// sourceKey is the top-level key every rule file has.
var sourceKey = regexp.MustCompile(`(?m)^source:[ \t]*\S`)

// placeholder is a template's {{NAME}}, filled by the test that reads it.
var placeholder = regexp.MustCompile(`\{\{[A-Z_]+\}\}`)

// render is a rule file's text as the project loads it: a template with
// its placeholders filled.
func render(t *testing.T, f string) []byte {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(f, ".tmpl") {
		data = placeholder.ReplaceAll(data, []byte("t"))
	}
	return data
}

// loads reports whether the rule files of a directory load, with the
// nearest schemas directory of the tree that makes them (the tests that
// read them name one of these).
func loads(t *testing.T, files []string, schemaDirs []string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".tmpl")
		if err := os.WriteFile(filepath.Join(dir, name), render(t, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	from := filepath.Dir(files[0])
	near := slices.Clone(schemaDirs)
	slices.SortStableFunc(near, func(a, b string) int { return sharedLen(b, from) - sharedLen(a, from) })
	for _, s := range near {
		if _, err := mapper.Load(dir, s, mapper.Options{}); err == nil {
			return s, true
		}
	}
	return "", false
}

// sharedLen is the length of the leading path a and b share.
func sharedLen(a, b string) int {
	n := 0
	for i := 0; i < len(a) && i < len(b) && a[i] == b[i]; i++ {
		if a[i] == '/' {
			n = i
		}
	}
	return n
}

// schemaDirs are the tree's directories named like a schemas directory.
func schemaDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() && strings.HasSuffix(d.Name(), "schemas") || strings.Contains(d.Name(), "schemas-") {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// refusedOnPurpose are the directories of rules written to be refused, by
// the tests of the commands that report the refusal. Any other rule
// directory must load.
var refusedOnPurpose = []string{
	"cmd/mapper/testdata/broken-rules", // mapper check lists every problem with its position
	"cmd/mapper/testdata/static-rules", // rule bugs the input schema rules out
	"mapper/release/testdata/broken",   // a reload that is refused
}

// Every rule and rule test file the project loads, shipped or in the
// testdata of any package, is valid under the published schemas, so an
// editor never flags a good file.
func TestEveryLoadingFileFitsTheSchemas(t *testing.T) {
	rulesSchema := compile(t, "rules.schema.json", ruleschema.Rules())
	testsSchema := compile(t, "tests.schema.json", ruleschema.Tests())
	ruleFiles, testFiles := treeFiles(t)
	schemas := schemaDirs(t)
	checked, refused := 0, 0
	for dir, files := range ruleFiles {
		rel, _ := filepath.Rel(root, dir)
		rel = filepath.ToSlash(rel)
		_, ok := loads(t, files, schemas)
		switch {
		case !ok && !slices.Contains(refusedOnPurpose, rel):
			t.Errorf("%s: its rules load with no schemas directory of the tree; fix them, or list the directory in refusedOnPurpose", rel)
		case ok && slices.Contains(refusedOnPurpose, rel):
			t.Errorf("%s loads: take it off refusedOnPurpose", rel)
		}
		if !ok {
			refused++
			continue
		}
		for _, f := range files {
			checked++
			data := render(t, f)
			if err := validate(rulesSchema, data); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			if validate(rulesSchema, append(data, "\nsorce: x\n"...)) == nil {
				t.Errorf("%s: the schema accepts it with an unknown top-level key", f)
			}
		}
	}
	tests := 0
	for _, f := range testFiles {
		if _, err := ruletest.ParseFile(f); err != nil {
			continue // a test file written to be refused (broken-tests)
		}
		tests++
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(testsSchema, data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if validate(testsSchema, append(data, "\ncasess: []\n"...)) == nil {
			t.Errorf("%s: the schema accepts it with an unknown top-level key", f)
		}
	}
	t.Logf("%d rule files in %d directories (%d refused on purpose), %d rule test files", checked, len(ruleFiles)-refused, refused, tests)
	if refused != len(refusedOnPurpose) {
		t.Errorf("%d directories refused, want the %d of refusedOnPurpose", refused, len(refusedOnPurpose))
	}
	if checked < 25 || tests < 6 {
		t.Errorf("only %d rule files and %d test files checked", checked, tests)
	}
}

// mutation is one mistake written into a good file.
type mutation struct{ name, old, new string }

// A rule or rule test file with a mistake its loader refuses is refused by
// its schema too: what an editor flags as the file is typed.
func TestTheSchemaRefusesMutatedFiles(t *testing.T) {
	// loadRules loads a rule file alone with the payments schemas.
	loadRules := func(t *testing.T, data []byte) error {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "provider.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := mapper.Load(dir, filepath.Join(root, "mapper/testdata/payments/schemas"), mapper.Options{})
		return err
	}
	// parseTests reads a rule test file alone in a new directory.
	parseTests := func(t *testing.T, data []byte) error {
		f := filepath.Join(t.TempDir(), "provider.test.yaml")
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ruletest.ParseFile(f)
		return err
	}
	files := []struct {
		file   string
		schema []byte
		load   func(*testing.T, []byte) error
		muts   []mutation
	}{
		{"provider.yaml", ruleschema.Rules(), loadRules, []mutation{
			{"an unknown field key", "required: true, transform: { minor_to_decimal", "requird: true, transform: { minor_to_decimal"},
			{"an unknown transform argument", "currency_from: currency", "currency: currency"},
			{"decimal places out of range", "minor_to_decimal: 2", "minor_to_decimal: 40"},
			{"a case with neither value nor from", "        value: true\n", "        valeu: true\n"},
			{"a combinator that is not a list", "any: [{ path: object, is: charge }, { path: object, is: payment_intent }]", "any: { path: object }"},
			{"an unknown top-level key", "input_schema:", "input_schemas:"},
			{"version zero", "version: 1", "version: 0"},
		}},
		{"provider.test.yaml", ruleschema.Tests(), parseTests, []mutation{
			{"an unknown case key", "    outcome: mapped\n", "    outcom: mapped\n"},
			{"an outcome that does not exist", "    outcome: mapped\n", "    outcome: delivered\n"},
			{"a failure reason that does not exist", "reason: missing_field, field: currency", "reason: missing, field: currency"},
			{"a failure without its reason", "{ reason: missing_field, field: currency }", "{ field: currency }"},
			{"a case without its name", "  - name: USD has two decimals\n    payload:", "  - payload:"},
		}},
	}
	for _, f := range files {
		s := compile(t, f.file, f.schema)
		good, err := os.ReadFile(filepath.Join(root, "mapper/testdata/payments/rules", f.file))
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(s, good); err != nil {
			t.Fatalf("%s unchanged: %v", f.file, err)
		}
		if err := f.load(t, good); err != nil {
			t.Fatalf("%s unchanged, alone: %v", f.file, err)
		}
		for _, m := range f.muts {
			t.Run(f.file+": "+m.name, func(t *testing.T) {
				if !bytes.Contains(good, []byte(m.old)) {
					t.Fatalf("the file lacks %q", m.old)
				}
				bad := bytes.Replace(good, []byte(m.old), []byte(m.new), 1)
				if err := validate(s, bad); err == nil {
					t.Errorf("the schema accepts the file with %s", m.name)
				}
				if f.load(t, bad) == nil {
					t.Errorf("the loader accepts the file with %s", m.name)
				}
			})
		}
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

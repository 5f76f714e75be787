// Package ruleschema holds the JSON Schemas of mapper's own file formats:
// rule files (rules/NAME.yaml) and rule test files (rules/NAME.test.yaml).
// Editors read them through the first line of a file,
// "# yaml-language-server: $schema=…", for completion and inline
// validation; `mapper schema rules` and `mapper schema tests` print them.
// The loaders stay the authority: a file the schema accepts can still be
// refused at load (an unknown source path, a schema the rule names that
// does not exist), with file:line:col.
package ruleschema

import (
	"bytes"
	_ "embed"
)

//go:embed rules.schema.json
var rules []byte

//go:embed tests.schema.json
var tests []byte

// Rules returns the JSON Schema of a rule file (a copy the caller owns).
func Rules() []byte { return bytes.Clone(rules) }

// Tests returns the JSON Schema of a rule test file (a copy the caller owns).
func Tests() []byte { return bytes.Clone(tests) }

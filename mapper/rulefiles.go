package mapper

import "strings"

// IsRuleFile reports whether a file name of the rules directory is a rule
// file that Load compiles: *.yaml or *.yml, except rule tests.
func IsRuleFile(name string) bool {
	return (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) && !IsRuleTestFile(name)
}

// IsRuleTestFile reports whether a file name of the rules directory is a
// rule test (NAME.test.yaml or NAME.test.yml, beside NAME.yaml): `mapper
// test` runs them and Load leaves them out.
func IsRuleTestFile(name string) bool {
	return strings.HasSuffix(name, ".test.yaml") || strings.HasSuffix(name, ".test.yml")
}

// DidYouMean returns ` (did you mean "x"?)` when one of candidates is a
// likely typo of s, and "" otherwise: the suggestion every problem report of
// the rules and their tests uses.
func DidYouMean(s string, candidates []string) string { return didYouMean(s, candidates) }

// Warnings lists what the static checks of the rules against their input
// schemas found without being sure of it (a path the schema says nothing
// about, a rule bug in a schema the checks cannot fully read), in file
// order. They never stop a load; `mapper check` prints them.
func (e *Engine) Warnings() []Problem { return e.warnings }

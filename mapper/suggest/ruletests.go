package suggest

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// TestCase is a rule-test case written for one fixed category: a kept
// (redacted) sample of it and what the candidate makes of it, which the
// old rules do not.
type TestCase struct {
	Name     string
	Category string
	Headers  []samples.Header
	Payload  []byte
	Outcome  mapper.Outcome
	Failures []mapper.Failure
}

// TestCases picks, for each suggestion that edits something, one kept
// sample of its category whose result with cand differs from its result
// with old, and records the candidate's result as the case's expectation.
// The payload is the kept (redacted) one masked again with the
// candidate's redact paths.
// A category with no such sample gets no case; its name is returned in
// skipped.
func TestCases(old, cand *mapper.Source, ss []Suggestion, in []samples.Sample) (cases []TestCase, skipped []string) {
	for _, s := range ss {
		if !s.Fixes() || s.Kind == KindNoFix {
			continue
		}
		found := false
		for i := range in {
			sm := &in[i]
			if sm.Source != old.Name() || sm.Category != s.Category || len(sm.Payload) == 0 {
				continue
			}
			hs := headersOf(sm.Headers)
			// Masked with the candidate's redact paths too: a field it
			// redacts anew (a renamed e-mail) was kept unmasked.
			payload := cand.Redact(sm.Payload)
			var m mapper.Mapper
			var before, after mapper.Result
			m.MapRecord(old, hs, payload, &before)
			m.MapRecord(cand, hs, payload, &after)
			if head(before) == head(after) {
				continue
			}
			cases = append(cases, TestCase{
				Name:     fmt.Sprintf("v%d fixes %s (%s)", cand.Version(), s.Category, s.Kind),
				Category: s.Category, Headers: sm.Headers, Payload: payload,
				Outcome: after.Outcome, Failures: categories(after.Failures)})
			found = true
			break
		}
		if !found {
			skipped = append(skipped, s.Category)
		}
	}
	return cases, skipped
}

func headersOf(hs []samples.Header) []mapper.Header {
	out := make([]mapper.Header, len(hs))
	for i, h := range hs {
		out[i] = mapper.Header{Key: h.Key, Value: []byte(h.Value)}
	}
	return out
}

// categories are the failures' distinct reason and field pairs, in order.
func categories(fs []mapper.Failure) []mapper.Failure {
	var out []mapper.Failure
	for _, f := range fs {
		c := mapper.Failure{Reason: f.Reason, Field: f.Field}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func head(r mapper.Result) string {
	var b strings.Builder
	b.WriteString(string(r.Outcome))
	for _, f := range categories(r.Failures) {
		fmt.Fprintf(&b, " %s:%s", f.Reason, f.Field)
	}
	return b.String()
}

// AppendTestCases adds the cases to a rule test file's text (nil: a new
// file), after its last case; the rest of the file is kept as written.
func AppendTestCases(file []byte, cases []TestCase) ([]byte, error) {
	var b strings.Builder
	indent := "  "
	at := len(file)
	names := map[string]bool{}
	if len(file) == 0 {
		b.WriteString("# Rule tests written by `mapper suggest` from kept (redacted) samples: one case per fixed category.\ncases:\n")
	} else {
		f, err := parser.ParseBytes(file, 0)
		if err != nil {
			return nil, fmt.Errorf("read the rule tests: %w", err)
		}
		top, ok := mappingOf(f.Docs[0].Body)
		kv := (*ast.MappingValueNode)(nil)
		if ok {
			kv = keyOf(top, "cases")
		}
		seq, isSeq := (*ast.SequenceNode)(nil), false
		if kv != nil {
			seq, isSeq = unwrapNode(kv.Value).(*ast.SequenceNode)
		}
		if !isSeq || seq.IsFlowStyle || len(seq.Values) == 0 {
			return nil, fmt.Errorf("read the rule tests: no block list of cases to add to")
		}
		for _, c := range seq.Values {
			if m, ok := mappingOf(c); ok {
				if kv := keyOf(m, "name"); kv != nil {
					if n, ok := scalarText(kv.Value); ok {
						names[n] = true
					}
				}
			}
		}
		d := newTextDoc(file)
		indent = d.indentOf(d.offset(seq.Start.Position))
		at = d.lineEnd(d.end(seq.Values[len(seq.Values)-1]))
		if at < len(file) {
			at++
		}
		if !bytes.HasSuffix(file[:at], []byte("\n")) {
			b.WriteString("\n")
		}
	}
	for _, c := range cases {
		name := c.Name
		for i := 2; names[name]; i++ {
			name = fmt.Sprintf("%s (%d)", c.Name, i)
		}
		names[name] = true
		fmt.Fprintf(&b, "\n%s- name: %s\n", indent, quote(name))
		if len(c.Headers) > 0 {
			var hs []string
			for _, h := range c.Headers {
				hs = append(hs, yamlScalar(h.Key)+": "+yamlScalar(string(h.Value)))
			}
			fmt.Fprintf(&b, "%s  headers: { %s }\n", indent, strings.Join(hs, ", "))
		}
		fmt.Fprintf(&b, "%s  payload: %s\n", indent, singleQuoted(c.Payload))
		fmt.Fprintf(&b, "%s  outcome: %s\n", indent, c.Outcome)
		if len(c.Failures) > 0 {
			fmt.Fprintf(&b, "%s  failures:\n", indent)
			for _, f := range c.Failures {
				fmt.Fprintf(&b, "%s    - { reason: %s, field: %s }\n", indent, f.Reason, quote(f.Field))
			}
		}
	}
	out := append(append([]byte(nil), file[:at]...), b.String()...)
	return append(out, file[at:]...), nil
}

// singleQuoted writes the payload as a YAML string holding its bytes
// exactly, the raw payload text for the rule test: single-quoted when it
// is printable on one line, else double-quoted with escapes.
func singleQuoted(p []byte) string {
	s := string(p)
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\ufeff' || r >= 0x80 && !unicode.IsPrint(r)
	}) {
		return quote(s)
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// RebaseTestFile rewrites the payload_file paths of a rule test file copied
// from dir from to dir to, so that they name the same files; only those
// values change in the text.
func RebaseTestFile(file []byte, from, to string) ([]byte, error) {
	f, err := parser.ParseBytes(file, 0)
	if err != nil {
		return nil, fmt.Errorf("read the rule tests: %w", err)
	}
	d := newTextDoc(file)
	var walkErr error
	ast.Walk(visitFunc(func(n ast.Node) {
		kv, ok := n.(*ast.MappingValueNode)
		if !ok || keyText(kv) != "payload_file" || walkErr != nil {
			return
		}
		p, ok := scalarText(kv.Value)
		if !ok || filepath.IsAbs(p) {
			return
		}
		abs, err := filepath.Abs(filepath.Join(from, p))
		if err != nil {
			walkErr = err
			return
		}
		toAbs, err := filepath.Abs(to)
		if err != nil {
			walkErr = err
			return
		}
		rel, err := filepath.Rel(toAbs, abs)
		if err != nil {
			rel = abs
		}
		walkErr = d.replace(unwrapNode(kv.Value), yamlScalar(filepath.ToSlash(rel)))
	}), f.Docs[0].Body)
	if walkErr != nil {
		return nil, walkErr
	}
	return d.bytes()
}

type visitFunc func(ast.Node)

func (v visitFunc) Visit(n ast.Node) ast.Visitor {
	v(n)
	return v
}

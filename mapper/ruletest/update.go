package ruletest

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/mapperhq/mapper/mapper"
	"github.com/valyala/fastjson"
)

// Update returns the test file's text with the expectation of every failing
// case replaced by what the rules give now, and the names of the cases it
// rewrote; the rest of the file (payloads, comments, passing cases) is kept
// byte for byte. In a rewritten case, outcome and failures are written
// (failures only when there are some, or the case listed them); details
// only for the categories whose expectation gave one; the output as the
// case checked it (output exact, output_subset with its keys) or, for a
// case with no expectation yet, exact. The new text is parsed again before
// it is returned: Update never produces a file that ParseFile refuses.
func Update(rep *Report) ([]byte, []string, error) {
	s := rep.Suite
	lines := splitLines(s.data)
	var rewritten []string
	// Edit from the last case up, so that earlier line numbers hold.
	for i := len(rep.Results) - 1; i >= 0; i-- {
		r := &rep.Results[i]
		if r.Pass {
			continue
		}
		c := r.Case
		if c.flowStyle {
			return nil, nil, fmt.Errorf("%s:%d:%d: case %q is written in flow style ({…}); write it as a block mapping for --update",
				s.File, c.Line, c.Col, c.Name)
		}
		block, err := expectation(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d:%d: case %q: %w", s.File, c.Line, c.Col, c.Name, err)
		}
		if !linesKnown(s, i, lines) {
			return nil, nil, fmt.Errorf("%s:%d:%d: case %q: cannot find its lines to rewrite", s.File, c.Line, c.Col, c.Name)
		}
		end := caseEnd(s, i, lines)
		lines = spliceCase(lines, c, end, block)
		rewritten = append(rewritten, c.Name)
	}
	out := []byte(strings.Join(lines, ""))
	if _, err := Parse(s.File, out); err != nil {
		return nil, nil, fmt.Errorf("update %s: the rewritten file does not parse (please report this): %w", s.File, err)
	}
	for i, j := 0, len(rewritten)-1; i < j; i, j = i+1, j-1 {
		rewritten[i], rewritten[j] = rewritten[j], rewritten[i]
	}
	return out, rewritten, nil
}

// splitLines splits data after each newline; the result joins back to
// data, with a newline added at the end when it had none.
func splitLines(data []byte) []string {
	// Line breaks as YAML counts them: \n, \r\n and a lone \r.
	var lines []string
	start := 0
	for i := 0; i < len(data); i++ {
		switch {
		case data[i] == '\n':
		case data[i] == '\r' && (i+1 == len(data) || data[i+1] != '\n'):
		default:
			continue
		}
		lines = append(lines, string(data[start:i+1]))
		start = i + 1
	}
	if start < len(data) {
		lines = append(lines, string(data[start:]))
	}
	if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") && !strings.HasSuffix(lines[n-1], "\r") {
		lines[n-1] += "\n"
	}
	return lines
}

// caseEnd is the 1-based line after the last line of case i: the next
// case's first line (or the line after the cases list, or the end of the
// file), moved up past blank and comment lines and a bare "-".
func caseEnd(s *Suite, i int, lines []string) int {
	end := len(lines) + 1
	switch {
	case i+1 < len(s.Cases):
		end = s.Cases[i+1].Line
		if l := strings.TrimSpace(lines[end-1]); !strings.HasPrefix(l, "-") {
			// The next case's dash is on a line of its own above its first key.
			end--
		}
	case s.end > 0:
		end = s.end
	}
	return trimBack(lines, end)
}

// trimBack moves end (exclusive, 1-based) up past blank and comment lines.
func trimBack(lines []string, end int) int {
	for end > 1 {
		l := strings.TrimSpace(lines[end-2])
		if l != "" && !strings.HasPrefix(l, "#") && l != "-" {
			break
		}
		end--
	}
	return end
}

// spliceCase replaces the case's expectation keys with block: where the
// first of them was (keeping what precedes its key on that line, such as
// "- "), or after the case's last line when it had none.
func spliceCase(lines []string, c *Case, end int, block []string) []string {
	type span struct{ from, to, col int } // lines [from, to), 1-based
	var spans []span
	for k, kp := range c.keys {
		if !expectKeys[kp.name] {
			continue
		}
		to := end
		if k+1 < len(c.keys) {
			to = trimBack(lines, c.keys[k+1].line)
		}
		spans = append(spans, span{kp.line, to, kp.col})
	}
	indent := strings.Repeat(" ", c.Col-1)
	if len(spans) == 0 {
		ins := make([]string, len(block))
		for i, b := range block {
			ins[i] = indent + b + "\n"
		}
		return insertAt(lines, end-1, ins)
	}
	for i := len(spans) - 1; i >= 1; i-- {
		lines = append(lines[:spans[i].from-1], lines[spans[i].to-1:]...)
	}
	first := spans[0]
	head := lines[first.from-1]
	head = head[:min(first.col-1, len(head))]
	ins := make([]string, len(block))
	for i, b := range block {
		if i == 0 {
			ins[i] = head + b + "\n"
		} else {
			ins[i] = indent + b + "\n"
		}
	}
	lines = append(lines[:first.from-1], lines[first.to-1:]...)
	return insertAt(lines, first.from-1, ins)
}

func insertAt(lines []string, at int, ins []string) []string {
	out := make([]string, 0, len(lines)+len(ins))
	out = append(out, lines[:at]...)
	out = append(out, ins...)
	return append(out, lines[at:]...)
}

// expectation writes what the case got as the keys of a case, one line
// each (without indentation).
func expectation(r *CaseResult) ([]string, error) {
	c := r.Case
	had := map[string]bool{}
	for _, k := range c.keys {
		had[k.name] = true
	}
	out := []string{"outcome: " + string(r.Got.Outcome)}
	withDetail := map[mapper.Category]bool{}
	for _, f := range c.Expect.Failures {
		if f.HasDetail {
			withDetail[mapper.Category{Reason: f.Reason, Field: f.Field}] = true
		}
	}
	switch {
	case len(r.Got.Failures) > 0:
		out = append(out, "failures:")
		for _, f := range r.Got.Failures {
			item := "  - { reason: " + string(f.Reason) + ", field: " + yamlScalarString(f.Field)
			if withDetail[f.Category()] {
				item += ", detail: " + quoteText(f.Detail)
			}
			out = append(out, item+" }")
		}
	case had["failures"]:
		out = append(out, "failures: []")
	}
	key := ""
	switch {
	case had["output_subset"]:
		key = "output_subset"
	case had["output"] || !had["outcome"]:
		key = "output"
	}
	if key == "" {
		return out, nil
	}
	var p fastjson.Parser
	got, err := p.ParseBytes(outputOrNull(r.Got.Output))
	if err != nil {
		return nil, fmt.Errorf("the output is not JSON: %w", err)
	}
	if key == "output_subset" {
		var pw fastjson.Parser
		want, err := pw.ParseBytes(c.Expect.Output)
		if err != nil {
			return nil, fmt.Errorf("the expected output is not JSON: %w", err)
		}
		var a fastjson.Arena
		got = project(&a, got, want)
	}
	return append(out, yamlField(key, got, "")...), nil
}

// yamlField writes key: value as block YAML lines, strings JSON-quoted so
// that nothing changes type on the way back, object keys in the output's
// order.
func yamlField(key string, v *fastjson.Value, indent string) []string {
	head := indent + yamlKey(key) + ":"
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		if o.Len() == 0 {
			return []string{head + " {}"}
		}
		lines := []string{head}
		o.Visit(func(k []byte, fv *fastjson.Value) {
			lines = append(lines, yamlField(string(k), fv, indent+"  ")...)
		})
		return lines
	case fastjson.TypeArray:
		if flow, ok := flowArray(v); ok {
			return []string{head + " " + flow}
		}
		arr, _ := v.Array()
		lines := []string{head}
		for _, it := range arr {
			lines = append(lines, yamlItem(it, indent+"  ")...)
		}
		return lines
	}
	return []string{head + " " + flowJSON(v)}
}

// yamlItem writes one element of a block sequence.
func yamlItem(v *fastjson.Value, indent string) []string {
	if v.Type() == fastjson.TypeObject {
		o, _ := v.Object()
		if o.Len() > 0 {
			var lines []string
			o.Visit(func(k []byte, fv *fastjson.Value) {
				lines = append(lines, yamlField(string(k), fv, indent+"  ")...)
			})
			lines[0] = indent + "- " + strings.TrimPrefix(lines[0], indent+"  ")
			return lines
		}
	}
	return []string{indent + "- " + flowJSON(v)}
}

// flowArray writes an array of scalars on one line when it is short.
func flowArray(v *fastjson.Value) (string, bool) {
	arr, _ := v.Array()
	for _, it := range arr {
		if t := it.Type(); t == fastjson.TypeObject || t == fastjson.TypeArray {
			return "", false
		}
	}
	s := flowJSON(v)
	return s, len(s) <= 100
}

// flowJSON writes a value as JSON with YAML-friendly separators (", ",
// ": "), which YAML reads back as the same value.
func flowJSON(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		var parts []string
		o.Visit(func(k []byte, fv *fastjson.Value) {
			parts = append(parts, quoteText(string(k))+": "+flowJSON(fv))
		})
		return "{" + strings.Join(parts, ", ") + "}"
	case fastjson.TypeArray:
		arr, _ := v.Array()
		parts := make([]string, len(arr))
		for i, it := range arr {
			parts[i] = flowJSON(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		return quoteText(string(s))
	}
	return v.String()
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-/]*$`)

var yamlWords = map[string]bool{"true": true, "false": true, "null": true, "yes": true, "no": true,
	"on": true, "off": true, "y": true, "n": true}

// yamlKey writes a mapping key plainly when YAML reads it back as the same
// string, quoted otherwise.
func yamlKey(k string) string {
	if plainKey.MatchString(k) && !yamlWords[strings.ToLower(k)] {
		return k
	}
	return quoteText(k)
}

// yamlScalarString is yamlKey for a value in flow context, where "[]" and
// "," are special: field paths such as items[].sku are quoted.
func yamlScalarString(s string) string {
	if s != "" && plainKey.MatchString(s) && !yamlWords[strings.ToLower(s)] {
		return s
	}
	return quoteText(s)
}

// linesKnown reports whether every line position case i and its keys use
// lies in lines, so that the rewrite cannot run off the file.
func linesKnown(s *Suite, i int, lines []string) bool {
	in := func(l int) bool { return l >= 1 && l <= len(lines) }
	c := s.Cases[i]
	if !in(c.Line) || s.end > len(lines)+1 {
		return false
	}
	if i+1 < len(s.Cases) && !in(s.Cases[i+1].Line) {
		return false
	}
	for _, k := range c.keys {
		if !in(k.line) {
			return false
		}
	}
	return true
}

package mapper

import "fmt"

// maxRuleKeys is the most mapping keys a rule file may have. The YAML
// parser's time and memory grow with the square of the keys of one mapping
// and of the nesting depth (goccy/go-yaml#889, #902), so both are bounded
// before it runs: 4096 keys parse in well under a second.
const maxRuleKeys = 4096

// maxRuleEntries is the most entries — keys, list items and lines — a rule
// file may have: the parser allocates about a kilobyte for each.
const maxRuleEntries = 20000

// maxRuleLine is the longest line a rule file may have: no key, path or
// value of a rule needs more, and the parser copies long scalars.
const maxRuleLine = 64 << 10

// scanBounds reads a rule file once, before it is parsed, and reports the
// first place where it nests deeper than maxNesting (flow brackets and
// block indentation together), where it passes maxRuleKeys keys or
// maxRuleEntries entries, or has a line longer than maxRuleLine; what is ""
// when it stays within all of them. The scan is linear and approximate in the
// direction of safety: it skips quoted text and comments, and counts as a
// key every ':' that ends a plain token.
func scanBounds(data []byte, maxNesting int) (line, col int, what string) {
	line, col = 1, 0
	var indents []int // block indentation levels open
	flow := 0         // open [ and {
	keys, entries := 0, 0
	tooMany := func() bool { entries++; return entries > maxRuleEntries }
	lineStart := true
	indent := 0
	prev := byte('\n')
	for i := 0; i < len(data); i++ {
		c := data[i]
		col++
		if col > maxRuleLine {
			return line, 1, fmt.Sprintf("line longer than %d bytes", maxRuleLine)
		}
		if lineStart {
			switch c {
			case ' ':
				indent++
				prev = c
				continue
			case '-':
				if i+1 < len(data) && (data[i+1] == ' ' || data[i+1] == '\n') {
					if tooMany() {
						return line, col, fmt.Sprintf("more than %d entries (keys, list items and lines) in one rule file", maxRuleEntries)
					}
					indent += 2 // a block sequence entry nests like an indentation
					i++
					col++
					prev = ' '
					continue
				}
			}
			if c != '\n' && c != '\r' && c != '#' && flow == 0 {
				for len(indents) > 0 && indents[len(indents)-1] >= indent {
					indents = indents[:len(indents)-1]
				}
				indents = append(indents, indent)
			}
			lineStart = false
		}
		switch {
		case c == '\n':
			line, col, lineStart, indent = line+1, 0, true, 0
			if tooMany() {
				return line, 1, fmt.Sprintf("more than %d entries (keys, list items and lines) in one rule file", maxRuleEntries)
			}
		case c == '#' && (prev == ' ' || prev == '\t' || prev == '\n'):
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case (c == '"' || c == '\'') && isTokenStart(prev):
			// Skip to the end of the quoted text, counting its lines.
			for i+1 < len(data) {
				i++
				col++
				d := data[i]
				if d == '\n' {
					line, col = line+1, 0
				}
				if c == '"' && d == '\\' {
					i++
					col++
					continue
				}
				if d == c {
					if c == '\'' && i+1 < len(data) && data[i+1] == '\'' {
						i++
						col++
						continue
					}
					break
				}
			}
			c = 'x'
		case c == '[' || c == '{':
			flow++
		case c == ',' && flow > 0:
			if tooMany() {
				return line, col, fmt.Sprintf("more than %d entries (keys, list items and lines) in one rule file", maxRuleEntries)
			}
		case c == ']' || c == '}':
			if flow > 0 {
				flow--
			}
		case c == ':' && (i+1 == len(data) || isKeyEnd(data[i+1], flow > 0)):
			keys++
			if tooMany() {
				return line, col, fmt.Sprintf("more than %d entries (keys, list items and lines) in one rule file", maxRuleEntries)
			}
			if keys > maxRuleKeys {
				return line, col, fmt.Sprintf("more than %d keys in one rule file", maxRuleKeys)
			}
		}
		if len(indents)+flow > maxNesting {
			return line, col, fmt.Sprintf("nested deeper than %d levels (Options.MaxRuleNesting)", maxNesting)
		}
		prev = c
	}
	return 0, 0, ""
}

func isTokenStart(prev byte) bool {
	switch prev {
	case ' ', '\t', '\n', '\r', '[', '{', ',', ':', '-':
		return true
	}
	return false
}

func isKeyEnd(next byte, inFlow bool) bool {
	switch next {
	case ' ', '\t', '\n', '\r':
		return true
	case ',', ']', '}':
		return inFlow
	}
	return false
}

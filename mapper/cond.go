package mapper

import (
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/valyala/fastjson"
)

// condOp is one test of a value in a condition.
type condOp uint8

const (
	opIs  condOp = iota // equal to the literal
	opIn                // equal to one of the literals
	opNot               // equal to none of the literals
	opGT                // a number greater than the literal
	opGTE               // greater or equal
	opLT                // less than
	opLTE               // less or equal
)

// condTest is one test: the value must pass op against the literals.
// Numbers compare exactly by value, as decimals (1e2 equals 100, "12.30"
// equals 12.3); a number and a numeric string compare as numbers for gt,
// gte, lt and lte, never for equality.
type condTest struct {
	op   condOp
	lits [][]byte // JSON literals (one for is and the comparisons)
}

// condKeys are the keys of a condition that test the value.
var condKeys = []string{"is", "in", "not", "gt", "gte", "lt", "lte"}

func condOpOf(key string) (condOp, bool) {
	switch key {
	case "is":
		return opIs, true
	case "in":
		return opIn, true
	case "not":
		return opNot, true
	case "gt":
		return opGT, true
	case "gte":
		return opGTE, true
	case "lt":
		return opLT, true
	case "lte":
		return opLTE, true
	}
	return 0, false
}

// condition is a field's when: the value at path is present, not null, and
// passes every test.
type condition struct {
	path  srcPath
	tests []condTest
}

// passes reports whether v (present, not null) passes every test.
func (m *Mapper) passes(v *fastjson.Value, tests []condTest) bool {
	for i := range tests {
		if !m.passesOne(v, &tests[i]) {
			return false
		}
	}
	return true
}

func (m *Mapper) passesOne(v *fastjson.Value, t *condTest) bool {
	switch t.op {
	case opIs, opIn:
		for _, lit := range t.lits {
			if m.sameAsLiteral(v, lit) {
				return true
			}
		}
		return false
	case opNot:
		for _, lit := range t.lits {
			if m.sameAsLiteral(v, lit) {
				return false
			}
		}
		return true
	}
	var text string
	switch v.Type() {
	case fastjson.TypeNumber:
		text = m.rawNumber(v)
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		text = strings.TrimSpace(b2s(b))
	default:
		return false
	}
	c, ok := cmpDecimal(text, b2s(t.lits[0]))
	if !ok {
		return false
	}
	switch t.op {
	case opGT:
		return c > 0
	case opGTE:
		return c >= 0
	case opLT:
		return c < 0
	}
	return c <= 0 // opLTE
}

// sameAsLiteral compares a value with a JSON literal: numbers by value,
// anything else by its JSON text.
func (m *Mapper) sameAsLiteral(v *fastjson.Value, lit []byte) bool {
	if v.Type() == fastjson.TypeNumber && len(lit) > 0 && (lit[0] == '-' || lit[0] >= '0' && lit[0] <= '9') {
		c, ok := cmpDecimal(m.rawNumber(v), b2s(lit))
		return ok && c == 0
	}
	return literalEquals(m, v, lit)
}

// cmpDecimal compares two numbers written as text ("-12.30", "1.5e3")
// exactly, digit by digit, with no allocation; ok is false when either is
// not a number (or has an exponent beyond ±10000).
func cmpDecimal(a, b string) (int, bool) {
	da, ok, _ := parseDecimal(a, true, 10000)
	if !ok {
		return 0, false
	}
	db, ok, _ := parseDecimal(b, true, 10000)
	if !ok {
		return 0, false
	}
	na, nb := normDigits(da), normDigits(db)
	sa, sb := na.sign(da.neg), nb.sign(db.neg)
	switch {
	case sa != sb:
		if sa < sb {
			return -1, true
		}
		return 1, true
	case sa == 0:
		return 0, true
	}
	c := na.cmpAbs(nb)
	if sa < 0 {
		c = -c
	}
	return c, true
}

// digits is a decimal's significant digits: d.intPart+d.frac from lo to
// hi (no leading or trailing zeros), with point digits before the point.
type digits struct {
	d      decimalText
	lo, hi int
	point  int
}

func normDigits(d decimalText) digits {
	n := digits{d: d, hi: len(d.intPart) + len(d.frac), point: len(d.intPart) + d.exp}
	for n.lo < n.hi && n.at(n.lo) == '0' {
		n.lo++
		n.point--
	}
	for n.hi > n.lo && n.at(n.hi-1) == '0' {
		n.hi--
	}
	return n
}

func (n digits) at(i int) byte {
	if i < len(n.d.intPart) {
		return n.d.intPart[i]
	}
	return n.d.frac[i-len(n.d.intPart)]
}

func (n digits) sign(neg bool) int {
	switch {
	case n.lo == n.hi:
		return 0
	case neg:
		return -1
	}
	return 1
}

// cmpAbs compares two non-zero magnitudes.
func (n digits) cmpAbs(o digits) int {
	if n.point != o.point {
		if n.point < o.point {
			return -1
		}
		return 1
	}
	i, j := n.lo, o.lo
	for ; i < n.hi && j < o.hi; i, j = i+1, j+1 {
		if a, b := n.at(i), o.at(j); a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	switch {
	case i < n.hi:
		return 1
	case j < o.hi:
		return -1
	}
	return 0
}

// conditionTests reads the tests of a condition or a case from the keys of
// m other than skip; what names the place for problems.
func (l *ruleLoader) conditionTests(m *ast.MappingNode, what string, skip ...string) []condTest {
	var tests []condTest
	for _, kv := range m.Values {
		k := l.key(kv)
		if slices.Contains(skip, k) {
			continue
		}
		op, ok := condOpOf(k)
		if !ok {
			l.errAt(kv.Key, "unknown key %q in %s%s", k, what, didYouMean(k, append(append([]string(nil), skip...), condKeys...)))
			continue
		}
		v := unwrap(kv.Value)
		t := condTest{op: op}
		switch op {
		case opIs:
			lit, err := yamlToJSON(v)
			if err != nil {
				l.errAt(v, "%s.%s: %v", what, k, err)
				continue
			}
			t.lits = [][]byte{lit}
		case opIn, opNot:
			items := []ast.Node{v}
			if seq, ok := v.(*ast.SequenceNode); ok {
				items = seq.Values
			} else if op == opIn {
				l.errAt(v, "%s.in: expected a list of values, got %s", what, describeNode(v))
				continue
			}
			for _, it := range items {
				lit, err := yamlToJSON(it)
				if err != nil {
					l.errAt(it, "%s.%s: %v", what, k, err)
					continue
				}
				t.lits = append(t.lits, lit)
			}
		default:
			text, ok := numberLiteral(v)
			if !ok {
				l.errAt(v, "%s.%s: expected a number, got %s", what, k, describeNode(v))
				continue
			}
			t.lits = [][]byte{[]byte(text)}
		}
		tests = append(tests, t)
	}
	return tests
}

// numberLiteral is the text of a YAML number as written, when it is one
// cmpDecimal reads.
func numberLiteral(n ast.Node) (string, bool) {
	switch n.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
	default:
		return "", false
	}
	text := n.GetToken().Value
	if _, ok := cmpDecimal(text, "0"); !ok {
		return "", false
	}
	return text, true
}

// when reads a field's when: a path (present and not null), a mapping
// {path, is/in/not/gt/gte/lt/lte}, or a list of them, all of which must hold.
func (l *ruleLoader) when(n ast.Node, out string) []condition {
	items := []ast.Node{n}
	if seq, ok := n.(*ast.SequenceNode); ok {
		items = seq.Values
	}
	var conds []condition
	for _, it := range items {
		it = unwrap(it)
		what := out + ".when"
		if s, ok := it.(*ast.StringNode); ok {
			p, err := l.path(s.Value)
			if err != nil {
				l.errAt(it, "%s: %v", what, err)
				continue
			}
			conds = append(conds, condition{path: p})
			continue
		}
		m, ok := l.mapping(it, what)
		if !ok {
			continue
		}
		var c condition
		hasPath := false
		for _, kv := range m.Values {
			if l.key(kv) != "path" {
				continue
			}
			s, ok := l.str(unwrap(kv.Value), what+".path")
			if !ok {
				continue
			}
			p, err := l.path(s)
			if err != nil {
				l.errAt(kv.Value, "%s.path: %v", what, err)
				continue
			}
			c.path, hasPath = p, true
		}
		c.tests = l.conditionTests(m, what, "path")
		if !hasPath {
			l.errAt(it, "%s: a condition needs a path", what)
			continue
		}
		conds = append(conds, c)
	}
	return conds
}

// holds reports whether every condition holds in ctx.
func (m *Mapper) holds(conds []condition, ctx *fastjson.Value) bool {
	for i := range conds {
		c := &conds[i]
		v, _, _ := lookup(m.base(&c.path, ctx), c.path)
		if v == nil || v.Type() == fastjson.TypeNull || !m.passes(v, c.tests) {
			return false
		}
	}
	return true
}

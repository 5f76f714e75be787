package mapper

import (
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/mapperhq/mapper/internal/yamlnode"
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

// condKind is what a condition tests.
type condKind uint8

const (
	condPath   condKind = iota // the value at path (present, not null) passes tests
	condAbsent                 // the path is absent or null
	condAll                    // every kid holds
	condAny                    // some kid holds
	condNot                    // the one kid does not hold
)

// condition is a condition of the rules language, accepted by a field's
// when and a case's when: a path (present and not null), {path, tests…},
// {path, absent: true}, {path, present: true}, {all: [...]}, {any:
// [...]}, {not: C}, or a list (all of it). Null counts as absent
// everywhere: {path: P, is: x} is false for an absent or null P, so
// {not: {path: P, is: x}} is true for it, and {path: P, absent: true}
// holds for both.
type condition struct {
	kind  condKind
	path  srcPath
	tests []condTest
	kids  []condition
	pos   [2]int // line and column in the rule file, for the static checks
}

// leaves calls fn for every leaf (path or absent) of c, left to right.
func (c *condition) leaves(fn func(*condition)) {
	switch c.kind {
	case condPath, condAbsent:
		fn(c)
	default:
		for i := range c.kids {
			c.kids[i].leaves(fn)
		}
	}
}

// paths calls fn for the path of every leaf of c, left to right.
func (c *condition) paths(fn func(*srcPath)) {
	c.leaves(func(leaf *condition) { fn(&leaf.path) })
}

// firstPath is the leftmost leaf's path: where a failure about the
// condition as a whole is placed.
func (c *condition) firstPath() *srcPath {
	for c.kind != condPath && c.kind != condAbsent {
		if len(c.kids) == 0 {
			return &srcPath{}
		}
		c = &c.kids[0]
	}
	return &c.path
}

// holds reports whether c holds in ctx.
func (m *Mapper) holds(c *condition, ctx *fastjson.Value) bool {
	switch c.kind {
	case condAll:
		for i := range c.kids {
			if !m.holds(&c.kids[i], ctx) {
				return false
			}
		}
		return true
	case condAny:
		for i := range c.kids {
			if m.holds(&c.kids[i], ctx) {
				return true
			}
		}
		return false
	case condNot:
		return !m.holds(&c.kids[0], ctx)
	}
	v, _, _ := lookup(m.base(&c.path, ctx), c.path)
	present := v != nil && v.Type() != fastjson.TypeNull
	if c.kind == condAbsent {
		return !present
	}
	return present && m.passes(v, c.tests)
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

var conditionKeys = []string{"path", "all", "any", "not", "present", "absent", "is", "in", "gt", "gte", "lt", "lte"}

// condition reads a condition (see condition) at n; what names the place
// for problems. ok is false when it has problems (they are reported).
func (l *ruleLoader) condition(n ast.Node, what string, depth int) (condition, bool) {
	n = unwrap(n)
	if depth > l.opts.MaxRuleNesting {
		l.errAt(n, "%s: conditions nested deeper than %d levels", what, l.opts.MaxRuleNesting)
		return condition{}, false
	}
	switch x := n.(type) {
	case *ast.StringNode:
		p, err := l.path(x.Value)
		if err == nil && len(p.segs) == 0 {
			err = errEmptyPath
		}
		if err != nil {
			l.errAt(n, "%s: %v", what, err)
			return condition{}, false
		}
		return condition{kind: condPath, path: p, pos: nodePos(n)}, true
	case *ast.SequenceNode:
		return l.conditionList(x, condAll, what, depth)
	}
	m, ok := l.mapping(n, what)
	if !ok {
		return condition{}, false
	}
	var hasPath bool
	var combo ast.Node
	var comboKey string
	for _, kv := range m.Values {
		switch k := l.key(kv); k {
		case "path":
			hasPath = true
		case "all", "any":
			combo, comboKey = kv.Value, k
		case "not":
			if combo == nil {
				combo, comboKey = kv.Value, k
			}
		}
	}
	if !hasPath {
		if combo == nil || len(m.Values) != 1 {
			l.errAt(n, "%s: a condition needs a path ({path: P, ...}) or combines others ({all: [...]}, {any: [...]}, {not: C})", what)
			return condition{}, false
		}
		switch comboKey {
		case "all", "any":
			seq, ok := unwrap(combo).(*ast.SequenceNode)
			if !ok || len(seq.Values) == 0 {
				l.errAt(combo, "%s.%s: expected a non-empty list of conditions, got %s", what, comboKey, describeNode(unwrap(combo)))
				return condition{}, false
			}
			kind := condAll
			if comboKey == "any" {
				kind = condAny
			}
			return l.conditionList(seq, kind, what+"."+comboKey, depth)
		}
		kid, ok := l.condition(combo, what+".not", depth+1)
		return condition{kind: condNot, kids: []condition{kid}}, ok
	}
	c := condition{kind: condPath, pos: nodePos(n)}
	good := true
	presence := 0 // 1: present: true / absent: false; -1: absent
	for _, kv := range m.Values {
		v := unwrap(kv.Value)
		switch k := l.key(kv); k {
		case "path":
			s, ok := l.str(v, what+".path")
			if !ok {
				good = false
				continue
			}
			p, err := l.path(s)
			if err == nil && len(p.segs) == 0 {
				err = errEmptyPath
			}
			if err != nil {
				l.errAt(kv.Value, "%s.path: %v", what, err)
				good = false
				continue
			}
			c.path = p
		case "present", "absent":
			bn, ok := v.(*ast.BoolNode)
			if !ok {
				l.errAt(v, "%s.%s: expected true or false, got %s", what, k, describeNode(v))
				good = false
				continue
			}
			if bn.Value == (k == "present") {
				presence = 1
			} else {
				presence = -1
			}
		case "all", "any":
			l.errAt(kv.Key, "%s: %s combines conditions; it cannot stand beside path (write {%s: [{path: ...}, ...]})", what, k, k)
			good = false
		}
	}
	c.tests = l.conditionTests(m, what, "path", "present", "absent", "all", "any")
	if presence == -1 {
		if len(c.tests) > 0 {
			l.errAt(n, "%s: an absent path has no value to test", what)
			good = false
		}
		c.kind = condAbsent
	}
	return c, good
}

func (l *ruleLoader) conditionList(seq *ast.SequenceNode, kind condKind, what string, depth int) (condition, bool) {
	c := condition{kind: kind}
	good := true
	for _, it := range seq.Values {
		kid, ok := l.condition(it, what, depth+1)
		good = good && ok
		c.kids = append(c.kids, kid)
	}
	if len(c.kids) == 1 && kind == condAll {
		return c.kids[0], good
	}
	return c, good
}

// when reads a field's when: a condition.
func (l *ruleLoader) when(n ast.Node, out string) *condition {
	c, ok := l.condition(n, out+".when", 0)
	if !ok {
		l.bad = true
		return nil
	}
	return &c
}

// condPaths calls fn for every path r reads besides from, default_from and
// template: its when and cases conditions, its cases' own from paths, and
// the paths its transforms read (currency_from).
func (r *fieldRule) condPaths(fn func(*srcPath)) {
	if r.when != nil {
		r.when.paths(fn)
	}
	for i := range r.cases {
		c := &r.cases[i]
		c.when.paths(fn)
		if c.rule != nil {
			for j := range c.rule.from {
				fn(&c.rule.from[j])
			}
			c.rule.condPaths(fn)
		}
	}
	for i := range r.transforms {
		if a := r.transforms[i].arg; a != nil && a.currency != nil {
			fn(a.currency)
		}
	}
}

func nodePos(n ast.Node) [2]int {
	line, col := yamlnode.Pos(n)
	return [2]int{line, col}
}

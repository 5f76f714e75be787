package mapper

import (
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

func (l *ruleLoader) transforms(n ast.Node, out string) []transformStep {
	var items []ast.Node
	if seq, ok := n.(*ast.SequenceNode); ok {
		items = seq.Values
	} else {
		items = []ast.Node{n}
	}
	var steps []transformStep
	for _, it := range items {
		it = unwrap(it)
		var name string
		var argNode ast.Node
		switch x := it.(type) {
		case *ast.StringNode:
			name = x.Value
		case *ast.MappingNode, *ast.MappingValueNode:
			m, _ := l.mapping(x, out+".transform")
			if len(m.Values) != 1 {
				l.errAt(it, "%s.transform: write a transform with an argument as {name: argument}", out)
				continue
			}
			name, argNode = l.key(m.Values[0]), unwrap(m.Values[0].Value)
		default:
			l.errAt(it, "%s.transform: expected a transform name, got %s", out, describeNode(it))
			continue
		}
		def, names, ok := lookupTransform(name)
		if !ok {
			l.errAt(it, "unknown transform %q%s", name, didYouMean(name, names))
			continue
		}
		step := transformStep{transformDef: def}
		if argNode != nil {
			arg := &transformArg{unit: -1}
			switch def.arg {
			case argSeparator:
				s, ok := l.str(argNode, out+".transform."+name)
				if !ok {
					continue
				}
				if s == "" {
					l.errAt(argNode, "%s.transform.%s: the separator is empty", out, name)
					continue
				}
				arg.str = s
			case argDigits:
				d := -1
				if in, ok := argNode.(*ast.IntegerNode); ok {
					d, _ = strconv.Atoi(in.GetToken().Value)
				}
				if d < 0 || d > 18 {
					l.errAt(argNode, "%s.transform.%s: expected a number of decimal places (0-18)", out, name)
					continue
				}
				arg.n = d
				if d == 0 {
					arg.n = -1
				}
			case argTimestamp:
				if !l.timestampArg(argNode, out, arg) {
					continue
				}
			case argMinor:
				if !l.minorArg(argNode, out, arg) {
					continue
				}
			default:
				l.errAt(argNode, "%s.transform: %s takes no argument", out, name)
				continue
			}
			step.arg = arg
		}
		if step.arg == nil && def.arg == argMinor {
			l.errAt(it, "%s.transform: %s needs its decimal places: {%s: 2}, or {%s: {currency_from: PATH}} to take them from the record's ISO 4217 currency code", out, name, name, name)
			continue
		}
		steps = append(steps, step)
	}
	return steps
}

// minorArg reads the argument of minor_to_decimal: a number of decimal
// places (0-18), or {currency_from: PATH}.
func (l *ruleLoader) minorArg(n ast.Node, out string, arg *transformArg) bool {
	what := out + ".transform.minor_to_decimal"
	if in, ok := n.(*ast.IntegerNode); ok {
		d, err := strconv.Atoi(in.GetToken().Value)
		if err != nil || d < 0 || d > 18 {
			l.errAt(n, "%s: expected a number of decimal places (0-18)", what)
			return false
		}
		arg.places = d
		return true
	}
	m, ok := n.(*ast.MappingNode)
	if mv, isMV := n.(*ast.MappingValueNode); isMV {
		m, ok = &ast.MappingNode{BaseNode: mv.BaseNode, Values: []*ast.MappingValueNode{mv}}, true
	}
	if !ok {
		l.errAt(n, "%s: expected a number of decimal places (0-18) or {currency_from: PATH}, got %s", what, describeNode(n))
		return false
	}
	good := false
	for _, kv := range m.Values {
		if k := l.key(kv); k != "currency_from" {
			l.errAt(kv.Key, "unknown key %q in %s%s", k, what, didYouMean(k, []string{"currency_from"}))
			return false
		}
		s, ok := l.str(unwrap(kv.Value), what+".currency_from")
		if !ok {
			return false
		}
		p, err := l.path(s)
		if err == nil && len(p.segs) == 0 {
			err = errEmptyPath
		}
		if err != nil {
			l.errAt(kv.Value, "%s.currency_from: %v", what, err)
			return false
		}
		arg.currency, good = &p, true
	}
	if !good {
		l.errAt(n, "%s: expected {currency_from: PATH}", what)
	}
	return good
}

var timestampArgKeys = []string{"unit", "layouts"}

// timestampArg reads the argument of timestamp: a list of Go layouts
// (["2006-01-02 15:04:05"]), or {unit: s|ms|us|ns, layouts: [...]}.
func (l *ruleLoader) timestampArg(n ast.Node, out string, arg *transformArg) bool {
	what := out + ".transform.timestamp"
	m, isMap := n.(*ast.MappingNode)
	if mv, ok := n.(*ast.MappingValueNode); ok {
		m, isMap = &ast.MappingNode{BaseNode: mv.BaseNode, Values: []*ast.MappingValueNode{mv}}, true
	}
	if !isMap {
		return l.layouts(n, what, arg)
	}
	good := true
	for _, kv := range m.Values {
		v := unwrap(kv.Value)
		switch k := l.key(kv); k {
		case "unit":
			s, ok := l.str(v, what+".unit")
			if !ok {
				good = false
				break
			}
			u, ok := timestampUnits[s]
			if !ok {
				l.errAt(v, "%s.unit: unknown unit %q%s", what, s, didYouMean(s, timestampUnitNames))
				good = false
				break
			}
			arg.unit = u
		case "layouts":
			good = l.layouts(v, what+".layouts", arg) && good
		default:
			l.errAt(kv.Key, "unknown key %q in %s%s", k, what, didYouMean(k, timestampArgKeys))
			good = false
		}
	}
	return good
}

// layouts reads Go time layouts, refusing text that has none of the
// reference time's elements ("unix" is not a layout).
func (l *ruleLoader) layouts(n ast.Node, what string, arg *transformArg) bool {
	good := true
	for _, ps := range l.strList(n, what) {
		if !isLayout(ps.s) {
			hint := "write the reference time Mon Jan 2 15:04:05 MST 2006 as the text shows it, e.g. \"2006-01-02 15:04:05\""
			if _, unit := timestampUnits[ps.s]; unit || strings.HasPrefix(ps.s, "unix") || strings.HasPrefix(ps.s, "epoch") {
				hint = "for a Unix time write {timestamp: {unit: s|ms|us|ns}}"
			}
			l.ps.add(l.file, ps.line, ps.col, "%s: %q is not a Go time layout (%s)", what, ps.s, hint)
			l.bad = true
			good = false
			continue
		}
		arg.layouts = append(arg.layouts, ps.s)
	}
	return good
}

// isLayout reports whether s holds at least one element of Go's reference
// time, so that parsing with it reads something.
func isLayout(s string) bool {
	probe := time.Date(1999, 12, 31, 23, 59, 58, 123456789, time.FixedZone("X", 3600))
	return probe.Format(s) != s
}

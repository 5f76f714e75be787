package mapper

import (
	"strconv"

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
		def, ok := lookupTransform(name)
		if !ok {
			l.errAt(it, "unknown transform %q%s", name, didYouMean(name, transformNames))
			continue
		}
		step := transformStep{name: name, fn: def.fn}
		if argNode != nil {
			arg := &transformArg{}
			switch def.arg {
			case "string":
				s, ok := l.str(argNode, out+".transform."+name)
				if !ok {
					continue
				}
				if s == "" {
					l.errAt(argNode, "%s.transform.%s: the separator is empty", out, name)
					continue
				}
				arg.str = s
			case "int":
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
			case "layouts":
				for _, ps := range l.strList(argNode, out+".transform."+name) {
					arg.layouts = append(arg.layouts, ps.s)
				}
			default:
				l.errAt(argNode, "%s.transform: %s takes no argument", out, name)
				continue
			}
			step.arg = arg
		}
		steps = append(steps, step)
	}
	return steps
}

package mapper

import (
	"fmt"
	"strconv"

	"github.com/goccy/go-yaml/ast"
	"github.com/mapperhq/mapper/internal/yamlnode"
)

// ruleLoader reads one rule file from its YAML syntax tree, so that every
// problem has a position and fields keep their order.
type ruleLoader struct {
	file    string
	ps      *problems
	schemas *schemaSet
	opts    Options
	bad     bool
	// redactFlowLine is the line of a one-line `redact: [...]` list whose
	// [] were written as () for the YAML parser (0: none); see
	// flowRedactList.
	redactFlowLine int
}

func (l *ruleLoader) errAt(n ast.Node, format string, args ...any) {
	l.bad = true
	line, col := 0, 0
	if n != nil {
		if t := n.GetToken(); t != nil && t.Position != nil {
			line, col = t.Position.Line, t.Position.Column
		}
	}
	l.ps.add(l.file, line, col, format, args...)
}

// unwrap, describeNode and key read YAML nodes the way rule tests do too
// (internal/yamlnode).
func unwrap(n ast.Node) ast.Node { return yamlnode.Unwrap(n) }

func describeNode(n ast.Node) string { return yamlnode.Describe(n) }

func (l *ruleLoader) mapping(n ast.Node, what string) (*ast.MappingNode, bool) {
	switch x := unwrap(n).(type) {
	case *ast.MappingNode:
		return x, true
	case *ast.MappingValueNode:
		return &ast.MappingNode{BaseNode: x.BaseNode, Values: []*ast.MappingValueNode{x}}, true
	}
	l.errAt(n, "%s: expected a mapping, got %s", what, describeNode(unwrap(n)))
	return nil, false
}

func (l *ruleLoader) key(kv *ast.MappingValueNode) string { return yamlnode.Key(kv) }

func (l *ruleLoader) str(n ast.Node, what string) (string, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.LiteralNode:
		return x.Value.Value, true
	}
	l.errAt(n, "%s: expected a string, got %s", what, describeNode(n))
	return "", false
}

type posString struct {
	s         string
	line, col int
}

func pos(n ast.Node) (int, int) {
	if t := n.GetToken(); t != nil && t.Position != nil {
		return t.Position.Line, t.Position.Column
	}
	return 0, 0
}

// strList reads a string or a list of strings.
func (l *ruleLoader) strList(n ast.Node, what string) []posString {
	n = unwrap(n)
	var items []ast.Node
	if seq, ok := n.(*ast.SequenceNode); ok {
		items = seq.Values
		if len(items) == 0 {
			l.errAt(n, "%s: the list is empty", what)
		}
	} else {
		items = []ast.Node{n}
	}
	var out []posString
	for _, it := range items {
		it = unwrap(it)
		s, ok := l.str(it, what)
		if !ok {
			continue
		}
		line, col := pos(it)
		out = append(out, posString{s: s, line: line, col: col})
	}
	return out
}

// boolean reads true or false into dst.
func (l *ruleLoader) boolean(n ast.Node, what string, dst *bool) {
	b, ok := n.(*ast.BoolNode)
	if !ok {
		l.errAt(n, "%s: expected true or false, got %s", what, describeNode(n))
		return
	}
	*dst = b.Value
}

// ratioSetting reads a mapping with the one key name, a number from 0 to 1,
// into dst ({mapped_ratio: 0.95}).
func (l *ruleLoader) ratioSetting(n ast.Node, what, name string, dst *float64) {
	m, ok := l.mapping(n, what)
	if !ok {
		return
	}
	for _, kv := range m.Values {
		if k := l.key(kv); k != name {
			l.errAt(kv.Key, "unknown key %q in %s%s", k, what, didYouMean(k, []string{name}))
			continue
		}
		if r, ok := l.ratio(unwrap(kv.Value), what+"."+name); ok {
			*dst = r
		}
	}
}

func (l *ruleLoader) ratio(n ast.Node, what string) (float64, bool) {
	var f float64
	switch x := n.(type) {
	case *ast.FloatNode:
		f = x.Value
	case *ast.IntegerNode:
		f, _ = strconv.ParseFloat(x.GetToken().Value, 64)
	default:
		l.errAt(n, "%s: expected a number between 0 and 1, got %s", what, describeNode(n))
		return 0, false
	}
	if f < 0 || f > 1 {
		l.errAt(n, "%s: expected a number between 0 and 1, got %v", what, f)
		return 0, false
	}
	return f, true
}

// yamlToJSON converts a YAML value into a compact JSON literal.
func yamlToJSON(n ast.Node) ([]byte, error) {
	var out []byte
	var conv func(n ast.Node) error
	conv = func(n ast.Node) error {
		switch x := unwrap(n).(type) {
		case *ast.StringNode:
			out = appendJSONString(out, x.Value)
		case *ast.LiteralNode:
			out = appendJSONString(out, x.Value.Value)
		case *ast.IntegerNode:
			out = append(out, x.GetToken().Value...)
			if _, err := strconv.ParseInt(x.GetToken().Value, 10, 64); err != nil {
				return fmt.Errorf("integer %s is not in plain decimal form", x.GetToken().Value)
			}
		case *ast.FloatNode:
			out = strconv.AppendFloat(out, x.Value, 'g', -1, 64)
		case *ast.BoolNode:
			out = strconv.AppendBool(out, x.Value)
		case *ast.NullNode:
			out = append(out, "null"...)
		case *ast.SequenceNode:
			out = append(out, '[')
			for i, it := range x.Values {
				if i > 0 {
					out = append(out, ',')
				}
				if err := conv(it); err != nil {
					return err
				}
			}
			out = append(out, ']')
		case *ast.MappingNode:
			out = append(out, '{')
			for i, kv := range x.Values {
				if i > 0 {
					out = append(out, ',')
				}
				out = appendJSONString(out, kv.Key.GetToken().Value)
				out = append(out, ':')
				if err := conv(kv.Value); err != nil {
					return err
				}
			}
			out = append(out, '}')
		case *ast.MappingValueNode:
			// A one-key mapping written inline.
			return conv(&ast.MappingNode{BaseNode: x.BaseNode, Values: []*ast.MappingValueNode{x}})
		default:
			return fmt.Errorf("unsupported YAML value %s", describeNode(x))
		}
		return nil
	}
	if err := conv(n); err != nil {
		return nil, err
	}
	return out, nil
}

// Package yamlnode reads goccy/go-yaml syntax trees the way the rule files
// and their tests need: values with their positions, so that every problem
// can say file:line:col. It keeps no state.
package yamlnode

import "github.com/goccy/go-yaml/ast"

// Unwrap returns the value under anchors (&name) and tags.
func Unwrap(n ast.Node) ast.Node {
	for {
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.TagNode:
			n = x.Value
		default:
			return n
		}
	}
}

// Describe names the kind of a value for problems: "a mapping", "a list",
// "a string", "an integer", "a number", "a boolean", "null", "an alias",
// "a value".
func Describe(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode:
		return "an integer"
	case *ast.FloatNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.NullNode:
		return "null"
	case *ast.AliasNode:
		return "an alias"
	}
	return "a value"
}

// Key is the text of a mapping entry's key.
func Key(kv *ast.MappingValueNode) string {
	switch k := kv.Key.(type) {
	case *ast.StringNode:
		return k.Value
	case *ast.MappingKeyNode:
		if s, ok := k.Value.(*ast.StringNode); ok {
			return s.Value
		}
	}
	return Text(kv.Key)
}

// Text is a node's token as written.
func Text(n ast.Node) string {
	if t := n.GetToken(); t != nil {
		return t.Value
	}
	return n.String()
}

// Pos is the 1-based line and column of a node (0, 0 when unknown). For a
// block mapping, whose own token is its first colon, it is its first key's.
func Pos(n ast.Node) (line, col int) {
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 && !m.IsFlowStyle {
		n = m.Values[0].Key
	}
	if n != nil {
		if t := n.GetToken(); t != nil && t.Position != nil {
			return t.Position.Line, t.Position.Column
		}
	}
	return 0, 0
}

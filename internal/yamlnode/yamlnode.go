// Package yamlnode reads goccy/go-yaml syntax trees the way the rule files
// and their tests need: values with their positions, so that every problem
// can say file:line:col. It keeps no state.
package yamlnode

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

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

// SyntaxPos places a YAML syntax error at its cause where the parser
// reports it late: for an unclosed flow collection ("',' or '}' must be
// specified", reported where the parser gave up, often lines later) it is
// the { or [ that was never closed, and what says so; otherwise it is
// line:col unchanged and what is "".
func SyntaxPos(data []byte, msg string, line, col int) (int, int, string) {
	if !strings.Contains(msg, "must be specified") {
		return line, col, ""
	}
	type open struct{ line, col, off int }
	var stack []open
	l, c := 1, 1
	var quote byte
	for i := 0; i < len(data); i++ {
		if l > line || l == line && c >= col {
			break
		}
		b := data[i]
		switch {
		case quote != 0:
			switch {
			case b == '\\' && quote == '"':
				i++
				c++
			case b == quote && quote == '\'' && i+1 < len(data) && data[i+1] == '\'':
				i++
				c++
			case b == quote:
				quote = 0
			}
		case b == '"' || b == '\'':
			quote = b
		case b == '#' && (i == 0 || data[i-1] == ' ' || data[i-1] == '\t' || data[i-1] == '\n'):
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case b == '{' || b == '[':
			stack = append(stack, open{l, c, i})
		case (b == '}' || b == ']') && len(stack) > 0:
			stack = stack[:len(stack)-1]
		}
		if data[i] == '\n' {
			l, c = l+1, 1
			continue
		}
		c++
	}
	if len(stack) == 0 {
		return line, col, ""
	}
	o := stack[len(stack)-1]
	return o.line, o.col, fmt.Sprintf("this %c is never closed (the parser stopped at %d:%d: %s)", data[o.off], line, col, msg)
}

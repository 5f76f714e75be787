package yamlnode_test

import (
	"testing"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/mapperhq/mapper/internal/yamlnode"
)

func TestReadsNodesWithPositions(t *testing.T) {
	src := "a: &x\n  b: 1\n  c: [x, y]\n\"d e\": !!str 2\n"
	f, err := parser.ParseBytes([]byte(src), 0)
	if err != nil {
		t.Fatal(err)
	}
	top := f.Docs[0].Body.(*ast.MappingNode)
	tests := []struct {
		name      string
		node      ast.Node
		line, col int
		describe  string
	}{
		{"a block mapping points at its first key", yamlnode.Unwrap(top.Values[0].Value), 2, 3, "a mapping"},
		{"a flow list points at its bracket", yamlnode.Unwrap(top.Values[0].Value).(*ast.MappingNode).Values[1].Value, 3, 6, "a list"},
		{"an anchored mapping is read through its anchor", yamlnode.Unwrap(top.Values[0].Value).(*ast.MappingNode).Values[0].Value, 2, 6, "an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if line, col := yamlnode.Pos(tt.node); line != tt.line || col != tt.col {
				t.Errorf("Pos = %d:%d, want %d:%d", line, col, tt.line, tt.col)
			}
			if got := yamlnode.Describe(tt.node); got != tt.describe {
				t.Errorf("Describe = %q, want %q", got, tt.describe)
			}
		})
	}
	if got := yamlnode.Describe(yamlnode.Unwrap(top.Values[1].Value)); got != "an integer" {
		t.Errorf("a tagged scalar reads as %q, want an integer", got)
	}
	if got := yamlnode.Key(top.Values[1]); got != "d e" {
		t.Errorf("Key = %q, want %q", got, "d e")
	}
}

func TestSyntaxPosFindsTheUnclosedBrace(t *testing.T) {
	const data = "a: 1\nb: { c: 1, d: '}' # }\n\ne: 2\n"
	tests := []struct {
		name      string
		msg       string
		line, col int
		wantLine  int
		wantCol   int
		wantWhat  bool
	}{
		{"an unclosed brace is placed where it opens", "',' or '}' must be specified", 4, 1, 2, 4, true},
		{"another error keeps its place", "unexpected key", 4, 1, 4, 1, false},
		{"a closed brace before the error is not blamed", "',' or '}' must be specified", 1, 3, 1, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, c, what := yamlnode.SyntaxPos([]byte(data), tt.msg, tt.line, tt.col)
			if l != tt.wantLine || c != tt.wantCol || (what != "") != tt.wantWhat {
				t.Errorf("SyntaxPos = %d:%d %q, want %d:%d", l, c, what, tt.wantLine, tt.wantCol)
			}
		})
	}
}

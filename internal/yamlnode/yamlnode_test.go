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

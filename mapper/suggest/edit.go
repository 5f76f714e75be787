package suggest

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// textDoc edits a YAML file's text in place: each edit replaces the byte
// span of a node (found from the parser's positions) or inserts text
// beside one, and every byte outside the edited spans is kept as written,
// so comments, alignment, block or flow style and key order survive and a
// review diff shows only the edited lines.
type textDoc struct {
	src    []byte
	starts []int // byte offset of each line's start
	edits  []splice
}

// splice replaces src[start:end] with text (an insertion when start ==
// end). Insertions at one offset are applied in the order they were made.
type splice struct {
	start, end int
	text       string
	seq        int
}

func newTextDoc(src []byte) *textDoc {
	d := &textDoc{src: src, starts: []int{0}}
	for i, b := range src {
		if b == '\n' {
			d.starts = append(d.starts, i+1)
		}
	}
	return d
}

// offset is the byte offset of a token position (line and column count
// from 1; the column counts characters, not bytes).
func (d *textDoc) offset(p *token.Position) int {
	if p == nil || p.Line < 1 || p.Line > len(d.starts) {
		return -1
	}
	off := d.starts[p.Line-1]
	for c := 1; c < p.Column && off < len(d.src) && d.src[off] != '\n'; c++ {
		_, n := utf8.DecodeRune(d.src[off:])
		off += n
	}
	return off
}

// start is the byte offset where node n's text begins.
func (d *textDoc) start(n ast.Node) int {
	switch x := n.(type) {
	case *ast.MappingNode:
		if x.IsFlowStyle {
			return d.offset(x.Start.Position)
		}
		if len(x.Values) > 0 {
			return d.start(x.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return d.start(x.Key)
	case *ast.SequenceNode:
		return d.offset(x.Start.Position)
	case *ast.TagNode:
		return d.offset(x.Start.Position)
	case *ast.AnchorNode:
		return d.offset(x.Start.Position)
	}
	return d.offset(n.GetToken().Position)
}

// end is the byte offset just after node n's text (before any comment).
func (d *textDoc) end(n ast.Node) int {
	switch x := n.(type) {
	case *ast.MappingNode:
		if x.IsFlowStyle && x.End != nil {
			return d.offset(x.End.Position) + 1
		}
		if len(x.Values) > 0 {
			return d.end(x.Values[len(x.Values)-1])
		}
	case *ast.MappingValueNode:
		return d.end(x.Value)
	case *ast.SequenceNode:
		if x.IsFlowStyle && x.End != nil {
			return d.offset(x.End.Position) + 1
		}
		if len(x.Values) > 0 {
			return d.end(x.Values[len(x.Values)-1])
		}
	case *ast.TagNode:
		return d.end(x.Value)
	case *ast.AnchorNode:
		return d.end(x.Value)
	}
	s := d.offset(n.GetToken().Position)
	if s < 0 || s >= len(d.src) {
		return s
	}
	switch q := d.src[s]; q {
	case '"', '\'':
		for i := s + 1; i < len(d.src); i++ {
			switch {
			case q == '"' && d.src[i] == '\\':
				i++
			case d.src[i] == q && q == '\'' && i+1 < len(d.src) && d.src[i+1] == '\'':
				i++
			case d.src[i] == q:
				return i + 1
			}
		}
		return len(d.src)
	}
	return s + len(n.GetToken().Value)
}

// lineEnd is the offset of the newline ending the line that holds off.
func (d *textDoc) lineEnd(off int) int {
	for off < len(d.src) && d.src[off] != '\n' {
		off++
	}
	return off
}

// indentOf is the leading blanks of the line holding off.
func (d *textDoc) indentOf(off int) string {
	s := off
	for s > 0 && d.src[s-1] != '\n' {
		s--
	}
	e := s
	for e < len(d.src) && (d.src[e] == ' ' || d.src[e] == '\t') {
		e++
	}
	return string(d.src[s:e])
}

func (d *textDoc) add(start, end int, text string) error {
	if start < 0 || end < start || end > len(d.src) {
		return fmt.Errorf("edit out of the file's text (%d-%d)", start, end)
	}
	d.edits = append(d.edits, splice{start: start, end: end, text: text, seq: len(d.edits)})
	return nil
}

// replace replaces node n's text with text.
func (d *textDoc) replace(n ast.Node, text string) error {
	return d.add(d.start(n), d.end(n), text)
}

// setKey sets key in mapping m to the flow text: the value's text is
// replaced when the key is there, else the key is added after the last
// entry, in the mapping's style.
func (d *textDoc) setKey(m *ast.MappingNode, key, text string) error {
	if kv := keyOf(m, key); kv != nil {
		return d.replace(kv.Value, text)
	}
	return d.addEntry(m, yamlScalar(key)+": "+text)
}

// addEntry adds the entry text ("key: value") at the end of mapping m.
func (d *textDoc) addEntry(m *ast.MappingNode, entry string) error {
	if m.IsFlowStyle {
		var last ast.Node
		if len(m.Values) > 0 {
			last = m.Values[len(m.Values)-1]
		}
		return d.addFlow(m.Start, last, entry)
	}
	if len(m.Values) == 0 {
		return fmt.Errorf("cannot add %q to an empty block mapping", entry)
	}
	indent := d.indentOf(d.start(m.Values[0].Key))
	at := d.lineEnd(d.end(m.Values[len(m.Values)-1]))
	return d.add(at, at, "\n"+indent+entry)
}

// addItem adds item (flow text) at the end of sequence s, in its style.
func (d *textDoc) addItem(s *ast.SequenceNode, item string) error {
	if s.IsFlowStyle {
		var last ast.Node
		if len(s.Values) > 0 {
			last = s.Values[len(s.Values)-1]
		}
		return d.addFlow(s.Start, last, item)
	}
	if len(s.Values) == 0 {
		return fmt.Errorf("cannot add %q to an empty block list", item)
	}
	dash := d.offset(s.Start.Position)
	indent := d.indentOf(dash)
	at := d.lineEnd(d.end(s.Values[len(s.Values)-1]))
	return d.add(at, at, "\n"+indent+"- "+item)
}

// addFlow adds text to a flow collection ({…} or […]) opened at start:
// after its last element, or right inside the bracket when last is nil.
func (d *textDoc) addFlow(start *token.Token, last ast.Node, text string) error {
	if last == nil {
		at := d.offset(start.Position) + 1
		return d.add(at, at, text)
	}
	at := d.end(last)
	return d.add(at, at, ", "+text)
}

// trailingComment adds "# text" at the end of the line holding off, after
// a comment already there.
func (d *textDoc) trailingComment(off int, text string) error {
	if off < 0 {
		return fmt.Errorf("edit out of the file's text (%d)", off)
	}
	at := d.lineEnd(off)
	if at > 0 && d.src[at-1] == '\r' {
		at--
	}
	return d.add(at, at, "  # "+oneLine(text))
}

// bytes is the text with every edit applied.
func (d *textDoc) bytes() ([]byte, error) {
	es := append([]splice(nil), d.edits...)
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].start != es[j].start {
			return es[i].start < es[j].start
		}
		return es[i].seq < es[j].seq
	})
	var b strings.Builder
	at := 0
	for _, e := range es {
		if e.start < at {
			return nil, fmt.Errorf("two edits overlap at byte %d", e.start)
		}
		b.Write(d.src[at:e.start])
		b.WriteString(e.text)
		at = e.end
	}
	b.Write(d.src[at:])
	return []byte(b.String()), nil
}

package mapper

import "github.com/valyala/fastjson"

// A source path is read from the value being mapped (the record, or the
// element inside each), or, when it starts with $root or $parent, from the
// record itself or from the value that holds the array each walks (the
// enclosing element; the record at the top level).
const (
	anchorNone   uint8 = iota
	anchorRoot         // $root.x
	anchorParent       // $parent.x
)

// frame is a value a path can be anchored to, and its normalised path.
type frame struct {
	ctx    *fastjson.Value
	prefix string
}

// base is the value p is read from when the value being mapped is ctx.
func (m *Mapper) base(p *srcPath, ctx *fastjson.Value) *fastjson.Value {
	switch p.anchor {
	case anchorRoot:
		return m.frames[0].ctx
	case anchorParent:
		return m.frames[len(m.frames)-1].ctx
	}
	return ctx
}

// basePrefix is the normalised path of the value p is read from.
func (m *Mapper) basePrefix(p *srcPath, prefix string) string {
	switch p.anchor {
	case anchorRoot:
		return ""
	case anchorParent:
		return m.frames[len(m.frames)-1].prefix
	}
	return prefix
}

// fieldOf is the failure field of p: its normalised path from the record.
func (m *Mapper) fieldOf(prefix string, p *srcPath) string {
	return fieldPath(m.basePrefix(p, prefix), p.raw)
}

// fieldOfAt is fieldOf for the first i+1 segments of p.
func (m *Mapper) fieldOfAt(prefix string, p *srcPath, i int) string {
	return fieldPath(m.basePrefix(p, prefix), p.at(i))
}

// text is the path as written in the rule.
func (p *srcPath) text() string {
	switch p.anchor {
	case anchorRoot:
		return fieldPath("$root", p.raw)
	case anchorParent:
		return fieldPath("$parent", p.raw)
	}
	return p.raw
}

package mapper

import (
	"sort"
	"strconv"
	"strings"
)

// schemaView is what an input schema says about the value at one path,
// read from the derived check tree: the schema nodes that all apply there
// (allOf and $ref followed), the JSON types they allow together, and
// whether the path can exist at all.
type schemaView struct {
	// nodes apply together at the path; none means the schema is silent
	// about it (an open object with no property of that name).
	nodes []*checkNode
	// types the nodes allow together; 0 when they do not say.
	types jsonType
	// impossible, when set, says why no payload valid under the schema can
	// have a value at the path.
	impossible string
	// silentFrom is the first prefix the schema says nothing about, when
	// nodes is empty.
	silentFrom string
}

// allowedTypes is the intersection of the nodes' type keywords (0: none set).
func allowedTypes(nodes []*checkNode) jsonType {
	var t jsonType
	set := false
	for _, n := range nodes {
		if n.types == 0 {
			continue
		}
		if !set {
			t, set = n.types, true
			continue
		}
		t &= n.types
	}
	return t
}

// viewAt reads the schema at rel, a path of keys ("[]" for the elements of
// an array) below base, whose own normalised path is basePath.
func viewAt(base []*checkNode, basePath string, rel []string) schemaView {
	nodes := expandAllOf(base)
	at := basePath
	for _, seg := range rel {
		if len(nodes) == 0 {
			return schemaView{silentFrom: at}
		}
		for _, n := range nodes {
			if n.alwaysFalse {
				return schemaView{impossible: "the input schema allows no value at " + orRoot(at)}
			}
		}
		if seg == "[]" {
			if t := allowedTypes(nodes); t != 0 && t&tArray == 0 {
				return schemaView{impossible: "the input schema says " + orRoot(at) + " is " + typeArticle(t) + ", not an array"}
			}
			v := schemaView{nodes: nodes}
			at, nodes = at+"[]", expandAllOf(v.elements())
			continue
		}
		if t := allowedTypes(nodes); t != 0 && t&tObject == 0 {
			return schemaView{impossible: "the input schema says " + orRoot(at) + " is " + typeArticle(t) + ", which has no field " + quote(seg)}
		}
		var next []*checkNode
		for _, n := range nodes {
			switch c := n.prop(seg); {
			case c != nil:
				next = append(next, c)
			case n.additional != nil:
				next = append(next, n.additional)
			case n.noAdditonal:
				return schemaView{impossible: "the input schema does not allow " + quote(seg) + " in " + orRoot(at) +
					" (additionalProperties is false; its properties are " + propList(n) + ")"}
			}
		}
		at = fieldPath(at, seg)
		nodes = expandAllOf(next)
	}
	if len(nodes) == 0 {
		return schemaView{silentFrom: at}
	}
	return schemaView{nodes: nodes, types: allowedTypes(nodes)}
}

// elements is the view of the elements of an array at v.
func (v schemaView) elements() []*checkNode {
	var out []*checkNode
	for _, n := range v.nodes {
		if n.items != nil {
			out = append(out, n.items)
		}
	}
	return out
}

// arrayChildren lists the properties of the view's objects that the schema
// types as arrays: the likely meant path when a rule reads an object as an
// array (Stripe's lines → lines.data).
func (v schemaView) arrayChildren() []string {
	var out []string
	for _, n := range v.nodes {
		for _, p := range n.props {
			if t := allowedTypes(expandAllOf([]*checkNode{p.node})); t != 0 && t&^tNull == tArray {
				out = append(out, p.name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// enumTexts is the text of every value the schema's enum (or const)
// allows at the view, and whether it restricts the values at all.
func (v schemaView) enumTexts() ([]string, bool) {
	for _, n := range v.nodes {
		var vals []enumValue
		switch {
		case n.constVal != nil:
			vals = []enumValue{*n.constVal}
		case n.hasEnum:
			vals = n.enum
		default:
			continue
		}
		texts := make([]string, 0, len(vals))
		for _, e := range vals {
			texts = append(texts, e.text())
		}
		return texts, true
	}
	return nil, false
}

// text is how the value reads as an enum table key.
func (e enumValue) text() string {
	switch e.t {
	case tNull:
		return "null"
	case tBool:
		if e.b {
			return "true"
		}
		return "false"
	case tNumber:
		return strconv.FormatFloat(e.f, 'f', -1, 64)
	}
	return e.s
}

func propList(n *checkNode) string {
	names := make([]string, 0, len(n.props))
	for _, p := range n.props {
		names = append(names, p.name)
	}
	if len(names) == 0 {
		return "none"
	}
	if len(names) > 8 {
		return strings.Join(names[:8], ", ") + ", …"
	}
	return strings.Join(names, ", ")
}

func orRoot(p string) string {
	if p == "" {
		return "the payload"
	}
	return p
}

// typeArticle names the types with articles: "an object", "null or a string".
func typeArticle(t jsonType) string {
	parts := strings.Split(typeList(t), " or ")
	for i, p := range parts {
		switch {
		case p == "null":
		case strings.IndexByte("aeiou", p[0]) >= 0:
			parts[i] = "an " + p
		default:
			parts[i] = "a " + p
		}
	}
	return strings.Join(parts, " or ")
}

package mapper

import (
	"sort"
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

// schemaCursor is the one walk of a path through an input schema's check
// tree, shared by the static checks (viewAt) and the redaction's path
// check (fitSchema): the schema nodes that all apply where the path has
// got to (allOf and $ref followed; none once the schema is silent), and the
// normalised path walked so far (it stops at the first segment the schema
// says nothing about).
type schemaCursor struct {
	nodes []*checkNode
	at    string
	// openKeys leaves additionalProperties: false unread, for a schema
	// the check tree does not fully cover (patternProperties may allow
	// the key).
	openKeys bool
}

func newSchemaCursor(base []*checkNode, basePath string) schemaCursor {
	return schemaCursor{nodes: expandAllOf(base), at: basePath}
}

// step moves the cursor into seg, an object key or "[]" for the elements
// of an array. It returns "" when a value can be there (or the schema is
// silent); otherwise why no payload valid under the schema can have one,
// with the cursor left where it was.
func (c *schemaCursor) step(seg string) string {
	if len(c.nodes) == 0 {
		return ""
	}
	for _, n := range c.nodes {
		if n.alwaysFalse {
			return "the input schema allows no value at " + orRoot(c.at)
		}
	}
	t := allowedTypes(c.nodes)
	if seg == "[]" {
		if t != 0 && t&tArray == 0 {
			return "the input schema says " + orRoot(c.at) + " is " + typeArticle(t) + ", not an array"
		}
		c.nodes, c.at = expandAllOf(schemaView{nodes: c.nodes}.elements()), c.at+"[]"
		return ""
	}
	if t != 0 && t&tObject == 0 {
		return "the input schema says " + orRoot(c.at) + " is " + typeArticle(t) + ", which has no field " + quote(seg)
	}
	var next []*checkNode
	for _, n := range c.nodes {
		switch k := n.prop(seg); {
		case k != nil:
			next = append(next, k)
		case n.additional != nil:
			next = append(next, n.additional)
		case n.noAdditonal && !c.openKeys:
			names := make([]string, len(n.props))
			for i, p := range n.props {
				names[i] = p.name
			}
			return "the input schema allows no key " + quote(seg) + " in " + orRoot(c.at) + ": additionalProperties is false" + didYouMean(seg, names)
		}
	}
	// Once nodes is empty, at is the first path the schema is silent about.
	c.nodes, c.at = expandAllOf(next), fieldPath(c.at, seg)
	return ""
}

// viewAt reads the schema at rel, a path of keys ("[]" for the elements of
// an array) below base, whose own normalised path is basePath.
func viewAt(base []*checkNode, basePath string, rel []string) schemaView {
	c := newSchemaCursor(base, basePath)
	for _, seg := range rel {
		if msg := c.step(seg); msg != "" {
			return schemaView{impossible: msg}
		}
		if len(c.nodes) == 0 {
			return schemaView{silentFrom: c.at}
		}
	}
	if len(c.nodes) == 0 {
		return schemaView{silentFrom: c.at}
	}
	return schemaView{nodes: c.nodes, types: allowedTypes(c.nodes)}
}

// fitSchema checks a redact path's steps against the input schema. It
// returns "" when they fit (or the schema is silent); otherwise the first
// problem and, when the path only lacks [] where the schema has arrays,
// the path that fits. With closed false (the check tree does not cover the
// whole schema), additionalProperties: false is not read.
func fitSchema(root *checkNode, steps []pathStep, closed bool) (msg, fix string) {
	c := newSchemaCursor([]*checkNode{root}, "")
	c.openKeys = !closed
	var fixed []pathStep
	for _, st := range steps {
		seg := st.key
		if st.elem {
			seg = "[]"
		}
		p := c.step(seg)
		if p == "" {
			fixed = append(fixed, st)
			continue
		}
		if msg == "" {
			msg = p
		}
		// A key where the schema has an array: try the key in its elements.
		try := c
		if st.elem || try.step("[]") != "" || try.step(seg) != "" {
			return msg, ""
		}
		c, fixed = try, append(fixed, pathStep{elem: true}, st)
	}
	if msg == "" {
		return "", ""
	}
	return msg, formatFieldPath(fixed)
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

// enumValues is every value the schema's enum (or const) allows at the
// view, and whether it restricts the values at all.
func (v schemaView) enumValues() ([]enumValue, bool) {
	for _, n := range v.nodes {
		switch {
		case n.constVal != nil:
			return []enumValue{*n.constVal}, true
		case n.hasEnum:
			return n.enum, true
		}
	}
	return nil, false
}

// text is how the value reads as an enum table key; a number reads as the
// schema writes it (12345678901234567890, never float64's
// 12345678901234567000).
func (e enumValue) text() string {
	switch e.t {
	case tNull:
		return "null"
	case tBool:
		if e.b {
			return "true"
		}
		return "false"
	}
	return e.s
}

// givesKey reports whether a value the enum allows can reach an enum
// table key: a number as any text of the same value (the enum's 1.50
// arrives as 1.5 too), exactly; anything else as its text.
func (e enumValue) givesKey(key string) bool {
	if e.t == tNumber {
		c, ok := cmpDecimal(key, e.s)
		return ok && c == 0
	}
	return e.text() == key
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

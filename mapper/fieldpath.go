package mapper

import (
	"fmt"
	"strings"
)

// Normalised field paths name a place in a payload the way failures do:
// object keys joined by dots, and "[]" after a key for each array level
// crossed, never an index: "customer.email", "items[].sku",
// "matrix[][].x". The empty path is the payload itself.

// under reports whether field is path or lies inside it.
func under(field, path string) bool {
	if !strings.HasPrefix(field, path) {
		return false
	}
	rest := field[len(path):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// underAny reports whether field is, or lies inside, one of paths.
func underAny(field string, paths []string) bool {
	for _, p := range paths {
		if under(field, p) {
			return true
		}
	}
	return false
}

// anyUnder reports whether some path lies inside field (or is field).
func anyUnder(paths []string, field string) bool {
	for _, p := range paths {
		if under(p, field) {
			return true
		}
	}
	return false
}

// pathStep is one step of a parsed field path: into an object's key, or
// (elem) into every element of an array.
type pathStep struct {
	key  string
	elem bool
}

// parseFieldPath parses a field path written in a rule file
// ("customer.email", "items[].sku", or "items.[].sku") into steps. The path
// must start with a key (a payload is an object), and no key may be empty
// or hold '[' or ']' other than a trailing "[]".
func parseFieldPath(s string) ([]pathStep, error) {
	if s == "" {
		return nil, fmt.Errorf("the path is empty")
	}
	var steps []pathStep
	for i, part := range strings.Split(s, ".") {
		key := part
		n := 0
		for strings.HasSuffix(key, "[]") {
			key = key[:len(key)-2]
			n++
		}
		switch {
		case key == "" && n == 0:
			return nil, fmt.Errorf("%q has an empty segment", s)
		case key == "" && i == 0:
			return nil, fmt.Errorf("%q starts with []: a payload is an object, start with its key", s)
		case strings.ContainsAny(key, "[]"):
			return nil, fmt.Errorf("%q: segment %q: write [] right after a key, with nothing inside", s, part)
		}
		if key != "" {
			steps = append(steps, pathStep{key: key})
		}
		for range n {
			steps = append(steps, pathStep{elem: true})
		}
	}
	return steps, nil
}

// formatFieldPath writes steps in the normalised form.
func formatFieldPath(steps []pathStep) string {
	var b strings.Builder
	for _, st := range steps {
		if st.elem {
			b.WriteString("[]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(st.key)
	}
	return b.String()
}

// shapeCursor follows a field path through the input schema's check tree:
// the schema nodes that apply where the path has got to (none when the
// schema does not say).
type shapeCursor []*checkNode

func newShapeCursor(root *checkNode) shapeCursor { return expandAllOf([]*checkNode{root}) }

// problem says why st cannot be taken from here according to the schema
// ("" when it can, or when the schema does not say); before are the steps
// taken so far.
func (c shapeCursor) problem(st pathStep, before []pathStep) string {
	var t jsonType
	for _, n := range c {
		if n.types == 0 {
			return ""
		}
		t |= n.types
	}
	if t == 0 {
		return ""
	}
	at := formatFieldPath(before)
	if at == "" {
		at = "the payload"
	}
	switch {
	case !st.elem && t&tObject == 0 && t&tArray != 0:
		return "the input schema says " + at + " is an array"
	case st.elem && t&tArray == 0:
		return "the input schema says " + at + " is " + typeList(t) + ", not an array"
	case !st.elem && t&tObject == 0:
		return "the input schema says " + at + " is " + typeList(t) + ", not an object"
	}
	return ""
}

// forbids reports whether the schema allows no key named key here (some
// node lists its properties, has additionalProperties false and does not
// list key), and the keys it does allow.
func (c shapeCursor) forbids(key string) (bool, []string) {
	for _, n := range c {
		if !n.noAdditonal || n.additional != nil || n.prop(key) != nil {
			continue
		}
		names := make([]string, len(n.props))
		for i, p := range n.props {
			names[i] = p.name
		}
		return true, names
	}
	return false, nil
}

// next is the cursor after st.
func (c shapeCursor) next(st pathStep) shapeCursor {
	var next []*checkNode
	for _, n := range c {
		var k *checkNode
		if st.elem {
			k = n.items
		} else if k = n.prop(st.key); k == nil {
			k = n.additional
		}
		if k != nil {
			next = append(next, k)
		}
	}
	return expandAllOf(next)
}

// fitSchema checks steps against the input schema in one pass. It returns
// "" when they fit (or the schema does not say); otherwise the first
// problem and, when the path only lacks [] where the schema has arrays,
// the path that fits. With closed, a key the schema's
// additionalProperties: false rules out is a problem too (a misspelt
// redact path masks nothing); pass it only when the check tree covers the
// whole schema (no patternProperties).
func fitSchema(root *checkNode, steps []pathStep, closed bool) (msg, fix string) {
	c := newShapeCursor(root)
	var fixed []pathStep
	for i, st := range steps {
		p := c.problem(st, steps[:i])
		if p == "" && closed && !st.elem {
			if no, names := c.forbids(st.key); no {
				at := formatFieldPath(steps[:i])
				if at == "" {
					at = "the payload"
				}
				return fmt.Sprintf("the input schema allows no key %q in %s%s", st.key, at, didYouMean(st.key, names)), ""
			}
		}
		if p == "" {
			c, fixed = c.next(st), append(fixed, st)
			continue
		}
		if msg == "" {
			msg = p
		}
		elem := pathStep{elem: true}
		if st.elem || c.problem(elem, nil) != "" {
			return msg, ""
		}
		c = c.next(elem)
		if c.problem(st, nil) != "" {
			return msg, ""
		}
		c, fixed = c.next(st), append(fixed, elem, st)
	}
	if msg == "" {
		return "", ""
	}
	return msg, formatFieldPath(fixed)
}

// expandAllOf returns nodes with the allOf members of each added, once.
func expandAllOf(nodes []*checkNode) []*checkNode {
	seen := map[*checkNode]bool{}
	var out []*checkNode
	var add func(n *checkNode)
	add = func(n *checkNode) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		out = append(out, n)
		for _, m := range n.allOf {
			add(m)
		}
	}
	for _, n := range nodes {
		add(n)
	}
	return out
}

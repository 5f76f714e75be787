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

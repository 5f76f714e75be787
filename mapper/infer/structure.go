package infer

import (
	"errors"
	"fmt"
	"strings"
)

// PathTypes is one path of a structural profile ("a.b", "items[]" for an
// array's elements, "items[].sku"): how many of its values were of each
// JSON type ("null", "boolean", "integer", "number", "string", "object",
// "array"), counted once per occurrence as Add counts them.
type PathTypes struct {
	Path  string
	Types map[string]uint64
}

// AddStructure takes a structural profile of objects payloads (a JSON
// object each) in place of the payloads themselves: the types seen at
// every path, with counts. It gives the schema types and required
// properties as the payloads would, but never an enum nor a format: a
// profile holds no value to find them in. A path whose parent is missing
// from paths is refused with an error, and the Inferrer is left as it was.
func (in *Inferrer) AddStructure(objects uint64, paths []PathTypes) error {
	if objects == 0 {
		return errors.New("add structure: no object profiled")
	}
	// Check every path first, so that a refused profile changes nothing.
	byPath := map[string][]string{}
	for _, p := range paths {
		segs := splitStructPath(p.Path)
		if len(segs) == 0 {
			return fmt.Errorf("add structure: empty path")
		}
		byPath[p.Path] = segs
	}
	for _, p := range paths {
		segs := byPath[p.Path]
		if len(segs) > 1 {
			if _, ok := byPath[joinStructPath(segs[:len(segs)-1])]; !ok {
				return fmt.Errorf("add structure: %s has no parent in the profile", p.Path)
			}
		}
		for t := range p.Types {
			if kindOf(t) < 0 {
				return fmt.Errorf("add structure: %s: unknown JSON type %q", p.Path, t)
			}
		}
	}
	in.records += int(objects)
	in.root.kinds[kObject] += int(objects)
	in.root.objects += int(objects)
	for _, p := range paths {
		n := in.root
		segs := byPath[p.Path]
		if len(segs) > in.opts.MaxDepth {
			continue
		}
		for _, s := range segs {
			n = n.child(s, in.opts.MaxProperties)
			if n == nil {
				break
			}
		}
		if n == nil {
			continue
		}
		for t, c := range p.Types {
			k := kindOf(t)
			n.kinds[k] += int(c)
			if k == kObject {
				n.objects += int(c)
			}
			if k == kString {
				// No value seen: no format, no enum.
				n.strN += int(c)
				n.strs = nil
				n.notDate, n.notMail, n.notUUID = true, true, true
			}
		}
	}
	return nil
}

// child is the node of segment s under n ("[]": the array's items),
// created; nil past maxProps properties.
func (n *node) child(s string, maxProps int) *node {
	if s == "[]" {
		if n.items == nil {
			n.items = &node{}
		}
		return n.items
	}
	if n.props == nil {
		n.props = map[string]*node{}
	}
	c := n.props[s]
	if c == nil {
		if len(n.props) >= maxProps {
			return nil
		}
		c = &node{}
		n.props[s] = c
	}
	return c
}

func kindOf(t string) kind {
	for k, name := range kindNames {
		if name == t {
			return kind(k)
		}
	}
	return -1
}

// splitStructPath splits "a.b[].c" into a, b, [], c; nil when it is not
// such a path.
func splitStructPath(p string) []string {
	var out []string
	for _, part := range strings.Split(p, ".") {
		items := 0
		for strings.HasSuffix(part, "[]") {
			part, items = part[:len(part)-2], items+1
		}
		if part == "" || strings.ContainsAny(part, "[]") {
			return nil
		}
		out = append(out, part)
		for range items {
			out = append(out, "[]")
		}
	}
	return out
}

func joinStructPath(segs []string) string {
	var b strings.Builder
	for i, s := range segs {
		if s != "[]" && i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

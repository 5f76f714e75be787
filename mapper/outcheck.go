package mapper

import "bytes"

// A record mapped from the scan's records (see recorded.go) has its output
// schema's compiled checks run as it is written, instead of by a second
// scan of the written record. Which check nodes apply to each field of
// the output is known when the rules load (outChecks: the fields are the
// rules', so the keys the scan would look up are known); as the record is
// written, each value is checked as the scan checks the value it reads,
// and each object's property count and required properties once it is
// written. Anything the scan would read differently, or that the checks
// cannot decide here (an array, a container literal, a key the schema
// does not allow), makes the scan doubt, and the written record is then
// scanned and, if need be, walked as before.

// outChecks is what the output schema's checks ask of one node of the
// output tree.
type outChecks struct {
	// nodes are the check nodes of the node's value: the property's node
	// in each node of the object holding it, with those their allOf
	// brings in.
	nodes []*checkNode
	// doubt: the checks cannot pass, or cannot be decided, here.
	doubt bool
	// For an object: the kids it must have (by index), and its bounds on
	// their count (-1: none).
	required           []int
	minProps, maxProps int
}

// resolveOutChecks fills the outChecks of n and of every node under it;
// nodes are n's check nodes. It returns the depth of the tree under n.
func resolveOutChecks(n *outNode, nodes []*checkNode) int {
	c := &n.check
	c.nodes, c.minProps, c.maxProps = nodes, -1, -1
	c.doubt = len(nodes) > maxValueNodes
	if n.rule != nil {
		return 0
	}
	c.doubt = c.doubt || len(n.kids) > 64
	for _, cn := range nodes {
		if cn.alwaysFalse || cn.types != 0 && cn.types&tObject == 0 || cn.hasEnum || cn.constVal != nil {
			c.doubt = true
		}
		if cn.minProps >= 0 {
			c.minProps = max(c.minProps, cn.minProps)
		}
		if cn.maxProps >= 0 && (c.maxProps < 0 || cn.maxProps < c.maxProps) {
			c.maxProps = cn.maxProps
		}
		for _, r := range cn.required {
			i := n.kidIndex(r)
			if i < 0 {
				c.doubt = true
				continue
			}
			c.required = append(c.required, i)
		}
	}
	depth := 0
	for _, kid := range n.kids {
		var kn []*checkNode
		doubt := false
		for _, cn := range nodes {
			if p := cn.property(kid.key); p != nil {
				kn = appendAllOf(kn, p.node)
			} else if cn.noAdditonal {
				doubt = true
			} else {
				kn = appendAllOf(kn, cn.additional)
			}
		}
		depth = max(depth, resolveOutChecks(kid, kn))
		kid.check.doubt = kid.check.doubt || doubt
	}
	return depth + 1
}

// appendAllOf appends n and the nodes its allOf brings in, as the scan
// gathers them for a value, up to one past maxValueNodes.
func appendAllOf(dst []*checkNode, n *checkNode) []*checkNode {
	if n == nil || len(dst) > maxValueNodes {
		return dst
	}
	dst = append(dst, n)
	for _, sub := range n.allOf {
		dst = appendAllOf(dst, sub)
	}
	return dst
}

// property is the property named key of n, or nil.
func (n *checkNode) property(key string) *checkProp {
	for i := range n.props {
		if n.props[i].name == key {
			return &n.props[i]
		}
	}
	return nil
}

// kidIndex is the index of the kid of n named key, or -1.
func (n *outNode) kidIndex(key string) int {
	for i, k := range n.kids {
		if k.key == key {
			return i
		}
	}
	return -1
}

// outObject checks an object of the output once written: which of its
// kids were (a bit each), how many.
func (s *strictScan) outObject(c *outChecks, written uint64, count int) {
	if !s.checked {
		return
	}
	if c.doubt || c.minProps >= 0 && count < c.minProps || c.maxProps >= 0 && count > c.maxProps {
		s.doubt()
		return
	}
	for _, i := range c.required {
		if written&(1<<i) == 0 {
			s.doubt()
			return
		}
	}
}

// outValue checks the value b[start:] of a field, written as a whole,
// against the nodes of c: a scalar, read as the scan reads it.
func (s *strictScan) outValue(b []byte, start int, c *outChecks) {
	if !s.checked {
		return
	}
	end := len(b)
	if c.doubt || start >= end {
		s.doubt()
		return
	}
	s.nodes, s.cur = append(s.nodes[:0], c.nodes...), 0
	switch ch := b[start]; ch {
	case '"':
		if j, esc, ok := scanString(b, start+1); ok && j == end {
			s.checkString(b, start+1, end-1, esc)
			return
		}
	case 't', 'f', 'n':
		if lit := literalAt(ch); bytes.Equal(b[start:], lit) {
			s.checkLiteral(b, lit)
			return
		}
	case '{', '[':
	default:
		if j, ok := scanNumber(b, start); ok && j == end {
			s.checkNumber(b, start, end)
			return
		}
	}
	s.doubt()
}

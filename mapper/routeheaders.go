package mapper

import (
	"slices"
	"strings"
)

// AcceptHeader is one header predicate at the top of a source's accept
// list ({header: NAME, in: [...]}): every record the source accepts has
// the header with one of the values In.
type AcceptHeader struct {
	// Index is the predicate's position in the accept list as written.
	Index int
	// Header is the header name as written (matched without regard to
	// case); In the values it accepts, as written.
	Header string
	In     []string
}

// AcceptHeaders lists the header predicates at the top of the source's
// accept list, in order (those inside all, any or not are left out: adding
// a value to them does not simply widen the list). Nil when there are
// none.
func (s *Source) AcceptHeaders() []AcceptHeader {
	var out []AcceptHeader
	for i := range s.accept {
		p := &s.accept[i]
		if p.combine == predLeaf && p.header != "" {
			out = append(out, AcceptHeader{Index: i, Header: p.header, In: slices.Clone(p.in)})
		}
	}
	return out
}

// RoutingHeaders lists the names of the headers some source's accept
// predicates read (at any depth), each once (the first spelling met, names
// compared without regard to case), sorted. These headers name what a
// record is (an event type, a record kind), not what it holds: they are
// what records are routed by.
func (e *Engine) RoutingHeaders() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range e.sources {
		for i := range s.accept {
			s.accept[i].leaves(func(p *predicate) {
				if p.header == "" {
					return
				}
				if k := strings.ToLower(p.header); !seen[k] {
					seen[k] = true
					out = append(out, p.header)
				}
			})
		}
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

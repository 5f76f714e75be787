package mapper

import "github.com/goccy/go-yaml/ast"

// unreadPolicy says what an input-schema failure at a field that no rule
// reads does to a record (input_contract.unread).
type unreadPolicy uint8

const (
	// unreadDegrade, the default: the failure keeps its reason and field
	// and the record is degraded, not rejected.
	unreadDegrade unreadPolicy = iota
	// unreadReject: the strict contract; every failure counts as its
	// reason's severity.
	unreadReject
	// unreadIgnore: such failures are dropped.
	unreadIgnore
)

var unreadPolicies = []string{"degrade", "reject", "ignore"}

// unreadDetail ends the detail of a failure that only degrades because no
// rule reads its field; unreadAbsent is the whole detail of such a
// missing_field, which says what happened rather than "required".
const (
	unreadDetail = "; no rule reads this field, so the record is delivered"
	unreadAbsent = "absent; the input schema requires it, but no rule reads it, so the record is delivered"
)

// readPath is a source path that some rule reads. A deep read (a from
// path that gives a value, a case's when path) reads the whole value there;
// a shallow one (the array an each walks) reads the value and its elements
// only through the each's own fields.
type readPath struct {
	path string
	deep bool
}

// inputContract reads {unread: degrade|reject|ignore}.
func (l *ruleLoader) inputContract(n ast.Node, dst *unreadPolicy) {
	m, ok := l.mapping(n, "input_contract")
	if !ok {
		return
	}
	for _, kv := range m.Values {
		if k := l.key(kv); k != "unread" {
			l.errAt(kv.Key, "unknown key %q in input_contract%s", k, didYouMean(k, []string{"unread"}))
			continue
		}
		v := unwrap(kv.Value)
		s, ok := l.str(v, "input_contract.unread")
		if !ok {
			continue
		}
		switch s {
		case "degrade":
			*dst = unreadDegrade
		case "reject":
			*dst = unreadReject
		case "ignore":
			*dst = unreadIgnore
		default:
			l.errAt(v, "input_contract.unread: unknown policy %q%s", s, didYouMean(s, unreadPolicies))
		}
	}
}

// readPaths lists every source path the rules of n read, in the
// normalised failure-path form (each elements as "[]"): from and
// default_from paths, case, when and template paths; $root and $parent
// paths where they point. A rule key that reads the payload must add its
// paths here, or the input contract would treat failures at them as drift.
func readPaths(n *outNode, prefix string, dst []readPath) []readPath {
	return readPathsIn(n, prefix, "", dst)
}

// readPathsIn is readPaths inside each: parent is the path $parent reads.
func readPathsIn(n *outNode, prefix, parent string, dst []readPath) []readPath {
	at := func(p *srcPath) string {
		switch p.anchor {
		case anchorRoot:
			return p.raw
		case anchorParent:
			return fieldPath(parent, p.raw)
		}
		return fieldPath(prefix, p.raw)
	}
	for _, k := range n.kids {
		r := k.rule
		if r == nil {
			dst = readPathsIn(k, prefix, parent, dst)
			continue
		}
		r.condPaths(func(p *srcPath) { dst = append(dst, readPath{path: at(p), deep: true}) })
		if r.template != nil {
			for i := range r.template.parts {
				dst = append(dst, readPath{path: at(&r.template.parts[i].path), deep: true})
			}
		}
		for _, from := range [2][]srcPath{r.from, r.defaultFrom} {
			for i := range from {
				p := at(&from[i])
				if r.each == nil {
					dst = append(dst, readPath{path: p, deep: true})
					continue
				}
				dst = append(dst, readPath{path: p}, readPath{path: p + "[]"})
				dst = readPathsIn(r.each, p+"[]", prefix, dst)
			}
		}
	}
	return dst
}

// reads reports whether some rule reads field: field is a read path, an
// ancestor of one, or lies inside a deep one.
func (p *plan) reads(field string) bool {
	if field == "" {
		return true
	}
	for _, r := range p.read {
		if under(r.path, field) || r.deep && under(field, r.path) {
			return true
		}
	}
	return false
}

// applyContract applies the source's unread policy to the input schema's
// failures, the first m.schemaEnd of the result.
func (m *Mapper) applyContract(p *plan) {
	fs := m.res.Failures
	n := 0
	for i := 0; i < m.schemaEnd; i++ {
		f := fs[i]
		if f.Reason.Severity() == OutcomeRejected && !p.reads(f.Field) {
			if p.unread == unreadIgnore {
				continue
			}
			f.soft = true
			if f.Reason == ReasonMissingField {
				f.Detail = unreadAbsent
			} else {
				f.Detail += unreadDetail
			}
		}
		fs[n] = f
		n++
	}
	n += copy(fs[n:], fs[m.schemaEnd:])
	clear(fs[n:])
	m.res.Failures = fs[:n]
	m.schemaEnd -= len(fs) - n
}

package mapper

import (
	"strconv"

	"github.com/valyala/fastjson"
)

// lookup follows p from ctx. It returns the value (nil when absent) and,
// when the walk stopped early, the index of the segment where it stopped
// and why: reached is how many segments were found.
func lookup(ctx *fastjson.Value, p srcPath) (v *fastjson.Value, reached int, blocked *fastjson.Value) {
	cur := ctx
	for i, seg := range p.segs {
		if cur.Type() != fastjson.TypeObject {
			return nil, i, cur
		}
		o, _ := cur.Object()
		next := o.Get(seg)
		if next == nil {
			return nil, i, nil
		}
		cur = next
	}
	return cur, len(p.segs), nil
}

// emitObject writes the object of node; it reports whether it wrote any
// field (an object with none is left out by the caller).
func (m *Mapper) emitObject(node *outNode, ctx *fastjson.Value, prefix string) bool {
	start := len(m.out)
	m.out = append(m.out, '{')
	n := 0
	for _, kid := range node.kids {
		mark := len(m.out)
		if n > 0 {
			m.out = append(m.out, ',')
		}
		m.out = append(m.out, kid.keyLit...)
		var ok bool
		if kid.rule != nil {
			ok = m.emitField(kid.rule, ctx, prefix)
		} else {
			ok = m.emitObject(kid, ctx, prefix)
		}
		if ok {
			n++
		} else {
			m.out = m.out[:mark]
		}
	}
	if n == 0 {
		m.out = m.out[:start]
		return false
	}
	m.out = append(m.out, '}')
	return true
}

func fieldPath(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	}
	return prefix + "." + path
}

// emitField writes the value of one field; false means nothing was written.
// The steps: a matching case wins; otherwise the first present from path
// gives the value, which is mapped element by element (each) or through
// the transforms and the enum table; when no path gives one, emitAbsent
// decides between the default, a failure and leaving the field out.
func (m *Mapper) emitField(r *fieldRule, ctx *fastjson.Value, prefix string) bool {
	if m.emitCase(r, ctx) {
		return true
	}
	found, p, miss := pickFrom(r, ctx)
	if found == nil {
		if miss.writeNull {
			m.out = append(m.out, "null"...)
			return true
		}
		return m.emitAbsent(r, prefix, &miss)
	}
	if r.each != nil {
		return m.emitEach(r, found, fieldPath(prefix, p.raw))
	}
	return m.emitScalar(r, found, prefix, p)
}

// emitCase writes the value of the first case whose when path holds a
// (matching) value; false when none does.
func (m *Mapper) emitCase(r *fieldRule, ctx *fastjson.Value) bool {
	for i := range r.cases {
		c := &r.cases[i]
		v, _, _ := lookup(ctx, c.when)
		if v == nil || v.Type() == fastjson.TypeNull {
			continue
		}
		if c.is != nil && !literalEquals(m, v, c.is) {
			continue
		}
		m.out = append(m.out, c.value...)
		return true
	}
	return false
}

// fromMiss says why none of a field's from paths gave a value: the
// candidate that got furthest, the first that met a null and the first
// that met a value of another type on the way.
type fromMiss struct {
	best, bestReached     int
	nullAt, nullIdx       int
	blockedAt, blockedIdx int
	blockedVal            *fastjson.Value
	// writeNull: the field is nullable and a path held a present null.
	writeNull bool
}

// pickFrom returns the first non-null value of r's from paths and its
// path, or nil and why none was found.
func pickFrom(r *fieldRule, ctx *fastjson.Value) (*fastjson.Value, *srcPath, fromMiss) {
	miss := fromMiss{best: -1, bestReached: -1, nullAt: -1, blockedAt: -1}
	for i := range r.from {
		p := &r.from[i]
		v, reached, blocked := lookup(ctx, *p)
		if v != nil && v.Type() != fastjson.TypeNull {
			return v, p, miss
		}
		if v != nil && r.nullable {
			miss.writeNull = true
			return nil, nil, miss
		}
		switch {
		case v != nil: // null at the end
			if miss.nullAt < 0 {
				miss.nullAt, miss.nullIdx = i, len(p.segs)-1
			}
		case blocked != nil && blocked.Type() == fastjson.TypeNull:
			if miss.nullAt < 0 {
				miss.nullAt, miss.nullIdx = i, reached-1
			}
		case blocked != nil:
			if miss.blockedAt < 0 {
				miss.blockedAt, miss.blockedIdx, miss.blockedVal = i, reached-1, blocked
			}
		}
		if reached > miss.bestReached {
			miss.best, miss.bestReached = i, reached
		}
	}
	return nil, nil, miss
}

// emitAbsent handles a field that no case and no from path gave a value:
// the default (degraded), a failure when the field is required or a path
// met a value of another type, or nothing.
func (m *Mapper) emitAbsent(r *fieldRule, prefix string, miss *fromMiss) bool {
	if len(r.from) == 0 {
		if len(r.cases) == 0 {
			return false
		}
		if r.def != nil {
			m.out = append(m.out, r.def...)
			m.fail(ReasonDefaulted, fieldPath(prefix, r.cases[0].when.raw), "no case matched; default used")
			return true
		}
		if r.required {
			m.fail(ReasonMissingField, fieldPath(prefix, r.cases[0].when.raw), "none of the cases matched")
		}
		return false
	}
	switch {
	case r.def != nil:
		at := miss.best
		if miss.nullAt >= 0 {
			at = miss.nullAt
		}
		m.out = append(m.out, r.def...)
		m.fail(ReasonDefaulted, fieldPath(prefix, r.from[at].raw), "absent or null; default used")
		return true
	case miss.blockedAt >= 0 && miss.blockedIdx >= 0:
		m.fail(ReasonTypeMismatch, fieldPath(prefix, r.from[miss.blockedAt].at(miss.blockedIdx)),
			fromValueKind(miss.blockedVal)+", expected object")
	case !r.required:
	case miss.nullAt >= 0:
		m.fail(ReasonNullField, fieldPath(prefix, r.from[miss.nullAt].at(miss.nullIdx)), "null where a value is required")
	default:
		m.fail(ReasonMissingField, fieldPath(prefix, r.from[miss.best].raw), "required field is absent")
	}
	return false
}

// emitEach writes an array with one element per element of found, mapped
// with r.each; field is found's normalised path.
func (m *Mapper) emitEach(r *fieldRule, found *fastjson.Value, field string) bool {
	if found.Type() != fastjson.TypeArray {
		m.fail(ReasonTypeMismatch, field, fromValueKind(found)+", expected array")
		return false
	}
	a, _ := found.Array()
	elemPrefix := field + "[]"
	m.out = append(m.out, '[')
	n := 0
	for _, it := range a {
		mark := len(m.out)
		if n > 0 {
			m.out = append(m.out, ',')
		}
		var ok bool
		if len(r.each.kids) == 1 && r.each.kids[0].key == "." {
			ok = m.emitField(r.each.kids[0].rule, it, elemPrefix)
		} else {
			ok = m.emitObject(r.each, it, elemPrefix)
			if !ok {
				m.out = append(m.out, "{}"...)
				ok = true
			}
		}
		if ok {
			n++
		} else {
			m.out = m.out[:mark]
		}
	}
	m.out = append(m.out, ']')
	return true
}

// emitScalar writes found through r's transforms and enum table.
func (m *Mapper) emitScalar(r *fieldRule, found *fastjson.Value, prefix string, p *srcPath) bool {
	val := m.fromValue(found)
	for i := range r.transforms {
		t := &r.transforms[i]
		out, reason, detail := t.fn(m, val, t.arg)
		if reason != "" {
			m.fail(reason, fieldPath(prefix, p.raw), t.name+": "+detail)
			return false
		}
		val = out
	}
	if r.enum == nil {
		m.writeValue(val)
		return true
	}
	var key string
	switch val.k {
	case kString, kNumber:
		key = val.s
	case kBool:
		key = strconv.FormatBool(val.b)
	default:
		m.fail(ReasonTypeMismatch, fieldPath(prefix, p.raw), val.k.String()+", expected a value of the enum table")
		return false
	}
	lit, ok := r.enum[key]
	if !ok {
		m.fail(ReasonUnknownEnum, fieldPath(prefix, p.raw), quoteShort(key)+" is not one of "+r.enumKeys)
		return false
	}
	m.out = append(m.out, lit...)
	return true
}

func fromValueKind(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeObject:
		return "object"
	case fastjson.TypeArray:
		return "array"
	case fastjson.TypeString:
		return "string"
	case fastjson.TypeNumber:
		return "number"
	case fastjson.TypeNull:
		return "null"
	}
	return "boolean"
}

// literalEquals compares a parsed value with a JSON literal of a scalar.
func literalEquals(m *Mapper, v *fastjson.Value, lit []byte) bool {
	start := len(m.scratch)
	m.scratch = appendValue(m.scratch, v)
	eq := string(m.scratch[start:]) == string(lit)
	m.scratch = m.scratch[:start]
	return eq
}

func (m *Mapper) writeValue(val tv) {
	switch val.k {
	case kNull:
		m.out = append(m.out, "null"...)
	case kString:
		m.out = appendJSONString(m.out, val.s)
	case kNumber:
		m.out = append(m.out, val.s...)
	case kBool:
		m.out = strconv.AppendBool(m.out, val.b)
	case kArray, kObject:
		m.out = appendValue(m.out, val.v)
	case kStrings:
		m.out = append(m.out, '[')
		for i := val.lo; i < val.hi; i++ {
			if i > val.lo {
				m.out = append(m.out, ',')
			}
			m.out = appendJSONString(m.out, m.strs[i])
		}
		m.out = append(m.out, ']')
	}
}

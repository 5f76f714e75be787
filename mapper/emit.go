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
// While m.outCheck is set, the output schema's checks run on what it
// writes (see outcheck.go).
func (m *Mapper) emitObject(node *outNode, ctx *fastjson.Value, prefix string) bool {
	start := len(m.out)
	m.out = append(m.out, '{')
	n := 0
	var written uint64 // the kids written, for the output checks
	for i, kid := range node.kids {
		mark := len(m.out)
		if n > 0 {
			m.out = append(m.out, ',')
		}
		m.out = append(m.out, kid.keyLit...)
		val := len(m.out)
		var ok bool
		if kid.rule != nil {
			ok = m.emitField(kid.rule, ctx, prefix)
			if ok && m.outCheck {
				m.scan.outValue(m.out, val, &kid.check)
			}
		} else {
			ok = m.emitObject(kid, ctx, prefix)
		}
		if ok {
			n++
			written |= 1 << (i & 63)
		} else {
			m.out = m.out[:mark]
		}
	}
	if m.outCheck {
		m.scan.outObject(&node.check, written, n)
	}
	if n == 0 {
		m.out = m.out[:start]
		return false
	}
	m.out = append(m.out, '}')
	return true
}

// fieldPath joins a normalised path and a path below it: "a" and "b.c"
// give "a.b.c", "a" and "[]" give "a[]". It is the one path joiner of the
// engine.
func fieldPath(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case path[0] == '[':
		return prefix + path
	}
	return prefix + "." + path
}

// emitField writes the value of one field; false means nothing was written.
// The steps: a matching case wins; otherwise the first present from path
// gives the value, which is mapped element by element (each) or through
// the transforms and the enum table; when no path gives one, emitAbsent
// decides between the default, a failure and leaving the field out.
func (m *Mapper) emitField(r *fieldRule, ctx *fastjson.Value, prefix string) bool {
	if m.recorded {
		return m.emitRecorded(r, prefix)
	}
	if r.when != nil && !m.holds(r.when, ctx) {
		return false
	}
	if handled, ok := m.emitCase(r, ctx, prefix); handled {
		return ok
	}
	if r.template != nil {
		return m.emitTemplate(r, ctx, prefix)
	}
	found, p, miss := m.pickFrom(r.from, r.nullable, ctx)
	if found == nil {
		if miss.writeNull {
			m.out = append(m.out, "null"...)
			return true
		}
		if r.defaultFrom != nil {
			if found, p, _ = m.pickFrom(r.defaultFrom, false, ctx); found != nil {
				at := p
				switch {
				case len(r.from) > 0:
					at = &r.from[miss.best]
				case len(r.cases) > 0:
					at = r.cases[0].when.firstPath()
				}
				m.fail(ReasonDefaulted, m.fieldOf(prefix, at), "absent or null; taken from "+p.text())
			}
		}
		if found == nil {
			return m.emitAbsent(r, prefix, &miss)
		}
	}
	if r.each != nil {
		m.frames = append(m.frames, frame{ctx: ctx, prefix: prefix})
		ok := m.emitEach(r, found, m.fieldOf(prefix, p))
		m.frames = m.frames[:len(m.frames)-1]
		return ok
	}
	return m.emitScalar(r, found, ctx, prefix, p)
}

// emitCase writes the field by the first case whose when holds: its value,
// or what its own from, transform and enum give (ok false when that wrote
// nothing). handled is false when no case holds.
func (m *Mapper) emitCase(r *fieldRule, ctx *fastjson.Value, prefix string) (handled, ok bool) {
	for i := range r.cases {
		c := &r.cases[i]
		if !m.holds(&c.when, ctx) {
			continue
		}
		if c.rule != nil {
			return true, m.emitField(c.rule, ctx, prefix)
		}
		m.out = append(m.out, c.value...)
		return true, true
	}
	return false, false
}

// fromMiss says why none of a field's from paths gave a value, at one
// path: the one that got furthest into the payload (the first of those
// that tie), which is the shape the payload uses. One failure per cause:
// never a second one at a fallback path the payload simply does not use.
type fromMiss struct {
	// best is the index of that path, reached how many of its segments
	// were found.
	best, reached int
	// nullIdx is the segment of the best path that is null (-1: none).
	nullIdx int
	// blockedIdx is the segment of the best path that holds a value of
	// another type than object (-1: none), and blockedType that value's
	// type.
	blockedIdx  int
	blockedType jsonType
	// writeNull: the field is nullable and a path held a present null.
	writeNull bool
}

// pickFrom returns the first non-null value of the paths and its path, or
// nil and why none was found.
func (m *Mapper) pickFrom(from []srcPath, nullable bool, ctx *fastjson.Value) (*fastjson.Value, *srcPath, fromMiss) {
	miss := fromMiss{reached: -1, nullIdx: -1, blockedIdx: -1}
	for i := range from {
		p := &from[i]
		v, reached, blocked := lookup(m.base(p, ctx), *p)
		if v != nil && v.Type() != fastjson.TypeNull {
			return v, p, miss
		}
		if v != nil && nullable {
			miss.writeNull = true
			return nil, nil, miss
		}
		var bt jsonType
		if blocked != nil {
			bt = kindOf(blocked)
		}
		miss.note(i, reached, len(p.segs), v != nil, bt)
	}
	return nil, nil, miss
}

// note takes path i as the best when it got further than the best so far:
// reached of its n segments were found, and then there was a null at its
// end (nullEnd), or a value of type blocked at segment reached (tNull: a
// null; 0: nothing there).
func (miss *fromMiss) note(i, reached, n int, nullEnd bool, blocked jsonType) {
	if reached <= miss.reached {
		return
	}
	miss.best, miss.reached, miss.nullIdx, miss.blockedIdx, miss.blockedType = i, reached, -1, -1, 0
	switch {
	case nullEnd:
		miss.nullIdx = n - 1
	case blocked == tNull:
		miss.nullIdx = reached - 1
	case blocked != 0:
		miss.blockedIdx, miss.blockedType = reached-1, blocked
	}
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
			m.fail(ReasonDefaulted, m.fieldOf(prefix, r.cases[0].when.firstPath()), "no case matched; default used")
			return true
		}
		if r.required {
			m.fail(ReasonMissingField, m.fieldOf(prefix, r.cases[0].when.firstPath()), "none of the cases matched")
		}
		return false
	}
	switch {
	case r.def != nil:
		m.out = append(m.out, r.def...)
		m.fail(ReasonDefaulted, m.fieldOf(prefix, &r.from[miss.best]), "absent or null; default used")
		return true
	case miss.blockedIdx >= 0:
		m.fail(ReasonTypeMismatch, m.fieldOfAt(prefix, &r.from[miss.best], miss.blockedIdx),
			typeName(miss.blockedType)+", expected object")
	case !r.required:
	case miss.nullIdx >= 0:
		m.fail(ReasonNullField, m.fieldOfAt(prefix, &r.from[miss.best], miss.nullIdx), "null where a value is required")
	default:
		m.fail(ReasonMissingField, m.fieldOf(prefix, &r.from[miss.best]), "required field is absent")
	}
	return false
}

// emitEach writes an array with one element per element of found, mapped
// with r.each; field is found's normalised path.
func (m *Mapper) emitEach(r *fieldRule, found *fastjson.Value, field string) bool {
	if found.Type() != fastjson.TypeArray {
		m.fail(ReasonTypeMismatch, field, kindName(found)+", expected array")
		return false
	}
	a, _ := found.Array()
	elemPrefix := m.elemPrefix(field)
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

// elemPrefix is field+"[]", made once per field: the fields an each
// maps come from the rules, so there are few, and the record path then
// builds no string for them.
func (m *Mapper) elemPrefix(field string) string {
	if p, ok := m.prefixes[field]; ok {
		return p
	}
	p := field + "[]"
	if len(m.prefixes) < maxElemPrefixes {
		if m.prefixes == nil {
			m.prefixes = make(map[string]string)
		}
		m.prefixes[field] = p
	}
	return p
}

// maxElemPrefixes bounds elemPrefix's memory whatever the rules.
const maxElemPrefixes = 256

// emitScalar writes found through r's transforms and enum table.
func (m *Mapper) emitScalar(r *fieldRule, found, ctx *fastjson.Value, prefix string, p *srcPath) bool {
	return m.emitValue(r, m.fromValue(found), ctx, prefix, p)
}

// emitValue writes val through r's transforms and enum table; failures are
// at p, except those of a path a transform reads itself (currency_from).
func (m *Mapper) emitValue(r *fieldRule, val tv, ctx *fastjson.Value, prefix string, p *srcPath) bool {
	return m.emitThrough(r, r.transforms, val, ctx, prefix, p)
}

// emitThrough is emitValue through the transforms ts (r's, or the last of
// them).
func (m *Mapper) emitThrough(r *fieldRule, ts []transformStep, val tv, ctx *fastjson.Value, prefix string, p *srcPath) bool {
	for i := range ts {
		t := &ts[i]
		if t.arg != nil && t.arg.currency != nil && !m.currencyPlaces(t.arg.currency, ctx, prefix) {
			return false
		}
		out, reason, detail := t.fn(m, val, t.arg)
		if reason != "" {
			m.fail(reason, m.fieldOf(prefix, p), t.name+": "+detail)
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
		m.fail(ReasonTypeMismatch, m.fieldOf(prefix, p), val.k.String()+", expected a value of the enum table")
		return false
	}
	lit, ok := r.enum[key]
	if !ok {
		m.fail(ReasonUnknownEnum, m.fieldOf(prefix, p), quoteShort(key)+" is not one of "+r.enumKeys)
		return false
	}
	m.out = append(m.out, lit...)
	return true
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

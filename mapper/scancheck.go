package mapper

import (
	"encoding/json"
	"math/bits"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// The strict scan can run a schema's compiled checks (checkNode) as it
// reads the bytes, so that a payload that passes them is never walked
// again: the scan keeps, beside its containers, the check nodes that apply
// to each (a value's node and the nodes its allOf and $ref bring in), and
// checks each value as it passes.
//
// Unless it reports failures (see report below), it answers only yes or
// no, like the scan itself. checked stays true only while every check held
// and every check could be decided from the bytes; at the first failure or
// doubt (an escaped string a check must read, too many nodes at one value)
// it turns false and the caller walks the parsed value as before, which
// finds the same failures with the same details. So a yes must mean
// exactly "the walk would find nothing".

// maxValueNodes bounds the check nodes one value gathers through allOf and
// $ref (a schema that refers to itself would gather them forever).
const maxValueNodes = 32

// nodeFrame is the check nodes (nodes[lo:hi]) of an open container and,
// for an array, the number of items read so far.
type nodeFrame struct {
	lo, hi int
	items  int
	// required counts the keys of an object with one check node that are
	// required by it (the scan lets no key appear twice).
	required int
}

// indexProps fills the fields of n the strict scan reads to find a
// property and to count required ones.
func (n *checkNode) indexProps() {
	distinct := map[string]bool{}
	for _, r := range n.required {
		distinct[r] = true
	}
	n.requiredN, n.requiredAreProps = len(distinct), true
	for r := range distinct {
		n.requiredAreProps = n.requiredAreProps && n.prop(r) != nil
	}
	n.readsStrings = n.constVal != nil || n.hasEnum || n.minLen >= 0 || n.maxLen >= 0 || n.pattern != nil || n.format != nil
	for i := range n.props {
		p := &n.props[i]
		p.sig, p.required = keySigOf(p.name), distinct[p.name]
	}
	if len(n.props) <= linearProps || len(n.props) >= 1<<15 {
		return
	}
	n.propIndex = make([]uint16, 4<<bits.Len(uint(len(n.props))))
	mask := len(n.propIndex) - 1
	for i := range n.props {
		j := int(n.props[i].sig>>7) & mask
		for n.propIndex[j] != 0 {
			j = (j + 1) & mask
		}
		n.propIndex[j] = uint16(i + 1)
	}
}

// linearProps is the number of properties a node looks through one by one
// for a key; past it, it uses propIndex.
const linearProps = 2

// propBySig is the property named key (whose signature is sig), or nil.
func (n *checkNode) propBySig(key string, sig uint64) *checkProp {
	if n.propIndex == nil {
		for i := range n.props {
			if p := &n.props[i]; p.sig == sig && p.name == key {
				return p
			}
		}
		return nil
	}
	mask := len(n.propIndex) - 1
	for j := int(sig>>7) & mask; n.propIndex[j] != 0; j = (j + 1) & mask {
		if p := &n.props[n.propIndex[j]-1]; p.sig == sig && p.name == key {
			return p
		}
	}
	return nil
}

// startChecks sets the scan up to check the payload against root (nil: no
// checks).
func (s *strictScan) startChecks(root *checkNode) {
	s.nodes, s.frames, s.cur = s.nodes[:0], s.frames[:0], 0
	clear(s.fails)
	s.fails = s.fails[:0]
	s.checked = root != nil
	s.add(root)
}

// add appends n and the nodes its allOf brings in to the current value's.
func (s *strictScan) add(n *checkNode) {
	if n != nil && len(n.allOf) == 0 && len(s.nodes)-s.cur < maxValueNodes {
		s.nodes = append(s.nodes, n) // the common case, inlined
		return
	}
	s.addAll(n)
}

func (s *strictScan) addAll(n *checkNode) {
	if n == nil || !s.checked {
		return
	}
	if len(s.nodes)-s.cur >= maxValueNodes {
		s.doubt()
		return
	}
	s.nodes = append(s.nodes, n)
	for _, sub := range n.allOf {
		s.addAll(sub)
	}
}

// The scan of an input can report failures rather than doubt (report):
// whatever a check finds (a type that does not match, a required property
// absent, a property the contract closes out, a value outside its enum,
// pattern, format, length or bounds, a count of items or properties). It
// reports them as the walk would: the same reason, field and detail, each
// value's checks in the walk's order (so that of two failures at one field
// the same detail comes first), and where the field is in the payload (see
// docPos) for their order. checked then stays true, with s.fails holding
// the failures. It doubts instead whenever it cannot be sure to say what
// the walk says: the value has more than one node (allOf: the walk orders
// their failures), a string a check reads has escapes, or maxScanFails
// are reported. A value under a reported failure is checked on, as the
// walk checks it on.

// scanFail is a failure the scan reported, and where its field is in the
// payload (posOK: known; it is not when the field goes through an array
// element after the first, which positionOf does not, or through a key
// positionOf would read as more than one step).
type scanFail struct {
	reason        Reason
	field, detail string
	pos           docPos
	posOK         bool
}

// maxScanFails is the most failures one scan reports before it doubts.
const maxScanFails = 16

// typeFault reports that the current value (of type vt) is not of node n's
// types; nodes is how many nodes the value has, depth how many open
// containers lead to it. It returns false when the scan doubted instead.
// Callers test the types inline: they match as a rule.
func (s *strictScan) typeFault(b []byte, n *checkNode, vt jsonType, nodes, depth int) bool {
	s.fault(b, typeReason(vt), typeDetail(vt, n.types), nodes, depth, "")
	return s.checked
}

// canReport reports whether a failure of a value with nodes nodes can be
// reported (see fault); when not, the scan doubts. Its detail is built
// only then.
func (s *strictScan) canReport(nodes int) bool {
	if !s.report || nodes != 1 || len(s.fails) >= maxScanFails {
		s.doubt()
		return false
	}
	return true
}

// fault reports a failure at the path of the current members of the first
// depth open containers, and key last (when not empty) under them; or,
// when the scan is not reporting, the value has more than one node, or
// enough were reported, doubts.
func (s *strictScan) fault(b []byte, reason Reason, detail string, nodes, depth int, last string) {
	if !s.canReport(nodes) {
		return
	}
	f := scanFail{reason: reason, detail: detail, posOK: true}
	field := s.field[:0]
	obj := 0 // the open object of level j, among s.bases
	for j := range depth {
		seg, step := "[]", 0
		if s.open[j] == '{' {
			k := len(s.keys) - 1 // the object's current member is its last key
			if obj+1 < len(s.bases) {
				k = s.bases[obj+1] - 1
			}
			r := s.keys[k]
			seg, step = b2s(b[r.off:r.end]), k-s.bases[obj]
			f.posOK = f.posOK && plainSeg(seg)
			obj++
		} else if step = s.frames[j].items - 1; step != 0 {
			f.posOK = false
		}
		field = appendSeg(field, seg)
		f.pos.add(step)
	}
	if last != "" {
		field = appendSeg(field, last)
		f.posOK = f.posOK && plainSeg(last)
		f.pos.add(absentStep)
	}
	f.field, s.field = string(field), field
	if cap(s.field) > maxKeptField {
		s.field = nil // a huge key's path is not kept for the next record
	}
	s.fails = append(s.fails, f)
}

// maxKeptField is the most room fault keeps for writing paths.
const maxKeptField = 4 << 10

// appendSeg appends one segment of a field path as joinPath writes it.
func appendSeg(field []byte, seg string) []byte {
	if seg != "[]" && len(field) > 0 {
		field = append(field, '.')
	}
	return append(field, seg...)
}

// plainSeg reports whether positionOf reads the key k back as one step.
func plainSeg(k string) bool {
	return k != "" && strings.IndexAny(k, ".[") < 0
}

// doubt gives up checking this payload: the walk decides. The values the
// scan records are of no use then (the record is mapped from the parsed
// value), so it stops recording them.
func (s *strictScan) doubt() { s.checked, s.paths, s.pnode = false, nil, nil }

// member sets the current value's nodes to those of the property key of
// the innermost open object.
func (s *strictScan) member(b, key []byte, sig uint64) {
	if !s.checked {
		return
	}
	f := &s.frames[len(s.frames)-1]
	s.nodes, s.cur = s.nodes[:f.hi], f.hi
	k := b2s(key)
	for i := f.lo; i < f.hi && s.checked; i++ {
		n := s.nodes[i]
		if p := n.propBySig(k, sig); p != nil {
			if p.required {
				f.required++
			}
			s.add(p.node)
		} else if n.noAdditonal {
			if len(key) == 0 {
				// The walk's field for it is the object's own path.
				s.doubt()
				return
			}
			s.fault(b, ReasonUnexpectedField, detailNotInContract, f.hi-f.lo, len(s.open), "")
		} else {
			s.add(n.additional)
		}
	}
}

// element sets the current value's nodes to those of the next item of the
// innermost open array.
func (s *strictScan) element() {
	if !s.checked {
		return
	}
	f := &s.frames[len(s.frames)-1]
	f.items++
	s.nodes, s.cur = s.nodes[:f.hi], f.hi
	for i := f.lo; i < f.hi && s.checked; i++ {
		s.add(s.nodes[i].items)
	}
}

// openContainer checks the current value's nodes against a container of
// type t (tObject or tArray) and makes them the new container's.
func (s *strictScan) openContainer(b []byte, t jsonType) {
	if !s.checked {
		return
	}
	nodes := s.nodes[s.cur:]
	depth := len(s.open) - 1 // the container is open already
	for _, n := range nodes {
		if n.alwaysFalse {
			s.doubt()
			return
		}
		if n.types != 0 && n.types&t == 0 && !s.typeFault(b, n, t, len(nodes), depth) {
			return
		}
		// A container never equals an enum's or a const's scalars.
		if n.constVal != nil && s.canReport(len(nodes)) {
			s.fault(b, ReasonUnknownEnum, constDetail(typeArticle(t)), len(nodes), depth, "")
		}
		if n.hasEnum && s.canReport(len(nodes)) {
			s.fault(b, ReasonUnknownEnum, enumDetail(typeArticle(t), n.enum), len(nodes), depth, "")
		}
		if !s.checked {
			return
		}
	}
	s.frames = append(s.frames, nodeFrame{lo: s.cur, hi: len(s.nodes)})
}

// closeArray checks the item counts of the innermost open array.
func (s *strictScan) closeArray(b []byte) {
	if !s.checked {
		return
	}
	f := s.frames[len(s.frames)-1]
	s.frames = s.frames[:len(s.frames)-1]
	nodes, depth := f.hi-f.lo, len(s.open) // the array is closed already
	for _, n := range s.nodes[f.lo:f.hi] {
		if n.minItems >= 0 && f.items < n.minItems && s.canReport(nodes) {
			s.fault(b, ReasonOutOfRange, countDetail(f.items, "items", "minimum", n.minItems), nodes, depth, "")
		}
		if n.maxItems >= 0 && f.items > n.maxItems && s.canReport(nodes) {
			s.fault(b, ReasonOutOfRange, countDetail(f.items, "items", "maximum", n.maxItems), nodes, depth, "")
		}
		if !s.checked {
			return
		}
	}
}

// closeObjectChecks checks the property counts and required properties of
// the innermost open object, whose keys are still in s.keys.
func (s *strictScan) closeObjectChecks(b []byte) {
	if !s.checked {
		return
	}
	f := s.frames[len(s.frames)-1]
	s.frames = s.frames[:len(s.frames)-1]
	count := len(s.keys) - s.bases[len(s.bases)-1]
	for _, n := range s.nodes[f.lo:f.hi] {
		if n.minProps >= 0 && count < n.minProps && s.canReport(f.hi-f.lo) {
			s.fault(b, ReasonOutOfRange, countDetail(count, "properties", "minimum", n.minProps), f.hi-f.lo, len(s.open)-1, "")
		}
		if n.maxProps >= 0 && count > n.maxProps && s.canReport(f.hi-f.lo) {
			s.fault(b, ReasonOutOfRange, countDetail(count, "properties", "maximum", n.maxProps), f.hi-f.lo, len(s.open)-1, "")
		}
		if !s.checked {
			return
		}
		if f.hi-f.lo == 1 && n.requiredAreProps && f.required == n.requiredN {
			// Every key is counted once: the required ones seen are all.
			return
		}
		for _, r := range n.required {
			if !s.hasKey(b, r) {
				if s.fault(b, ReasonMissingField, detailRequired, f.hi-f.lo, len(s.open)-1, r); !s.checked {
					return
				}
			}
		}
	}
}

// hasKey reports whether the innermost open object has the key k.
func (s *strictScan) hasKey(b []byte, k string) bool {
	sig := keySigOf(k)
	base := s.bases[len(s.bases)-1]
	if len(s.keys)-base <= linearKeys {
		for _, r := range s.keys[base:] {
			if r.sig == sig && b2s(b[r.off:r.end]) == k {
				return true
			}
		}
		return false
	}
	serial := s.serials[len(s.serials)-1]
	mask := len(s.table) - 1
	for i := slot(serial, sig, mask); ; i = (i + 1) & mask {
		e := s.table[i]
		if e.serial < s.first {
			return false
		}
		if e.serial == serial && e.sig == sig {
			if r := s.keys[e.key]; b2s(b[r.off:r.end]) == k {
				return true
			}
		}
	}
}

// checkString checks the string b[off:end] (its content, between the
// quotes; esc: it has escapes) against the current value's nodes.
func (s *strictScan) checkString(b []byte, off, end int, esc bool) {
	if !s.checked {
		return
	}
	str := b[off:end]
	nodes := s.nodes[s.cur:]
	for _, n := range nodes {
		if n.alwaysFalse {
			s.doubt()
			return
		}
		if n.types != 0 && n.types&tString == 0 && !s.typeFault(b, n, tString, len(nodes), len(s.open)) {
			return
		}
		if !n.readsStrings {
			continue
		}
		if esc {
			// The checks read the string unescaped: the walk does that.
			s.doubt()
			return
		}
		// The walk's order: const, enum, length, pattern, format.
		depth := len(s.open)
		if n.constVal != nil && !n.constVal.matchesRaw(tString, str) && s.canReport(len(nodes)) {
			s.fault(b, ReasonUnknownEnum, constDetail(quoteShort(b2s(str))), len(nodes), depth, "")
		}
		if n.hasEnum && !enumHas(n.enum, tString, str) && s.canReport(len(nodes)) {
			s.fault(b, ReasonUnknownEnum, enumDetail(quoteShort(b2s(str)), n.enum), len(nodes), depth, "")
		}
		// A character is one to four bytes: the length in bytes often
		// decides without counting.
		if n.minLen >= 0 && len(str) < 4*n.minLen || n.maxLen >= 0 && len(str) > n.maxLen {
			l := utf8.RuneCount(str)
			if n.minLen >= 0 && l < n.minLen && s.canReport(len(nodes)) {
				s.fault(b, ReasonOutOfRange, lengthDetail(l, "minimum", n.minLen), len(nodes), depth, "")
			}
			if n.maxLen >= 0 && l > n.maxLen && s.canReport(len(nodes)) {
				s.fault(b, ReasonOutOfRange, lengthDetail(l, "maximum", n.maxLen), len(nodes), depth, "")
			}
		}
		if n.pattern != nil && !n.matchPattern(str) && s.canReport(len(nodes)) {
			s.fault(b, ReasonInvalidFormat, patternDetail(quoteShort(b2s(str)), n), len(nodes), depth, "")
		}
		if n.format != nil && !s.formatOK(n.format, str) && s.canReport(len(nodes)) {
			s.fault(b, ReasonInvalidFormat, formatDetail(quoteShort(b2s(str)), n), len(nodes), depth, "")
		}
		if !s.checked {
			return
		}
	}
}

// checkNumber checks the number b[off:end] against the current value's
// nodes.
func (s *strictScan) checkNumber(b []byte, off, end int) {
	if !s.checked || s.cur == len(s.nodes) {
		return
	}
	text := b2s(b[off:end])
	vt := tNumber
	if isInt, _ := decimalIsInt(text); isInt {
		vt |= tInteger
	}
	nodes := s.nodes[s.cur:]
	for _, n := range nodes {
		if n.types != 0 && n.types&vt == 0 && !s.typeFault(b, n, vt, len(nodes), len(s.open)) {
			return
		}
		if n.alwaysFalse {
			s.doubt()
			return
		}
		// The walk's order: const, enum, the bounds, multipleOf, format.
		raw, depth := b[off:end], len(s.open)
		if n.constVal != nil && !n.constVal.matchesRaw(vt, raw) && s.canReport(len(nodes)) {
			s.fault(b, ReasonUnknownEnum, constDetail(text), len(nodes), depth, "")
		}
		if n.hasEnum && !enumHas(n.enum, vt, raw) && s.canReport(len(nodes)) {
			s.fault(b, ReasonUnknownEnum, enumDetail(text, n.enum), len(nodes), depth, "")
		}
		if (n.hasMin && cmpBound(text, n.exact[0]) < 0 || n.hasExclMin && cmpBound(text, n.exact[2]) <= 0) && s.canReport(len(nodes)) {
			s.fault(b, ReasonOutOfRange, belowMinDetail(text), len(nodes), depth, "")
		}
		if (n.hasMax && cmpBound(text, n.exact[1]) > 0 || n.hasExclMax && cmpBound(text, n.exact[3]) >= 0) && s.canReport(len(nodes)) {
			s.fault(b, ReasonOutOfRange, aboveMaxDetail(text), len(nodes), depth, "")
		}
		if n.multipleOf != nil && !decimalMultipleOf(text, n.multipleOf) && s.canReport(len(nodes)) {
			s.fault(b, ReasonOutOfRange, multipleDetail(text, n), len(nodes), depth, "")
		}
		if n.format != nil && !n.format(json.Number(string(text))) && s.canReport(len(nodes)) {
			s.fault(b, ReasonInvalidFormat, formatDetail(text, n), len(nodes), depth, "")
		}
		if !s.checked {
			return
		}
	}
}

// checkLiteral checks true, false or null (lit) against the current
// value's nodes.
func (s *strictScan) checkLiteral(b, lit []byte) {
	if !s.checked {
		return
	}
	vt := tBool
	if lit[0] == 'n' {
		vt = tNull
	}
	nodes := s.nodes[s.cur:]
	for _, n := range nodes {
		if n.types != 0 && n.types&vt == 0 && !s.typeFault(b, n, vt, len(nodes), len(s.open)) {
			return
		}
		if n.alwaysFalse {
			s.doubt()
			return
		}
		if n.constVal != nil && !n.constVal.matchesRaw(vt, lit) && s.canReport(len(nodes)) {
			s.fault(b, ReasonUnknownEnum, constDetail(string(lit)), len(nodes), len(s.open), "")
		}
		if n.hasEnum && !enumHas(n.enum, vt, lit) && s.canReport(len(nodes)) {
			s.fault(b, ReasonUnknownEnum, enumDetail(string(lit), n.enum), len(nodes), len(s.open), "")
		}
		if !s.checked {
			return
		}
	}
}

// matchesRaw is matches for a scalar read by the scan: vt its type, raw
// its text (a string's content, unescaped; a number or literal as
// written).
func (e enumValue) matchesRaw(vt jsonType, raw []byte) bool {
	switch e.t {
	case tNull:
		return vt == tNull
	case tBool:
		return vt == tBool && (raw[0] == 't') == e.b
	case tNumber:
		if vt&tNumber == 0 {
			return false
		}
		c, ok := cmpDecimal(b2s(raw), e.s)
		return ok && c == 0
	case tString:
		return vt == tString && b2s(raw) == e.s
	}
	return false
}

func enumHas(es []enumValue, vt jsonType, raw []byte) bool {
	for _, e := range es {
		if e.matchesRaw(vt, raw) {
			return true
		}
	}
	return false
}

// formatOK calls the format check f on the string str without copying it
// or boxing it anew: f takes an any, and a string put in an any is copied
// to the heap. The any handed over is built once per call from the type of
// a string constant and s.formatArg, which holds str only during the call
// (the format checks of jsonschema/v5 read their argument and keep nothing).
func (s *strictScan) formatOK(f func(any) bool, str []byte) bool {
	s.formatArg = b2s(str)
	var v any = ""
	(*eface)(unsafe.Pointer(&v)).data = unsafe.Pointer(&s.formatArg)
	ok := f(v)
	s.formatArg = ""
	return ok
}

// eface is the layout of an any: its dynamic type and a pointer to its
// value.
type eface struct {
	typ, data unsafe.Pointer
}

package mapper

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"github.com/valyala/fastjson"
)

// A schema is one compiled JSON Schema in two forms: the validator of
// santhosh-tekuri/jsonschema/v5 (the reference, used for the full pass), and
// a check tree derived from it at load time that runs directly on the parsed
// payload with no allocation. The check tree covers the keywords that matter
// for mapping (type, properties, required, additionalProperties, items,
// enum, const, pattern, format, length and numeric bounds, allOf, $ref);
// covered reports whether it covers every keyword the schema uses, in which
// case the two forms classify every payload the same way.
type schema struct {
	name    string
	doc     []byte // the file's bytes, as read
	full    *jsonschema.Schema
	check   *checkNode
	covered bool
	// byLocation finds a compiled schema by its absolute location, to read
	// the keyword that a full-pass error points at.
	byLocation map[string]*jsonschema.Schema
	// locs is where each node of check is written (see deriveChecks).
	locs map[*checkNode]string
}

type jsonType uint8

const (
	tNull jsonType = 1 << iota
	tBool
	tInteger
	tNumber // any number; tInteger is implied by it
	tString
	tArray
	tObject
)

func typeBits(names []string) jsonType {
	var t jsonType
	for _, n := range names {
		switch n {
		case "null":
			t |= tNull
		case "boolean":
			t |= tBool
		case "integer":
			t |= tInteger
		case "number":
			t |= tNumber | tInteger
		case "string":
			t |= tString
		case "array":
			t |= tArray
		case "object":
			t |= tObject
		}
	}
	return t
}

type checkProp struct {
	name     string
	node     *checkNode
	sig      uint64 // keySigOf(name)
	required bool   // name is in the node's required
}

type enumValue struct {
	t jsonType // tNull, tBool, tNumber, tString
	s string   // tString: the string; tNumber: the number as the schema writes it
	b bool
}

// checkNode is one schema node of the check tree.
type checkNode struct {
	types       jsonType // 0: any
	props       []checkProp
	required    []string
	noAdditonal bool
	additional  *checkNode
	items       *checkNode
	allOf       []*checkNode
	enum        []enumValue
	hasEnum     bool
	constVal    *enumValue
	pattern     *regexp.Regexp
	patternLoop *bytePattern // pattern as a byte loop, when it is that simple
	format      func(any) bool
	formatName  string
	minLen      int
	maxLen      int
	minItems    int
	maxItems    int
	minProps    int
	maxProps    int
	exact       [4]string // minimum, maximum, exclusiveMinimum, exclusiveMaximum as decimal text
	multipleOf  *big.Rat
	hasMin      bool
	hasMax      bool
	hasExclMin  bool
	hasExclMax  bool
	alwaysFalse bool
	// For the strict scan's checks (see scancheck.go): propIndex finds a
	// property by its key signature when there are many (slot+1, 0:
	// empty); requiredN is the number of distinct required names, and
	// requiredAreProps says every one of them is in props.
	propIndex        []uint16
	requiredN        int
	requiredAreProps bool
	// readsStrings says a string's content matters to the node (enum,
	// const, length, pattern, format), not only its type.
	readsStrings bool
}

func (n *checkNode) prop(name string) *checkNode {
	for i := range n.props {
		if n.props[i].name == name {
			return n.props[i].node
		}
	}
	return nil
}

// deriveChecks builds the check tree of s and reports whether it covers
// every keyword s uses.
// deriveChecks derives the check tree of s, whether it covers every
// keyword s uses, and the location of each node (the file within the
// schemas directory, "#", and the JSON pointer of the schema object),
// kept beside the tree so that its nodes stay small for the record path.
func deriveChecks(s *jsonschema.Schema) (*checkNode, bool, map[*checkNode]string) {
	d := deriver{seen: map[*jsonschema.Schema]*checkNode{}, covered: true}
	n := d.node(s)
	locs := make(map[*checkNode]string, len(d.seen))
	for js, cn := range d.seen {
		locs[cn] = strings.TrimPrefix(js.Location, schemaURL(""))
	}
	return n, d.covered, locs
}

type deriver struct {
	seen    map[*jsonschema.Schema]*checkNode
	covered bool
}

func (d *deriver) node(s *jsonschema.Schema) *checkNode {
	if n, ok := d.seen[s]; ok {
		return n
	}
	n := &checkNode{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1, minProps: -1, maxProps: -1}
	d.seen[s] = n
	if s.Always != nil {
		n.alwaysFalse = !*s.Always
	}
	if s.Ref != nil {
		n.allOf = append(n.allOf, d.node(s.Ref))
	}
	for _, sub := range s.AllOf {
		n.allOf = append(n.allOf, d.node(sub))
	}
	n.types = typeBits(s.Types)
	if len(s.Constant) > 0 {
		ev, ok := toEnumValue(s.Constant[0])
		if ok {
			n.constVal = &ev
		} else {
			d.covered = false
		}
	}
	if s.Enum != nil {
		n.hasEnum = true
		for _, v := range s.Enum {
			ev, ok := toEnumValue(v)
			if !ok {
				d.covered = false
				n.hasEnum = false
				n.enum = nil
				break
			}
			n.enum = append(n.enum, ev)
		}
	}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		n.props = append(n.props, checkProp{name: name, node: d.node(s.Properties[name])})
	}
	n.required = s.Required
	switch ap := s.AdditionalProperties.(type) {
	case bool:
		n.noAdditonal = !ap
	case *jsonschema.Schema:
		n.additional = d.node(ap)
	}
	switch it := s.Items.(type) {
	case *jsonschema.Schema:
		n.items = d.node(it)
	case []*jsonschema.Schema:
		d.covered = false
	}
	if s.Items2020 != nil {
		if len(s.PrefixItems) > 0 {
			d.covered = false
		} else {
			n.items = d.node(s.Items2020)
		}
	}
	n.pattern, n.patternLoop = s.Pattern, compilePattern(s.Pattern)
	if s.Format != "" {
		if f, ok := jsonschema.Formats[s.Format]; ok {
			n.format, n.formatName = formatCheck(s.Format, f), s.Format
		} else {
			d.covered = false
		}
	}
	n.minLen, n.maxLen = s.MinLength, s.MaxLength
	n.minItems, n.maxItems = s.MinItems, s.MaxItems
	n.minProps, n.maxProps = s.MinProperties, s.MaxProperties
	for i, r := range [4]*big.Rat{s.Minimum, s.Maximum, s.ExclusiveMinimum, s.ExclusiveMaximum} {
		if r == nil {
			continue
		}
		text, ok := ratDecimal(r)
		if !ok {
			d.covered = false
		}
		n.exact[i] = text
	}
	n.multipleOf = s.MultipleOf
	n.hasMin, n.hasMax = s.Minimum != nil, s.Maximum != nil
	n.hasExclMin, n.hasExclMax = s.ExclusiveMinimum != nil, s.ExclusiveMaximum != nil
	if s.Not != nil || len(s.AnyOf) > 0 || len(s.OneOf) > 0 || s.If != nil || s.PropertyNames != nil ||
		len(s.PatternProperties) > 0 || len(s.Dependencies) > 0 || len(s.DependentRequired) > 0 ||
		len(s.DependentSchemas) > 0 || s.UnevaluatedProperties != nil || s.UnevaluatedItems != nil ||
		s.UniqueItems || s.AdditionalItems != nil || s.Contains != nil ||
		s.ContentEncoding != "" || s.ContentMediaType != "" || s.RecursiveRef != nil || s.DynamicRef != nil ||
		len(s.Extensions) > 0 {
		d.covered = false
	}
	n.indexProps()
	return n
}

func toEnumValue(v any) (enumValue, bool) {
	switch x := v.(type) {
	case nil:
		return enumValue{t: tNull}, true
	case bool:
		return enumValue{t: tBool, b: x}, true
	case string:
		return enumValue{t: tString, s: x}, true
	case json.Number:
		_, ok := cmpDecimal(string(x), "0")
		return enumValue{t: tNumber, s: string(x)}, ok
	case float64:
		return enumValue{t: tNumber, s: strconv.FormatFloat(x, 'g', -1, 64)}, true
	}
	return enumValue{}, false
}

// valueType is the JSON type of a parsed value; numbers without fraction or
// exponent, or whose value is whole, are tInteger|tNumber.
func valueType(v *fastjson.Value, num *numText) jsonType {
	// The same switch as kindOf, written out: this runs for every value of
	// every record the compiled checks walk, and integers are told apart.
	switch v.Type() {
	case fastjson.TypeNull:
		return tNull
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return tBool
	case fastjson.TypeString:
		return tString
	case fastjson.TypeArray:
		return tArray
	case fastjson.TypeObject:
		return tObject
	}
	// Decide exactly, as jsonschema/v5 does: 1.0 and 1e3 are integers,
	// 1.0000000000000001 is not.
	if isInt, _ := decimalIsInt(num.of(v)); isInt {
		return tNumber | tInteger
	}
	return tNumber
}

// cmpBound compares a number (its text) with a schema bound (decimal
// text), exactly.
func cmpBound(text, bound string) int {
	c, _ := cmpDecimal(text, bound)
	return c
}

func typeName(t jsonType) string {
	switch {
	case t&tNull != 0:
		return "null"
	case t&tBool != 0:
		return "boolean"
	case t&tInteger != 0:
		return "integer"
	case t&tNumber != 0:
		return "number"
	case t&tString != 0:
		return "string"
	case t&tArray != 0:
		return "array"
	case t&tObject != 0:
		return "object"
	}
	return "unknown"
}

func typeList(t jsonType) string {
	var parts []string
	for _, b := range []jsonType{tNull, tBool, tInteger, tNumber, tString, tArray, tObject} {
		if t&b != 0 {
			if b == tInteger && t&tNumber != 0 {
				continue
			}
			parts = append(parts, typeName(b))
		}
	}
	return strings.Join(parts, " or ")
}

func (e enumValue) matches(v *fastjson.Value, vt jsonType, num *numText) bool {
	switch e.t {
	case tNull:
		return vt == tNull
	case tBool:
		return vt == tBool && (v.Type() == fastjson.TypeTrue) == e.b
	case tNumber:
		if vt&tNumber == 0 {
			return false
		}
		c, ok := cmpDecimal(num.of(v), e.s)
		return ok && c == 0
	case tString:
		if vt != tString {
			return false
		}
		b, _ := v.StringBytes()
		return string(b) == e.s
	}
	return false
}

// pathStack is the current position in a document during a walk; it
// renders normalised paths only when a failure needs one.
type pathStack struct {
	segs []string // a key, or "[]" for an array element
}

func (p *pathStack) push(s string) { p.segs = append(p.segs, s) }
func (p *pathStack) pop()          { p.segs = p.segs[:len(p.segs)-1] }

func (p *pathStack) String() string { return joinPath(p.segs, "") }

func (p *pathStack) child(key string) string { return joinPath(p.segs, key) }

// joinPath is fieldPath over many segments, written into a new string: the
// segments may point into the parse buffer, which the next record reuses.
func joinPath(segs []string, last string) string {
	var b strings.Builder
	for _, s := range segs {
		if s != "[]" && b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	if last != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(last)
	}
	return b.String()
}

// failureSink collects failures during a check walk.
type failureSink interface {
	fail(reason Reason, field, detail string)
}

// walker carries the state of a check walk. Its visit function is built
// once and reused, so that walking objects allocates nothing.
type walker struct {
	p      pathStack
	sink   failureSink
	output bool
	stack  []*checkNode
	visit  func(key []byte, v *fastjson.Value)
	num    numText
}

func (w *walker) start(sink failureSink, output bool) {
	w.p.segs = w.p.segs[:0]
	w.stack = w.stack[:0]
	w.sink, w.output = sink, output
	if w.visit == nil {
		w.visit = w.visitProperty
	}
}

func (w *walker) visitProperty(key []byte, fv *fastjson.Value) {
	n := w.stack[len(w.stack)-1]
	k := b2s(key)
	if pn := n.prop(k); pn != nil {
		w.p.push(k)
		pn.run(fv, w)
		w.p.pop()
		return
	}
	if n.noAdditonal {
		w.sink.fail(w.reason(ReasonUnexpectedField), w.p.child(k), detailNotInContract)
		return
	}
	if n.additional != nil {
		w.p.push(k)
		n.additional.run(fv, w)
		w.p.pop()
	}
}

func (w *walker) reason(r Reason) Reason {
	if w.output {
		return ReasonOutputInvalid
	}
	return r
}

// check runs the checks of n over doc, reporting to sink.
func (n *checkNode) check(doc *fastjson.Value, w *walker, sink failureSink, output bool) {
	w.start(sink, output)
	n.run(doc, w)
	w.sink = nil
}

// run checks v against n, reporting every failure to the walker's sink.
func (n *checkNode) run(v *fastjson.Value, w *walker) {
	p, sink, reason := &w.p, w.sink, w.reason
	if n.alwaysFalse {
		sink.fail(reason(ReasonUnexpectedField), p.String(), detailNotAllowed)
		return
	}
	for _, sub := range n.allOf {
		sub.run(v, w)
	}
	vt := valueType(v, &w.num)
	if n.types != 0 && n.types&vt == 0 {
		sink.fail(reason(typeReason(vt)), p.String(), typeDetail(vt, n.types))
	}
	if n.constVal != nil && !n.constVal.matches(v, vt, &w.num) {
		sink.fail(reason(ReasonUnknownEnum), p.String(), constDetail(describeValue(v)))
	}
	if n.hasEnum {
		ok := false
		for _, e := range n.enum {
			if e.matches(v, vt, &w.num) {
				ok = true
				break
			}
		}
		if !ok {
			sink.fail(reason(ReasonUnknownEnum), p.String(), enumDetail(describeValue(v), n.enum))
		}
	}
	switch vt {
	case tString:
		b, _ := v.StringBytes()
		if n.minLen >= 0 || n.maxLen >= 0 {
			l := utf8.RuneCount(b)
			if n.minLen >= 0 && l < n.minLen {
				sink.fail(reason(ReasonOutOfRange), p.String(), lengthDetail(l, "minimum", n.minLen))
			}
			if n.maxLen >= 0 && l > n.maxLen {
				sink.fail(reason(ReasonOutOfRange), p.String(), lengthDetail(l, "maximum", n.maxLen))
			}
		}
		if n.pattern != nil && !n.matchPattern(b) {
			sink.fail(reason(ReasonInvalidFormat), p.String(), patternDetail(describeValue(v), n))
		}
		if n.format != nil && !n.format(string(b)) {
			sink.fail(reason(ReasonInvalidFormat), p.String(), formatDetail(describeValue(v), n))
		}
	case tNumber, tNumber | tInteger:
		if n.hasMin || n.hasMax || n.hasExclMin || n.hasExclMax {
			text := w.num.of(v)
			if (n.hasMin && cmpBound(text, n.exact[0]) < 0) || (n.hasExclMin && cmpBound(text, n.exact[2]) <= 0) {
				sink.fail(reason(ReasonOutOfRange), p.String(), belowMinDetail(numberText(v)))
			}
			if (n.hasMax && cmpBound(text, n.exact[1]) > 0) || (n.hasExclMax && cmpBound(text, n.exact[3]) >= 0) {
				sink.fail(reason(ReasonOutOfRange), p.String(), aboveMaxDetail(numberText(v)))
			}
		}
		if n.multipleOf != nil && !decimalMultipleOf(numberText(v), n.multipleOf) {
			sink.fail(reason(ReasonOutOfRange), p.String(), multipleDetail(numberText(v), n))
		}
		if n.format != nil && !n.format(json.Number(numberText(v))) {
			sink.fail(reason(ReasonInvalidFormat), p.String(), formatDetail(numberText(v), n))
		}
	case tArray:
		a, _ := v.Array()
		if n.minItems >= 0 && len(a) < n.minItems {
			sink.fail(reason(ReasonOutOfRange), p.String(), countDetail(len(a), "items", "minimum", n.minItems))
		}
		if n.maxItems >= 0 && len(a) > n.maxItems {
			sink.fail(reason(ReasonOutOfRange), p.String(), countDetail(len(a), "items", "maximum", n.maxItems))
		}
		if n.items != nil {
			p.push("[]")
			for _, it := range a {
				n.items.run(it, w)
			}
			p.pop()
		}
	case tObject:
		o, _ := v.Object()
		if n.minProps >= 0 && o.Len() < n.minProps {
			sink.fail(reason(ReasonOutOfRange), p.String(), countDetail(o.Len(), "properties", "minimum", n.minProps))
		}
		if n.maxProps >= 0 && o.Len() > n.maxProps {
			sink.fail(reason(ReasonOutOfRange), p.String(), countDetail(o.Len(), "properties", "maximum", n.maxProps))
		}
		for _, r := range n.required {
			if o.Get(r) == nil {
				sink.fail(reason(ReasonMissingField), p.child(r), detailRequired)
			}
		}
		w.stack = append(w.stack, n)
		o.Visit(w.visit)
		w.stack = w.stack[:len(w.stack)-1]
	}
}

func (n *checkNode) matchPattern(b []byte) bool {
	if n.patternLoop != nil {
		return n.patternLoop.match(b)
	}
	return n.pattern.Match(b)
}

func enumList(es []enumValue) string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 8 {
			fmt.Fprintf(&b, "… (%d in all)", len(es))
			break
		}
		switch e.t {
		case tNull:
			b.WriteString("null")
		case tBool:
			b.WriteString(strconv.FormatBool(e.b))
		case tNumber:
			b.WriteString(e.s)
		case tString:
			b.WriteString(strconv.Quote(e.s))
		}
	}
	return b.String()
}

// numberText is the number as written in the payload.
func numberText(v *fastjson.Value) string {
	var buf [32]byte
	return string(v.MarshalTo(buf[:0]))
}

// describeValue renders a short, bounded description of a value for a
// failure detail: strings are quoted and cut at 40 runes.
func describeValue(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return quoteShort(b2s(b))
	case fastjson.TypeNumber:
		return numberText(v)
	case fastjson.TypeTrue:
		return "true"
	case fastjson.TypeFalse:
		return "false"
	case fastjson.TypeNull:
		return "null"
	}
	return typeArticle(kindOf(v))
}

func quoteShort(s string) string {
	const limit = 40
	if utf8.RuneCountInString(s) > limit {
		i, n := 0, 0
		for i = range s {
			if n == limit {
				break
			}
			n++
		}
		return strconv.Quote(s[:i]) + "…"
	}
	return strconv.Quote(s)
}

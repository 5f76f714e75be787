package infer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// A JSON document edited in place: the values it holds with their byte
// spans, and edits (replace a span) applied from the end, so that every
// byte no edit touches stays as it was: indentation, key order, one-line
// or one-per-line style.

// jval is one value of a document and its span [start, end).
type jval struct {
	start, end int
	kind       byte // '{', '[', '"' or 'v' (number, true, false, null)
	members    []jmember
	elems      []*jval
}

// jmember is one member of an object: its key, where the key starts, and
// its value.
type jmember struct {
	key      string
	keyStart int
	val      *jval
}

// member returns the value of key in an object, or nil.
func (v *jval) member(key string) *jval {
	if v == nil || v.kind != '{' {
		return nil
	}
	for i := range v.members {
		if v.members[i].key == key {
			return v.members[i].val
		}
	}
	return nil
}

// maxEditDepth bounds the nesting of a document edited.
const maxEditDepth = 128

type spanParser struct {
	doc []byte
	pos int
}

// parseSpans parses doc, which must be valid JSON, into values with spans.
func parseSpans(doc []byte) (*jval, error) {
	if !json.Valid(doc) {
		return nil, errors.New("not valid JSON")
	}
	p := &spanParser{doc: doc}
	return p.value(0)
}

func (p *spanParser) ws() {
	for p.pos < len(p.doc) && strings.IndexByte(" \t\r\n", p.doc[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *spanParser) value(depth int) (*jval, error) {
	if depth > maxEditDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxEditDepth)
	}
	p.ws()
	if p.pos >= len(p.doc) {
		return nil, errors.New("unexpected end")
	}
	v := &jval{start: p.pos}
	switch c := p.doc[p.pos]; c {
	case '{':
		v.kind = '{'
		p.pos++
		for {
			p.ws()
			if p.doc[p.pos] == '}' {
				p.pos++
				break
			}
			if p.doc[p.pos] == ',' {
				p.pos++
				p.ws()
			}
			ks := p.pos
			p.str()
			var key string
			if err := json.Unmarshal(p.doc[ks:p.pos], &key); err != nil {
				return nil, err
			}
			p.ws()
			p.pos++ // ':'
			mv, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v.members = append(v.members, jmember{key: key, keyStart: ks, val: mv})
		}
	case '[':
		v.kind = '['
		p.pos++
		for {
			p.ws()
			if p.doc[p.pos] == ']' {
				p.pos++
				break
			}
			if p.doc[p.pos] == ',' {
				p.pos++
			}
			ev, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v.elems = append(v.elems, ev)
		}
	case '"':
		v.kind = '"'
		p.str()
	default:
		v.kind = 'v'
		for p.pos < len(p.doc) && strings.IndexByte(",]} \t\r\n", p.doc[p.pos]) < 0 {
			p.pos++
		}
	}
	v.end = p.pos
	return v, nil
}

// str moves past a string starting at pos.
func (p *spanParser) str() {
	p.pos++
	for p.pos < len(p.doc) {
		switch p.doc[p.pos] {
		case '\\':
			p.pos += 2
			continue
		case '"':
			p.pos++
			return
		}
		p.pos++
	}
}

// edit replaces doc[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// editor gathers edits of one document.
type editor struct {
	doc   []byte
	unit  string // one level of indentation
	style layout // how the document lays out its objects
	edits []edit
	// fill are the members added to empty objects, per object (see
	// fills).
	fill      map[*jval][]string
	fillOrder []*jval
	// removed are the members to remove, per object (see removals).
	removed      map[*jval]map[string]bool
	removedOrder []*jval
}

// layout is how a value is written.
type layout int

const (
	// oneLine writes everything on one line.
	oneLine layout = iota
	// mixed writes an object on one line when it fits, else a member per
	// line (hand-written schemas).
	mixed
	// expanded writes every non-empty object a member per line (as
	// json.MarshalIndent does).
	expanded
)

// styleOf is mixed when the document has a non-empty object on one line,
// expanded otherwise.
func styleOf(doc []byte, v *jval) layout {
	if v.kind == '{' && len(v.members) > 0 && bytes.IndexByte(doc[v.start:v.end], '\n') < 0 {
		return mixed
	}
	for _, m := range v.members {
		if styleOf(doc, m.val) == mixed {
			return mixed
		}
	}
	for _, el := range v.elems {
		if styleOf(doc, el) == mixed {
			return mixed
		}
	}
	return expanded
}

func newEditor(doc []byte, root *jval) *editor {
	e := &editor{doc: doc, unit: "  ", style: styleOf(doc, root)}
	if root.kind == '{' && len(root.members) > 0 {
		if ind := e.lineIndent(root.members[0].keyStart); ind != "" && e.lineIndent(root.start) == "" {
			e.unit = ind
		}
	}
	return e
}

// apply returns the document with every edit made.
func (e *editor) apply() []byte {
	e.removals()
	e.fills()
	order := make([]int, len(e.edits))
	for i := range order {
		order[i] = i
	}
	// From the end; at the same place, the later edit first so that the
	// earlier one ends up in front of it.
	sort.SliceStable(order, func(a, b int) bool {
		ea, eb := e.edits[order[a]], e.edits[order[b]]
		if ea.start != eb.start {
			return ea.start > eb.start
		}
		return order[a] > order[b]
	})
	out := append([]byte(nil), e.doc...)
	for _, i := range order {
		ed := e.edits[i]
		out = append(out[:ed.start], append([]byte(ed.text), out[ed.end:]...)...)
	}
	return out
}

// lineIndent returns the spaces and tabs that start the line holding pos,
// when only they come before pos on it ("" otherwise).
func (e *editor) lineIndent(pos int) string {
	ls := bytes.LastIndexByte(e.doc[:pos], '\n') + 1
	ind := e.doc[ls:pos]
	if len(bytes.Trim(ind, " \t")) > 0 {
		return ""
	}
	return string(ind)
}

// multiline reports whether v spans several lines.
func (e *editor) multiline(v *jval) bool {
	return bytes.IndexByte(e.doc[v.start:v.end], '\n') >= 0
}

// replace sets a value.
func (e *editor) replace(v *jval, x any) {
	e.edits = append(e.edits, edit{v.start, v.end, e.render(x, e.indentAt(v.start), oneLine)})
}

// indentAt is the indentation of the line holding pos, whatever precedes
// pos on it.
func (e *editor) indentAt(pos int) string {
	ls := bytes.LastIndexByte(e.doc[:pos], '\n') + 1
	i := ls
	for i < pos && (e.doc[i] == ' ' || e.doc[i] == '\t') {
		i++
	}
	return string(e.doc[ls:i])
}

// setArray rewrites an array with elems (raw JSON texts), in its layout:
// one per line when it was so, else on one line with its separator.
func (e *editor) setArray(arr *jval, elems []string) {
	if len(arr.elems) > 0 && e.multiline(arr) {
		ind := e.indentAt(arr.elems[0].start)
		closing := e.indentAt(arr.end - 1)
		e.edits = append(e.edits, edit{arr.start, arr.end, "[\n" + ind + strings.Join(elems, ",\n"+ind) + "\n" + closing + "]"})
		return
	}
	sep := ", "
	if len(arr.elems) > 1 && !bytes.Contains(e.doc[arr.elems[0].end:arr.elems[1].start], []byte(" ")) {
		sep = ","
	}
	e.edits = append(e.edits, edit{arr.start, arr.end, "[" + strings.Join(elems, sep) + "]"})
}

// rawElems returns the texts of an array's elements as written.
func (e *editor) rawElems(arr *jval) []string {
	out := make([]string, len(arr.elems))
	for i, el := range arr.elems {
		out[i] = string(e.doc[el.start:el.end])
	}
	return out
}

// addMember adds key: x at the end of the object obj, in its layout.
func (e *editor) addMember(obj *jval, key string, x any) {
	k, _ := json.Marshal(key)
	if len(obj.members) == 0 {
		// Written whole once every member is known (see fills).
		if e.fill == nil {
			e.fill = map[*jval][]string{}
		}
		if e.fill[obj] == nil {
			e.fillOrder = append(e.fillOrder, obj)
		}
		ind := e.indentAt(obj.start)
		e.fill[obj] = append(e.fill[obj], ind+e.unit+string(k)+": "+e.render(x, ind+e.unit, e.style))
		return
	}
	last := obj.members[len(obj.members)-1]
	if ind := e.lineIndent(last.keyStart); ind != "" || e.multiline(obj) && e.lineIndent(obj.members[0].keyStart) != "" {
		if ind == "" {
			ind = e.lineIndent(obj.members[0].keyStart)
		}
		val := e.render(x, ind, e.style)
		// Beside a one-line sibling, a value that fits on a line takes one.
		if one := e.render(x, "", oneLine); !e.multiline(last.val) && len(ind)+len(k)+2+len(one) <= maxLine {
			val = one
		}
		e.edits = append(e.edits, edit{last.val.end, last.val.end, ",\n" + ind + string(k) + ": " + val})
		return
	}
	e.edits = append(e.edits, edit{last.val.end, last.val.end, ", " + string(k) + ": " + e.render(x, "", oneLine)})
}

// maxLine is the longest line a value added beside one-line siblings may
// make.
const maxLine = 120

// removeMember removes the member key of obj with the separator before it
// (after it, before the first member kept); see removals.
func (e *editor) removeMember(obj *jval, key string) {
	if e.removed == nil {
		e.removed = map[*jval]map[string]bool{}
	}
	if e.removed[obj] == nil {
		e.removed[obj] = map[string]bool{}
		e.removedOrder = append(e.removedOrder, obj)
	}
	e.removed[obj][key] = true
}

// fills writes each empty object that gained members, a member per line.
func (e *editor) fills() {
	for _, obj := range e.fillOrder {
		ind := e.indentAt(obj.start)
		e.edits = append(e.edits, edit{obj.start, obj.end, "{\n" + strings.Join(e.fill[obj], ",\n") + "\n" + ind + "}"})
	}
	e.fill, e.fillOrder = nil, nil
}

// removals turns the members removed into edits that do not overlap: the
// ones before the first member kept go with the separator after them, the
// others with the separator before them; an object left empty is {}.
func (e *editor) removals() {
	for _, obj := range e.removedOrder {
		gone := e.removed[obj]
		first := -1
		for i, m := range obj.members {
			if !gone[m.key] {
				first = i
				break
			}
		}
		if first < 0 {
			e.edits = append(e.edits, edit{obj.start, obj.end, "{}"})
			continue
		}
		for i, m := range obj.members {
			switch {
			case !gone[m.key]:
			case i < first:
				e.edits = append(e.edits, edit{m.keyStart, obj.members[i+1].keyStart, ""})
			default:
				e.edits = append(e.edits, edit{obj.members[i-1].val.end, m.val.end, ""})
			}
		}
	}
	e.removed, e.removedOrder = nil, nil
}

// keyOrder puts the keys of a schema object in the order a reader expects.
var keyOrder = map[string]int{"type": 0, "format": 1, "enum": 2, "description": 3, "required": 4, "properties": 5, "items": 6}

// render writes x as JSON at indentation ind in layout lay; arrays go on
// one line.
func (e *editor) render(x any, ind string, lay layout) string {
	switch v := x.(type) {
	case map[string]any:
		if len(v) == 0 {
			return "{}"
		}
		if lay == mixed {
			if one := e.render(x, "", oneLine); len(ind)+len(one) <= maxLine*2/3 {
				return one
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			oi, iok := keyOrder[keys[i]]
			oj, jok := keyOrder[keys[j]]
			switch {
			case iok && jok:
				return oi < oj
			case iok != jok:
				return iok
			}
			return keys[i] < keys[j]
		})
		parts := make([]string, len(keys))
		for i, k := range keys {
			q, _ := json.Marshal(k)
			if lay == oneLine {
				parts[i] = string(q) + ": " + e.render(v[k], "", oneLine)
			} else {
				parts[i] = ind + e.unit + string(q) + ": " + e.render(v[k], ind+e.unit, lay)
			}
		}
		if lay == oneLine {
			return "{" + strings.Join(parts, ", ") + "}"
		}
		return "{\n" + strings.Join(parts, ",\n") + "\n" + ind + "}"
	case []any:
		parts := make([]string, len(v))
		for i, el := range v {
			parts[i] = e.render(el, ind, oneLine)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		parts := make([]string, len(v))
		for i, el := range v {
			parts[i] = e.render(el, ind, oneLine)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return "null"
	}
	return strings.TrimSuffix(b.String(), "\n")
}

package infer

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Change is one edit Against made to a schema, in words.
type Change struct {
	// Path is the payload path the edit is about ("customer.name",
	// "items[].sku"; "" for the root).
	Path string `json:"path"`
	// What says what changed and the evidence for it.
	What string `json:"what"`
}

func (c Change) String() string {
	p := c.Path
	if p == "" {
		p = "(root)"
	}
	return p + ": " + c.What
}

// Against merges what the payloads added so far show into an existing
// input schema, doc, and returns the edited document with each change.
// It only widens: a property seen that the schema's properties lack is
// added (typed as inferred, not required); a type seen is added to the
// property's type; an enum gains the values seen outside it (or is
// removed when they are too many to list); a format some value fails is
// removed; a required property absent from some occurrences of its object
// is no longer required (present in fewer than Options.RequiredShare of
// them). Nothing the payloads did not contradict changes,
// and the document is edited in place: every line without a change stays
// byte for byte. Subschemas behind $ref, allOf, anyOf, oneOf or not are
// left as they are (notes says which).
func (in *Inferrer) Against(doc []byte) (out []byte, changes []Change, notes []string, err error) {
	root, err := parseSpans(doc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("schema: %w", err)
	}
	if root.kind != '{' {
		return nil, nil, nil, fmt.Errorf("schema: not a JSON object")
	}
	m := &merger{in: in, ed: newEditor(doc, root)}
	m.merge(root, in.root, "")
	return m.ed.apply(), m.changes, m.notes, nil
}

type merger struct {
	in      *Inferrer
	ed      *editor
	changes []Change
	notes   []string
}

func (m *merger) change(path, format string, args ...any) {
	m.changes = append(m.changes, Change{Path: path, What: fmt.Sprintf(format, args...)})
}

// stringsOf reads a JSON array of strings (or one string) as written.
func stringsOf(doc []byte, v *jval) []string {
	if v == nil {
		return nil
	}
	var one string
	if json.Unmarshal(doc[v.start:v.end], &one) == nil {
		return []string{one}
	}
	var many []string
	json.Unmarshal(doc[v.start:v.end], &many)
	return many
}

// merge widens the schema object s by what n saw at path.
func (m *merger) merge(s *jval, n *node, path string) {
	if s == nil || s.kind != '{' || n == nil || n.total() == 0 {
		return
	}
	for _, k := range []string{"$ref", "allOf", "anyOf", "oneOf", "not"} {
		if s.member(k) != nil {
			m.notes = append(m.notes, fmt.Sprintf("%s: left as it is (%s is not followed)", pathName(path), k))
			return
		}
	}
	doc := m.ed.doc
	widened := m.mergeType(s, n, path)
	m.mergeEnum(s, n, path)
	if f := s.member("format"); f != nil && n.kinds[kString] > 0 {
		var name string
		json.Unmarshal(doc[f.start:f.end], &name)
		failed := map[string]bool{"date-time": n.notDate, "email": n.notMail, "uuid": n.notUUID}
		if bad, tracked := failed[name]; tracked && bad {
			m.ed.removeMember(s, "format")
			m.change(path, "format %s removed: some values are not %s", name, name)
		}
	}
	if n.kinds[kObject] > 0 {
		m.mergeObject(s, n, path, widened)
	}
	if n.kinds[kArray] > 0 && n.items != nil && n.items.total() > 0 {
		if it := s.member("items"); it != nil {
			m.merge(it, n.items, path+"[]")
		} else if slices.Contains(widened, "array") {
			m.ed.addMember(s, "items", m.in.schema(n.items, ""))
			m.change(path, "items described as seen")
		}
	}
}

// mergeType adds the types n saw that s's type lacks; it returns the
// types added.
func (m *merger) mergeType(s *jval, n *node, path string) []string {
	t := s.member("type")
	if t == nil {
		return nil
	}
	types := stringsOf(m.ed.doc, t)
	var added []string
	for _, seen := range n.types() {
		covered := slices.Contains(types, seen) || seen == "integer" && slices.Contains(types, "number")
		if !covered && !slices.Contains(added, seen) {
			added = append(added, seen)
		}
	}
	if len(added) == 0 {
		return nil
	}
	all := append(append([]string(nil), types...), added...)
	m.ed.replace(t, all)
	var ev []string
	for _, a := range added {
		ev = append(ev, a+" "+times(n.kindCount(a)))
	}
	m.change(path, "type %s → %s (seen: %s of %d values)", typeText(types), typeText(all), strings.Join(ev, ", "), n.total())
	return added
}

func typeText(ts []string) string {
	if len(ts) == 1 {
		return ts[0]
	}
	return "[" + strings.Join(ts, ", ") + "]"
}

// kindCount is how many values of the JSON type name n saw.
func (n *node) kindCount(name string) int {
	c := 0
	for k := kind(0); k < nKinds; k++ {
		if kindNames[k] == name || name == "number" && k == kInteger {
			c += n.kinds[k]
		}
	}
	return c
}

// mergeEnum adds the strings (and null) n saw outside s's enum, or
// removes the enum when they cannot be listed.
func (m *merger) mergeEnum(s *jval, n *node, path string) {
	e := s.member("enum")
	if e == nil || e.kind != '[' {
		return
	}
	var listed []any
	if json.Unmarshal(m.ed.doc[e.start:e.end], &listed) != nil {
		return
	}
	inEnum := func(x any) bool {
		for _, l := range listed {
			if l == x {
				return true
			}
		}
		return false
	}
	if n.kinds[kBool]+n.kinds[kInteger]+n.kinds[kNumber]+n.kinds[kObject]+n.kinds[kArray] > 0 || n.kinds[kString] > 0 && n.strs == nil {
		m.ed.removeMember(s, "enum")
		m.change(path, "enum removed: more distinct values seen than can be listed (more than %d, or not strings)", m.in.opts.MaxEnum)
		return
	}
	var add []string
	for v := range n.strs {
		if !inEnum(v) {
			add = append(add, v)
		}
	}
	sort.Strings(add)
	raw := m.ed.rawElems(e)
	var ev []string
	for _, v := range add {
		q, _ := json.Marshal(v)
		raw = append(raw, string(q))
		ev = append(ev, string(q)+" "+times(n.strs[v]))
	}
	if n.kinds[kNull] > 0 && !inEnum(nil) {
		raw = append(raw, "null")
		ev = append(ev, "null "+times(n.kinds[kNull]))
	}
	if len(ev) == 0 {
		return
	}
	m.ed.setArray(e, raw)
	m.change(path, "enum gains %s", strings.Join(ev, ", "))
}

// mergeObject adds the properties n saw that s lacks, drops from required
// those absent from some occurrences, and merges each property known.
func (m *merger) mergeObject(s *jval, n *node, path string, widened []string) {
	doc := m.ed.doc
	child := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	if req := s.member("required"); req != nil && req.kind == '[' {
		var keep []string
		var dropped []string
		for _, el := range req.elems {
			var k string
			json.Unmarshal(doc[el.start:el.end], &k)
			c := n.props[k]
			present := 0
			if c != nil {
				present = c.total()
			}
			if float64(present) < m.in.opts.RequiredShare*float64(n.objects)-1e-9 {
				dropped = append(dropped, k)
				m.change(child(k), "no longer required: absent from %d of %d objects", n.objects-present, n.objects)
				continue
			}
			keep = append(keep, string(doc[el.start:el.end]))
		}
		switch {
		case len(dropped) == 0:
		case len(keep) == 0:
			m.ed.removeMember(s, "required")
		default:
			m.ed.setArray(req, keep)
		}
	}
	props := s.member("properties")
	if props == nil || props.kind != '{' {
		if slices.Contains(widened, "object") && len(n.props) > 0 {
			sch := m.in.schema(n, "")
			delete(sch, "type")
			delete(sch, "required")
			keys := make([]string, 0, len(sch))
			for k := range sch {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				m.ed.addMember(s, k, sch[k])
			}
			m.change(path, "properties described as seen")
		}
		return
	}
	for _, mem := range props.members {
		m.merge(mem.val, n.props[mem.key], child(mem.key))
	}
	var add []string
	for k := range n.props {
		if props.member(k) == nil {
			add = append(add, k)
		}
	}
	sort.Strings(add)
	for _, k := range add {
		c := n.props[k]
		sch := m.in.schema(c, k)
		m.ed.addMember(props, k, sch)
		what := "added"
		if c.nullOnly() {
			what += " without a type (only null seen)"
		} else {
			what += " as " + typeText(c.types())
		}
		m.change(child(k), "%s, not required (in %d of %d objects)", what, c.total(), n.objects)
	}
}

func pathName(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}

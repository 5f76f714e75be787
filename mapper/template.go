package mapper

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/valyala/fastjson"
)

// template builds a string from literal text and source paths:
// "{first_name} {last_name}". Every part must be present; "{middle?}"
// marks one that may be absent or null (it then reads as ""). A part may
// carry text in single quotes before and after its path that is written
// only with the part's value, so that an optional part takes its
// separator with it: "{id}{': ' description?}" gives "ch_1: Tea" or
// "ch_1" (” is a quote inside the quotes). "{{" and "}}" are literal
// braces. Parts follow from's failure rules: a required part that is
// absent is missing_field at that part, null is null_field, an object or
// array is type_mismatch; then the field's default (if any) is used, else
// the field is left out (and the record rejected when the field is
// required).
type template struct {
	lits  []string // lits[i] precedes parts[i]; the last one follows the last part
	parts []templatePart
}

type templatePart struct {
	path     srcPath
	optional bool
	// before and after are written around the value, only when there is one.
	before, after string
}

// parseTemplate reads a template's text.
func parseTemplate(s string, parsePath func(string) (srcPath, error)) (*template, error) {
	t := &template{}
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			part, end, err := parsePart(s, i, parsePath)
			if err != nil {
				return nil, fmt.Errorf("template %q: %w", s, err)
			}
			t.lits = append(t.lits, lit.String())
			lit.Reset()
			t.parts = append(t.parts, part)
			i = end
		case c == '}':
			return nil, fmt.Errorf("template %q: a } at byte %d has no { (write }} for a brace)", s, i)
		default:
			lit.WriteByte(c)
		}
	}
	if len(t.parts) == 0 {
		return nil, fmt.Errorf("template %q has no {path}", s)
	}
	t.lits = append(t.lits, lit.String())
	return t, nil
}

// parsePart reads the part "{['before'] path[?] ['after']}" that starts at
// s[start]; end is the index of its closing brace.
func parsePart(s string, start int, parsePath func(string) (srcPath, error)) (part templatePart, end int, err error) {
	i := start + 1
	skipSpace := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	quoted := func() (string, error) {
		var b strings.Builder
		for i++; i < len(s); i++ {
			if s[i] != '\'' {
				b.WriteByte(s[i])
				continue
			}
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			i++
			return b.String(), nil
		}
		return "", fmt.Errorf("a ' at byte %d has no closing '", start)
	}
	skipSpace()
	if i < len(s) && s[i] == '\'' {
		if part.before, err = quoted(); err != nil {
			return part, 0, err
		}
		skipSpace()
	}
	from := i
	for i < len(s) && s[i] != '}' && s[i] != ' ' && s[i] != '\'' && s[i] != '?' && s[i] != '{' {
		i++
	}
	name := s[from:i]
	if i < len(s) && s[i] == '?' {
		part.optional = true
		i++
	}
	skipSpace()
	if i < len(s) && s[i] == '\'' {
		if part.after, err = quoted(); err != nil {
			return part, 0, err
		}
		skipSpace()
	}
	switch {
	case i >= len(s):
		return part, 0, fmt.Errorf("a { at byte %d has no }", start)
	case s[i] != '}':
		return part, 0, fmt.Errorf("the part at byte %d: expected {'text' path? 'text'}, got %q", start, s[i])
	case name == "":
		return part, 0, fmt.Errorf("an empty {} at byte %d", start)
	}
	if part.path, err = parsePath(name); err != nil {
		return part, 0, err
	}
	return part, i, nil
}

// buildTemplate writes r's template from ctx into scratch and returns the
// string, or a failure at the part that stopped it: ok false with
// reason "" means an optional field whose part is absent.
func (m *Mapper) buildTemplate(t *template, ctx *fastjson.Value, prefix string) (s string, reason Reason, field, detail string) {
	start := len(m.scratch)
	for i := range t.parts {
		m.scratch = append(m.scratch, t.lits[i]...)
		part := &t.parts[i]
		v, reached, blocked := lookup(m.base(&part.path, ctx), part.path)
		switch {
		case v != nil && v.Type() == fastjson.TypeString:
			b, _ := v.StringBytes()
			m.scratch = append(m.scratch, part.before...)
			m.scratch = append(m.scratch, b...)
			m.scratch = append(m.scratch, part.after...)
		case v != nil && (v.Type() == fastjson.TypeNumber || v.Type() == fastjson.TypeTrue || v.Type() == fastjson.TypeFalse):
			m.scratch = append(m.scratch, part.before...)
			m.scratch = v.MarshalTo(m.scratch)
			m.scratch = append(m.scratch, part.after...)
		case part.optional && (v == nil || v.Type() == fastjson.TypeNull) && (blocked == nil || blocked.Type() == fastjson.TypeNull):
		case v != nil && v.Type() == fastjson.TypeNull:
			m.scratch = m.scratch[:start]
			return "", ReasonNullField, m.fieldOf(prefix, &part.path), "null where a value is required"
		case v != nil:
			m.scratch = m.scratch[:start]
			return "", ReasonTypeMismatch, m.fieldOf(prefix, &part.path), kindName(v) + ", expected a string, number or boolean"
		case blocked != nil && blocked.Type() == fastjson.TypeNull:
			m.scratch = m.scratch[:start]
			return "", ReasonNullField, m.fieldOfAt(prefix, &part.path, reached-1), "null where a value is required"
		case blocked != nil:
			m.scratch = m.scratch[:start]
			return "", ReasonTypeMismatch, m.fieldOfAt(prefix, &part.path, reached-1), kindName(blocked) + ", expected object"
		default:
			m.scratch = m.scratch[:start]
			return "", ReasonMissingField, m.fieldOf(prefix, &part.path), "required field is absent"
		}
	}
	m.scratch = append(m.scratch, t.lits[len(t.parts)]...)
	return b2s(m.scratch[start:]), "", "", ""
}

// emitTemplate writes a template field: the built string through the
// transforms and enum table, or on a missing part the default, a failure
// (required fields, and wrong types always) or nothing.
func (m *Mapper) emitTemplate(r *fieldRule, ctx *fastjson.Value, prefix string) bool {
	s, reason, field, detail := m.buildTemplate(r.template, ctx, prefix)
	if reason == "" {
		return m.emitValue(r, tv{k: kString, s: s}, ctx, prefix, &r.template.parts[0].path)
	}
	switch {
	case r.def != nil && reason != ReasonTypeMismatch:
		m.out = append(m.out, r.def...)
		m.fail(ReasonDefaulted, field, "template part absent or null; default used")
		return true
	case r.required || reason == ReasonTypeMismatch:
		m.fail(reason, field, detail)
	}
	return false
}

// fieldExtra reads the keys template, default_from and when of a field; it
// reports whether the key gives the field its value (template does).
func (l *ruleLoader) fieldExtra(r *fieldRule, key string, v ast.Node, out string) bool {
	switch key {
	case "template":
		s, ok := l.str(v, out+".template")
		if !ok {
			return true
		}
		t, err := parseTemplate(s, l.path)
		if err != nil {
			l.errAt(v, "%s.template: %v", out, err)
			return true
		}
		r.template = t
		return true
	case "default_from":
		for _, item := range l.strList(v, out+".default_from") {
			p, err := l.path(item.s)
			if err != nil {
				l.ps.add(l.file, item.line, item.col, "%s.default_from: %v", out, err)
				l.bad = true
				continue
			}
			r.defaultFrom = append(r.defaultFrom, p)
		}
	case "when":
		r.when = l.when(v, out)
	}
	return false
}

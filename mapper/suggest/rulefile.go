package suggest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/mapperhq/mapper/mapper"
)

// ruleFile is a rule file's YAML tree, edited in place and printed back,
// keeping the parts no suggestion touches as they were written (comments
// included).
type ruleFile struct {
	doc    *textDoc
	top    *ast.MappingNode
	fields *ast.MappingNode
}

// fieldInfo is what suggestions need of one top-level output field.
type fieldInfo struct {
	out        string
	from       []string
	enum       []enumEntry
	transforms []string // names, in order
	layouts    []string // the timestamp transform's layouts
	hasDefault bool
	nullable   bool
	node       *ast.MappingNode
}

// enumEntry is one entry of an enum table; raw values (numbers, booleans,
// null) are written back as they were, string values quoted as needed.
type enumEntry struct {
	key, value string
	raw        bool
	// placeholder: the output was not inferred; the edited line says
	// REVIEW.
	placeholder bool
}

func parseRuleFile(data []byte) (*ruleFile, error) {
	f, err := parser.ParseBytes(mapper.ParsableRuleText(data), 0)
	if err != nil {
		return nil, fmt.Errorf("parse rule file: %w", err)
	}
	if len(f.Docs) != 1 {
		return nil, fmt.Errorf("parse rule file: want one YAML document, got %d", len(f.Docs))
	}
	top, ok := mappingOf(f.Docs[0].Body)
	if !ok {
		return nil, fmt.Errorf("parse rule file: the document is not a mapping")
	}
	rf := &ruleFile{doc: newTextDoc(data), top: top}
	if kv := keyOf(top, "fields"); kv != nil {
		rf.fields, _ = mappingOf(kv.Value)
	}
	if rf.fields == nil {
		return nil, fmt.Errorf("parse rule file: no fields mapping")
	}
	return rf, nil
}

func unwrapNode(n ast.Node) ast.Node {
	for {
		switch x := n.(type) {
		case *ast.TagNode:
			n = x.Value
		case *ast.AnchorNode:
			n = x.Value
		case *ast.CommentGroupNode:
			return nil
		default:
			return n
		}
	}
}

func mappingOf(n ast.Node) (*ast.MappingNode, bool) {
	switch x := unwrapNode(n).(type) {
	case *ast.MappingNode:
		return x, true
	case *ast.MappingValueNode:
		return &ast.MappingNode{BaseNode: &ast.BaseNode{}, Values: []*ast.MappingValueNode{x}}, true
	}
	return nil, false
}

func keyText(kv *ast.MappingValueNode) string {
	if s, ok := unwrapNode(kv.Key).(*ast.StringNode); ok {
		return s.Value
	}
	return strings.Trim(kv.Key.String(), `"'`)
}

func keyOf(m *ast.MappingNode, key string) *ast.MappingValueNode {
	for _, kv := range m.Values {
		if keyText(kv) == key {
			return kv
		}
	}
	return nil
}

func scalarText(n ast.Node) (string, bool) {
	switch x := unwrapNode(n).(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.LiteralNode:
		return x.GetToken().Value, true
	}
	return "", false
}

func stringsOf(n ast.Node) []string {
	if s, ok := scalarText(n); ok {
		return []string{s}
	}
	var out []string
	if seq, ok := unwrapNode(n).(*ast.SequenceNode); ok {
		for _, v := range seq.Values {
			if s, ok := scalarText(v); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// fieldsInfo lists the top-level output fields (nested each rules are not
// suggested for).
func (rf *ruleFile) fieldsInfo() []fieldInfo {
	var out []fieldInfo
	for _, kv := range rf.fields.Values {
		m, ok := mappingOf(kv.Value)
		if !ok {
			continue
		}
		fi := fieldInfo{out: keyText(kv), node: m}
		if from := keyOf(m, "from"); from != nil {
			fi.from = stringsOf(from.Value)
		}
		if en := keyOf(m, "enum"); en != nil {
			if em, ok := mappingOf(en.Value); ok {
				for _, e := range em.Values {
					v, _ := scalarText(e.Value)
					_, isString := unwrapNode(e.Value).(*ast.StringNode)
					fi.enum = append(fi.enum, enumEntry{key: keyText(e), value: v, raw: !isString})
				}
			}
		}
		fi.hasDefault = keyOf(m, "default") != nil
		if nl := keyOf(m, "nullable"); nl != nil {
			v, _ := scalarText(nl.Value)
			fi.nullable = v == "true"
		}
		if tr := keyOf(m, "transform"); tr != nil {
			items := []ast.Node{tr.Value}
			if seq, ok := unwrapNode(tr.Value).(*ast.SequenceNode); ok {
				items = seq.Values
			}
			for _, it := range items {
				if s, ok := scalarText(it); ok {
					fi.transforms = append(fi.transforms, s)
				} else if tm, ok := mappingOf(it); ok && len(tm.Values) == 1 {
					name := keyText(tm.Values[0])
					fi.transforms = append(fi.transforms, name)
					if name == "timestamp" {
						fi.layouts = stringsOf(tm.Values[0].Value)
					}
				}
			}
		}
		out = append(out, fi)
	}
	return out
}

func (rf *ruleFile) field(out string) *ast.MappingNode {
	if kv := keyOf(rf.fields, out); kv != nil {
		m, _ := mappingOf(kv.Value)
		return m
	}
	return nil
}

// redact lists the rule file's redact paths as written.
func (rf *ruleFile) redact() []string {
	if kv := keyOf(rf.top, "redact"); kv != nil {
		paths := stringsOf(kv.Value)
		for i, p := range paths {
			paths[i] = strings.ReplaceAll(p, "()", "[]")
		}
		return paths
	}
	return nil
}

// ruleEdits collects what the suggestions change in a rule file, field by
// field, so that two suggestions on one field (a moved path and an
// id-or-object path of one from list) make one edit of its text.
type ruleEdits struct {
	rf     *ruleFile
	fields map[string]*fieldEdit
	order  []string
	redact []string // the new redact list; nil: unchanged
}

// fieldEdit is the change to one output field's rule.
type fieldEdit struct {
	from    []string // the new from list; nil: unchanged
	enumAdd []enumEntry
	layouts []string // the timestamp transform's layouts; nil: unchanged
	// layoutReview is the REVIEW comment of the layouts' line; "": none.
	layoutReview string
	prepend      string // a transform run before the others; "": none
	keys         [][2]string
}

func newRuleEdits(rf *ruleFile) *ruleEdits {
	return &ruleEdits{rf: rf, fields: map[string]*fieldEdit{}}
}

func (e *ruleEdits) field(out string) *fieldEdit {
	fe := e.fields[out]
	if fe == nil {
		fe = &fieldEdit{}
		e.fields[out] = fe
		e.order = append(e.order, out)
	}
	return fe
}

// fromOf is the field's from list as edited so far.
func (e *ruleEdits) fromOf(out string) []string {
	if fe := e.fields[out]; fe != nil && fe.from != nil {
		return fe.from
	}
	if fi := fieldByName(e.rf.fieldsInfo(), out); fi != nil {
		return fi.from
	}
	return nil
}

// set sets key of the field's rule to the flow text.
func (fe *fieldEdit) set(key, text string) {
	for i := range fe.keys {
		if fe.keys[i][0] == key {
			fe.keys[i][1] = text
			return
		}
	}
	fe.keys = append(fe.keys, [2]string{key, text})
}

// render applies the edits and the new version to the file's text.
func (e *ruleEdits) render(version int) ([]byte, error) {
	d := e.rf.doc
	for _, out := range e.order {
		fe := e.fields[out]
		m := e.rf.field(out)
		if m == nil {
			return nil, fmt.Errorf("field %s is not a mapping in the rule file", out)
		}
		if fe.from != nil {
			if err := d.setKey(m, "from", flowList(fe.from)); err != nil {
				return nil, err
			}
		}
		if err := e.renderTransform(m, fe); err != nil {
			return nil, fmt.Errorf("field %s: %w", out, err)
		}
		if len(fe.enumAdd) > 0 {
			en := keyOf(m, "enum")
			em, ok := mappingOf(en.Value)
			if en == nil || !ok {
				return nil, fmt.Errorf("field %s has no enum mapping", out)
			}
			var placeholders []string
			for _, ent := range fe.enumAdd {
				text := ent.text()
				if ent.placeholder && !em.IsFlowStyle {
					text += "  # REVIEW: placeholder output (see the candidate's " + SummaryFile + ")"
				}
				if ent.placeholder {
					placeholders = append(placeholders, ent.key)
				}
				if err := d.addEntry(em, text); err != nil {
					return nil, err
				}
			}
			if len(placeholders) > 0 && em.IsFlowStyle {
				what := "placeholder output for "
				if len(placeholders) > 1 {
					what = "placeholder outputs for "
				}
				if err := d.trailingComment(d.end(em), "REVIEW: "+what+strings.Join(placeholders, ", ")+" (see the candidate's "+SummaryFile+")"); err != nil {
					return nil, err
				}
			}
		}
		for _, kv := range fe.keys {
			if err := d.setKey(m, kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
	}
	if e.redact != nil {
		if err := d.setKey(e.rf.top, "redact", flowList(e.redact)); err != nil {
			return nil, err
		}
	}
	if err := d.setKey(e.rf.top, "version", fmt.Sprint(version)); err != nil {
		return nil, err
	}
	return d.bytes()
}

// text is the entry as YAML ("key: value").
func (en enumEntry) text() string {
	v := en.value
	if !en.raw {
		v = yamlScalar(v)
	}
	return yamlScalar(en.key) + ": " + v
}

// quote writes s as a YAML double-quoted scalar (JSON string syntax is
// valid YAML).
func quote(s string) string { return strconv.Quote(s) }

// flowList writes items as a YAML flow list, each item plain where YAML
// reads it back as the same string.
func flowList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = yamlScalar(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// yamlScalar keeps words and paths (letters, digits, _ - . /) as written
// and quotes anything else, and words YAML reads as something other than
// a string (true, null, no, 12…).
func yamlScalar(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' || r == '/')
	}) < 0 && !strings.ContainsAny(s[:1], "-0123456789/")
	switch l := strings.ToLower(s); {
	case l == "true", l == "false", l == "null", l == "yes", l == "no", l == "on", l == "off", l == "y", l == "n", l == "~":
		plain = false
	case strings.HasPrefix(l, "."):
		// ../path is a string; .5, .inf and .nan are numbers.
		plain = plain && len(l) > 1 && !strings.ContainsAny(l[1:2], "0123456789") && l != ".inf" && l != ".nan"
	}
	if plain {
		return s
	}
	return quote(s)
}

// renderTransform writes the field's new timestamp layouts and prepended
// transform, replacing only the transform items they change.
func (e *ruleEdits) renderTransform(m *ast.MappingNode, fe *fieldEdit) error {
	d := e.rf.doc
	kv := keyOf(m, "transform")
	if fe.layouts != nil {
		if kv == nil {
			return fmt.Errorf("no transform to give layouts to")
		}
		ts := "{timestamp: " + quotedList(fe.layouts) + "}"
		v := unwrapNode(kv.Value)
		if fe.layoutReview != "" {
			if err := d.trailingComment(d.end(v), "REVIEW: "+fe.layoutReview); err != nil {
				return err
			}
		}
		if seq, ok := v.(*ast.SequenceNode); ok {
			for _, it := range seq.Values {
				if isTimestamp(it) {
					if err := d.replace(it, ts); err != nil {
						return err
					}
				}
			}
		} else if isTimestamp(v) {
			if _, scalar := scalarText(v); scalar {
				ts = "[" + ts + "]"
			}
			if err := d.replace(v, ts); err != nil {
				return err
			}
		}
	}
	if fe.prepend == "" {
		return nil
	}
	if kv == nil {
		return d.addEntry(m, "transform: "+fe.prepend)
	}
	v := unwrapNode(kv.Value)
	if seq, ok := v.(*ast.SequenceNode); ok {
		if !seq.IsFlowStyle || len(seq.Values) == 0 {
			return fmt.Errorf("cannot put %s first in a block-style transform list", fe.prepend)
		}
		at := d.start(seq.Values[0])
		return d.add(at, at, fe.prepend+", ")
	}
	// One transform (a name or a mapping with its arguments) becomes a
	// list with the new one first.
	return d.replace(v, "["+fe.prepend+", "+string(d.src[d.start(v):d.end(v)])+"]")
}

func isTimestamp(n ast.Node) bool {
	if s, ok := scalarText(n); ok {
		return s == "timestamp"
	}
	m, ok := mappingOf(n)
	return ok && len(m.Values) == 1 && keyText(m.Values[0]) == "timestamp"
}

// quotedList writes items as a flow list of double-quoted strings (layouts
// hold spaces and colons).
func quotedList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

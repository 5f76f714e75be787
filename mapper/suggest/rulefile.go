package suggest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// ruleFile is a rule file's YAML tree, edited in place and printed back,
// keeping the parts no suggestion touches as they were written (comments
// included).
type ruleFile struct {
	f      *ast.File
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
	node       *ast.MappingNode
}

// enumEntry is one entry of an enum table; raw values (numbers, booleans,
// null) are written back as they were, string values quoted as needed.
type enumEntry struct {
	key, value string
	raw        bool
}

func parseRuleFile(data []byte) (*ruleFile, error) {
	f, err := parser.ParseBytes(data, parser.ParseComments)
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
	rf := &ruleFile{f: f, top: top}
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

// snippetValue parses `k: <text>` and returns the value node.
func snippetValue(text string) (ast.Node, error) {
	f, err := parser.ParseBytes([]byte("k: "+text+"\n"), 0)
	if err != nil {
		return nil, fmt.Errorf("build YAML %q: %w", text, err)
	}
	m, ok := mappingOf(f.Docs[0].Body)
	if !ok || len(m.Values) != 1 {
		return nil, fmt.Errorf("build YAML %q: not a value", text)
	}
	return m.Values[0].Value, nil
}

// setKey replaces the value of key in m (appending the key when absent)
// with the YAML flow text.
func setKey(m *ast.MappingNode, key, text string) error {
	v, err := snippetValue(text)
	if err != nil {
		return err
	}
	if kv := keyOf(m, key); kv != nil {
		kv.Value = v
		return nil
	}
	f, err := parser.ParseBytes([]byte(quote(key)+": "+text+"\n"), 0)
	if err != nil {
		return fmt.Errorf("build YAML: %w", err)
	}
	nm, _ := mappingOf(f.Docs[0].Body)
	m.Values = append(m.Values, nm.Values[0])
	return nil
}

// quote writes s as a YAML double-quoted scalar (JSON string syntax is
// valid YAML).
func quote(s string) string { return strconv.Quote(s) }

func flowList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func flowMap(entries []enumEntry) string {
	q := make([]string, len(entries))
	for i, e := range entries {
		v := e.value
		if !e.raw {
			v = yamlScalar(v)
		}
		q[i] = quote(e.key) + ": " + v
	}
	return "{" + strings.Join(q, ", ") + "}"
}

// yamlScalar keeps plain words as written and quotes anything else.
func yamlScalar(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) < 0 && !strings.ContainsAny(s[:1], "-0123456789") {
		return s
	}
	return quote(s)
}

func (rf *ruleFile) field(out string) *ast.MappingNode {
	if kv := keyOf(rf.fields, out); kv != nil {
		m, _ := mappingOf(kv.Value)
		return m
	}
	return nil
}

func (rf *ruleFile) setVersion(v int) error {
	return setKey(rf.top, "version", strconv.Itoa(v))
}

func (rf *ruleFile) String() string { return rf.f.String() }

// redact lists the rule file's redact paths as written.
func (rf *ruleFile) redact() []string {
	if kv := keyOf(rf.top, "redact"); kv != nil {
		return stringsOf(kv.Value)
	}
	return nil
}

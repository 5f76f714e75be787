package mapper

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/mapperhq/mapper/internal/yamlnode"
)

var topKeys = []string{"source", "version", "topics", "input_schema", "output_schema", "fields", "redact",
	"objective", "input_validation", "input_contract", "accept", "description"}

var fieldKeys = []string{"from", "required", "nullable", "default", "transform", "enum", "each", "cases", "description",
	"template", "default_from", "when"}

// load parses the file; it returns nil when it has problems, and the
// positions of the topics for conflict reports.
func (l *ruleLoader) load(data []byte) (*Source, [][2]int) {
	if line, col, what := scanBounds(data, l.opts.MaxRuleNesting); what != "" {
		l.ps.add(l.file, line, col, "%s", what)
		return nil, nil
	}
	data, l.redactFlowLine = flowRedactList(data)
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var se *yaml.SyntaxError
		if errors.As(err, &se) && se.Token != nil && se.Token.Position != nil {
			line, col, what := yamlnode.SyntaxPos(data, se.Message, se.Token.Position.Line, se.Token.Position.Column)
			if what == "" {
				what = se.Message
			}
			l.ps.add(l.file, line, col, "invalid YAML: %s", what)
		} else {
			l.ps.add(l.file, 0, 0, "invalid YAML: %v", err)
		}
		return nil, nil
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		l.ps.add(l.file, 1, 1, "expected exactly one YAML document with the rule set")
		return nil, nil
	}
	top, ok := l.mapping(f.Docs[0].Body, "the rule file")
	if !ok {
		return nil, nil
	}
	src := &Source{file: l.file, opts: l.opts, plan: &plan{fullShare: 1}}
	var topicPos [][2]int
	seen := map[string]bool{}
	var fieldsNode, redactNode ast.Node
	var inputName, outputName string
	var inputNode, outputNode ast.Node
	for _, kv := range top.Values {
		key := l.key(kv)
		if seen[key] {
			l.errAt(kv.Key, "duplicate key %q", key)
			continue
		}
		seen[key] = true
		v := unwrap(kv.Value)
		switch key {
		case "source":
			src.name, _ = l.str(v, "source")
			if src.name != "" && !validName(src.name) {
				l.errAt(v, "source %q: use letters, digits, '-', '_' and '.' only", src.name)
			}
		case "version":
			n, ok := v.(*ast.IntegerNode)
			if !ok {
				l.errAt(v, "version: expected a whole number, got %s", describeNode(v))
				break
			}
			iv, _ := strconv.Atoi(n.GetToken().Value)
			if iv < 1 {
				l.errAt(v, "version: expected a whole number of at least 1")
			}
			src.version = iv
		case "topics":
			for _, item := range l.strList(v, "topics") {
				src.topics = append(src.topics, item.s)
				topicPos = append(topicPos, [2]int{item.line, item.col})
			}
		case "input_schema":
			inputName, _ = l.str(v, "input_schema")
			inputNode = v
		case "output_schema":
			outputName, _ = l.str(v, "output_schema")
			outputNode = v
		case "fields":
			fieldsNode = v
		case "redact":
			redactNode = v
		case "objective":
			l.ratioSetting(v, "objective", "mapped_ratio", &src.objective.MappedRatio)
		case "input_validation":
			l.ratioSetting(v, "input_validation", "full_share", &src.plan.fullShare)
		case "accept":
			src.accept = l.accept(v)
		case "input_contract":
			l.inputContract(v, &src.plan.unread)
		case "description":
		default:
			l.errAt(kv.Key, "unknown key %q%s", key, didYouMean(key, topKeys))
		}
	}
	for _, req := range []string{"source", "version", "topics", "output_schema", "fields"} {
		if !seen[req] {
			l.errAt(f.Docs[0].Body, "missing required key %q", req)
		}
	}
	if inputName != "" {
		src.plan.input = l.schema(inputNode, "input_schema", inputName)
	}
	if outputName != "" {
		src.plan.output = l.schema(outputNode, "output_schema", outputName)
	}
	if fieldsNode != nil {
		src.plan.root = l.fields(fieldsNode, "fields")
	}
	if src.plan.root != nil && src.plan.output != nil {
		decimalOutputs(src.plan.root, []*checkNode{src.plan.output.check}, nil)
	}
	if src.plan.root != nil {
		src.plan.read = readPaths(src.plan.root, "", nil)
		src.plan.paths, src.plan.slots = flatPlan(src.plan.root)
		if src.plan.paths != nil && src.plan.output != nil {
			src.plan.outDepth = resolveOutChecks(src.plan.root, appendAllOf(nil, src.plan.output.check))
		}
	}
	src.plan.red = l.redaction(redactNode, src.plan)
	l.staticChecks(src, top)
	return src, topicPos
}

func validName(s string) bool {
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

// normalisePath turns "items[].sku" or "items.[].sku" into the failure-path form.
func normalisePath(s string) string {
	return strings.ReplaceAll(s, ".[]", "[]")
}

func (l *ruleLoader) schema(n ast.Node, key, name string) *schema {
	if s, ok := l.schemas.byName[name]; ok {
		return s
	}
	if l.schemas.files[name] {
		l.errAt(n, "%s %q cannot be used: the schema has problems", key, name)
		return nil
	}
	l.errAt(n, "%s %q not found in the schemas directory%s", key, name, didYouMean(name, l.schemas.names))
	return nil
}

// fields reads a mapping of output paths to field rules into an output tree.
func (l *ruleLoader) fields(n ast.Node, what string) *outNode {
	m, ok := l.mapping(n, what)
	if !ok {
		return nil
	}
	root := &outNode{}
	if len(m.Values) == 0 {
		l.errAt(n, "%s: no fields", what)
	}
	for _, kv := range m.Values {
		out := l.key(kv)
		rule := l.field(unwrap(kv.Value), out, what)
		if rule == nil {
			continue
		}
		if out == "." {
			if what == "fields" {
				l.errAt(kv.Key, `"." (the element itself) is only allowed inside each`)
				continue
			}
			if len(m.Values) > 1 {
				l.errAt(kv.Key, `"." (the element itself) must be the only field of each`)
				continue
			}
			root.kids = append(root.kids, &outNode{key: ".", rule: rule})
			continue
		}
		if n := strings.Count(out, ".") + 1; n > l.opts.MaxPathSegments {
			l.errAt(kv.Key, "%s: output path %s has %d segments, over the limit of %d (Options.MaxPathSegments)",
				what, quoteShort(out), n, l.opts.MaxPathSegments)
			continue
		}
		segs := strings.Split(out, ".")
		node := root
		okPath := true
		for i, seg := range segs {
			if seg == "" {
				l.errAt(kv.Key, "%s: output path %q has an empty segment", what, out)
				okPath = false
				break
			}
			var next *outNode
			for _, k := range node.kids {
				if k.key == seg {
					next = k
				}
			}
			last := i == len(segs)-1
			switch {
			case next == nil:
				next = &outNode{key: seg, keyLit: append(appendJSONString(nil, seg), ':')}
				node.kids = append(node.kids, next)
			case last || next.rule != nil:
				l.errAt(kv.Key, "%s: output path %q clashes with another field", what, out)
				okPath = false
			}
			if !okPath {
				break
			}
			node = next
		}
		if okPath {
			node.rule = rule
		}
	}
	return root
}

func (l *ruleLoader) field(n ast.Node, out, where string) *fieldRule {
	r := &fieldRule{out: out}
	m, ok := l.mapping(n, where+"."+out)
	if !ok {
		return nil
	}
	hasFrom, hasCases := false, false
	for _, kv := range m.Values {
		key := l.key(kv)
		v := unwrap(kv.Value)
		switch key {
		case "from":
			hasFrom = true
			for _, item := range l.strList(v, out+".from") {
				p, err := l.path(item.s)
				if err != nil {
					l.ps.add(l.file, item.line, item.col, "%s.from: %v", out, err)
					l.bad = true
					continue
				}
				r.from = append(r.from, p)
			}
		case "required":
			l.boolean(v, out+".required", &r.required)
		case "nullable":
			l.boolean(v, out+".nullable", &r.nullable)
		case "default":
			lit, err := yamlToJSON(v)
			if err != nil {
				l.errAt(v, "%s.default: %v", out, err)
				break
			}
			r.def = lit
		case "transform":
			r.transforms = l.transforms(v, out)
		case "enum":
			em, ok := l.mapping(v, out+".enum")
			if !ok {
				break
			}
			r.enum = map[string][]byte{}
			var keys []string
			for _, ekv := range em.Values {
				k := l.key(ekv)
				lit, err := yamlToJSON(unwrap(ekv.Value))
				if err != nil {
					l.errAt(ekv.Value, "%s.enum.%s: %v", out, k, err)
					continue
				}
				if _, dup := r.enum[k]; dup {
					l.errAt(ekv.Key, "%s.enum: duplicate value %q", out, k)
					continue
				}
				r.enum[k] = lit
				keys = append(keys, strconv.Quote(k))
			}
			if len(keys) > 8 {
				keys = append(keys[:8], fmt.Sprintf("… (%d in all)", len(keys)))
			}
			r.enumKeys = strings.Join(keys, ", ")
		case "each":
			r.each = l.fields(v, out+".each")
		case "cases":
			hasCases = true
			r.cases = l.cases(v, out)
		case "template", "default_from", "when":
			hasFrom = l.fieldExtra(r, key, v, out) || hasFrom
		case "description":
		default:
			l.errAt(kv.Key, "unknown key %q in field %q%s", key, out, didYouMean(key, fieldKeys))
		}
	}
	if !hasFrom && !hasCases {
		l.errAt(n, "field %q: needs from, template or cases", out)
	}
	if r.template != nil && (len(r.from) > 0 || r.each != nil) {
		l.errAt(n, "field %q: template cannot be combined with from or each", out)
	}
	if r.each != nil && (len(r.transforms) > 0 || r.enum != nil) {
		l.errAt(n, "field %q: each cannot be combined with transform or enum", out)
	}
	// A case's from is the field's from for that case: it keeps the
	// field's required, nullable and defaults.
	for i := range r.cases {
		if sub := r.cases[i].rule; sub != nil {
			sub.required, sub.nullable, sub.def, sub.defaultFrom = r.required, r.nullable, r.def, r.defaultFrom
		}
	}
	return r
}

// caseValueKeys are the keys of a case that give its value.
var caseValueKeys = []string{"value", "from", "transform", "enum"}

// cases reads a field's cases. Each case is {when: C, value: V} or {when:
// C, from: P, transform: ..., enum: ...}; when it is a path, the case's
// other keys may test its value (is, in, not, gt, gte, lt, lte).
func (l *ruleLoader) cases(n ast.Node, out string) []caseRule {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		l.errAt(n, "%s.cases: expected a list of {when, value} or {when, from}, got %s", out, describeNode(n))
		return nil
	}
	if len(seq.Values) == 0 {
		l.errAt(n, "%s.cases: the list is empty", out)
	}
	what := out + ".cases"
	var cs []caseRule
	for _, it := range seq.Values {
		m, ok := l.mapping(it, what)
		if !ok {
			continue
		}
		var c caseRule
		var whenNode ast.Node
		hasValue, bad := false, false
		var fromKeys []*ast.MappingValueNode
		for _, kv := range m.Values {
			v := unwrap(kv.Value)
			switch k := l.key(kv); k {
			case "when":
				whenNode = v
			case "value":
				hasValue = true
				lit, err := yamlToJSON(v)
				if err != nil {
					l.errAt(v, "%s.value: %v", what, err)
					bad = true
					continue
				}
				c.value = lit
			case "from", "transform", "enum":
				fromKeys = append(fromKeys, kv)
			}
		}
		hasFrom := false
		for _, kv := range fromKeys {
			hasFrom = hasFrom || l.key(kv) == "from"
		}
		tests := l.conditionTests(m, what, append([]string{"when"}, caseValueKeys...)...)
		switch {
		case whenNode == nil:
			l.errAt(it, "%s: each case needs when", what)
			continue
		case hasValue == hasFrom:
			l.errAt(it, "%s: each case needs either value or from (with its own transform and enum)", what)
			continue
		case hasValue && len(fromKeys) > 0:
			l.errAt(it, "%s: transform and enum go with from, not value", what)
			continue
		}
		if sn, isPath := whenNode.(*ast.StringNode); isPath {
			p, err := l.path(sn.Value)
			if err != nil {
				l.errAt(whenNode, "%s.when: %v", what, err)
				continue
			}
			c.when = condition{kind: condPath, path: p, tests: tests, pos: nodePos(whenNode)}
		} else {
			if len(tests) > 0 {
				l.errAt(it, "%s: with a condition as when, write the tests inside it ({path: P, is: x})", what)
				continue
			}
			var ok bool
			if c.when, ok = l.condition(whenNode, what+".when", 0); !ok {
				continue
			}
		}
		if hasFrom {
			sub := &ast.MappingNode{BaseNode: m.BaseNode, Values: fromKeys}
			if c.rule = l.field(sub, out, what); c.rule == nil {
				continue
			}
		}
		if !bad {
			cs = append(cs, c)
		}
	}
	return cs
}

// parseSrcPath reads a dotted source path; "." or "" means the value
// itself (inside each).
func parseSrcPath(s string) (srcPath, error) {
	if s == "." || s == "" {
		return srcPath{raw: ""}, nil
	}
	var anchor uint8
	switch {
	case s == "$root" || s == "$parent":
		return srcPath{}, fmt.Errorf("path %q: name a field after it (%s.x)", s, s)
	case strings.HasPrefix(s, "$root."):
		anchor, s = anchorRoot, s[len("$root."):]
	case strings.HasPrefix(s, "$parent."):
		anchor, s = anchorParent, s[len("$parent."):]
	case strings.HasPrefix(s, "$"):
		return srcPath{}, fmt.Errorf("path %q: only $root. and $parent. may start a path", s)
	}
	segs := strings.Split(s, ".")
	p := srcPath{raw: s, anchor: anchor, segs: segs, prefixes: make([]string, len(segs))}
	end := -1
	for i, seg := range segs {
		if seg == "" {
			return srcPath{}, fmt.Errorf("path %q has an empty segment", quoteShort(s))
		}
		if strings.ContainsAny(seg, "[]") {
			return srcPath{}, fmt.Errorf("path %s: read arrays with each, not []", quoteShort(s))
		}
		// Each prefix is a slice of s: linear in the path's length.
		end += 1 + len(seg)
		p.prefixes[i] = s[:end]
	}
	return p, nil
}

// path reads a source path of the rule file, refusing one longer than
// Options.MaxPathSegments before splitting it.
func (l *ruleLoader) path(s string) (srcPath, error) {
	if err := l.pathLength(s); err != nil {
		return srcPath{}, err
	}
	return parseSrcPath(s)
}

// pathLength refuses a path (source or redact) with more segments, [] of
// arrays included, than Options.MaxPathSegments, before it is split.
func (l *ruleLoader) pathLength(s string) error {
	if n := strings.Count(s, ".") + strings.Count(s, "[]") + 1; n > l.opts.MaxPathSegments {
		return fmt.Errorf("path %s has %d segments, over the limit of %d (Options.MaxPathSegments)", quoteShort(s), n, l.opts.MaxPathSegments)
	}
	return nil
}

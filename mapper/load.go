package mapper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Load reads every *.yaml (and *.yml) file of rulesDir, resolves its
// schemas in schemasDir and compiles them. A rule set with any problem is
// refused whole: the error is a *LoadError listing every problem with its
// file:line:col.
func Load(rulesDir, schemasDir string, opts Options) (*Engine, error) {
	if st, err := os.Stat(rulesDir); err != nil || !st.IsDir() {
		return nil, &LoadError{Problems: []Problem{{File: rulesDir, What: "rules directory not found"}}}
	}
	if st, err := os.Stat(schemasDir); err != nil || !st.IsDir() {
		return nil, &LoadError{Problems: []Problem{{File: schemasDir, What: "schemas directory not found"}}}
	}
	return LoadFS(os.DirFS(rulesDir), rulesDir, os.DirFS(schemasDir), schemasDir, opts)
}

// LoadFS is Load over file systems (for example embedded ones). The names
// prefix the file names in problem positions.
func LoadFS(rules fs.FS, rulesName string, schemas fs.FS, schemasName string, opts Options) (*Engine, error) {
	opts = opts.withDefaults()
	var ps problems
	sc := loadSchemas(schemas, schemasName, &ps)

	names, err := fs.Glob(rules, "*.y*ml")
	if err != nil {
		return nil, fmt.Errorf("list rules in %s: %w", rulesName, err)
	}
	e := &Engine{opts: opts, byName: map[string]*Source{}, byTopic: map[string]*Source{}}
	type claim struct {
		src       *Source
		line, col int
	}
	topics := map[string]claim{}
	for _, name := range names {
		if !IsRuleFile(name) {
			continue
		}
		file := path.Join(rulesName, name)
		data, err := fs.ReadFile(rules, name)
		if err != nil {
			ps.add(file, 0, 0, "cannot read: %v", err)
			continue
		}
		l := ruleLoader{file: file, ps: &ps, schemas: sc, opts: opts}
		src, topicPos := l.load(data)
		if src == nil {
			continue
		}
		// A file with problems is not kept, but its names and topics still
		// take part in the clash checks so that every problem is reported.
		if prev, dup := e.byName[src.name]; dup {
			ps.add(file, 1, 1, "source %q is already defined in %s", src.name, prev.file)
			continue
		}
		e.byName[src.name] = src
		e.sources = append(e.sources, src)
		for i, t := range src.topics {
			if c, dup := topics[t]; dup {
				ps.add(file, topicPos[i][0], topicPos[i][1], "topic %q is already claimed by source %q (%s:%d:%d)",
					t, c.src.name, c.src.file, c.line, c.col)
				continue
			}
			topics[t] = claim{src: src, line: topicPos[i][0], col: topicPos[i][1]}
			e.byTopic[t] = src
		}
	}
	if len(names) == 0 {
		ps.add(rulesName, 0, 0, "no rule files (*.yaml)")
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	sort.Slice(e.sources, func(i, j int) bool { return e.sources[i].name < e.sources[j].name })
	return e, nil
}

// schemaSet holds every schema of the schemas directory, compiled.
type schemaSet struct {
	byName map[string]*schema
	names  []string
}

func loadSchemas(fsys fs.FS, dirName string, ps *problems) *schemaSet {
	set := &schemaSet{byName: map[string]*schema{}}
	var files []string
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			ps.add(path.Join(dirName, p), 0, 0, "cannot read: %v", err)
			return nil
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	c := jsonschema.NewCompiler()
	c.AssertFormat = true
	c.Draft = jsonschema.Draft7
	good := map[string]bool{}
	for _, name := range files {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			ps.add(path.Join(dirName, name), 0, 0, "cannot read: %v", err)
			continue
		}
		if err := checkJSON(data); err != nil {
			line, col := lineCol(data, err.offset-1)
			ps.add(path.Join(dirName, name), line, col, "invalid JSON: %s", err.msg)
			continue
		}
		if err := c.AddResource(schemaURL(name), bytes.NewReader(data)); err != nil {
			ps.add(path.Join(dirName, name), 0, 0, "%v", err)
			continue
		}
		good[name] = true
	}
	for _, name := range files {
		if !good[name] {
			continue
		}
		full, err := c.Compile(schemaURL(name))
		if err != nil {
			ps.add(path.Join(dirName, name), 0, 0, "invalid schema: %s", schemaCompileError(err))
			continue
		}
		check, covered := deriveChecks(full)
		set.byName[name] = &schema{name: name, full: full, check: check, covered: covered, byLocation: indexLocations(full)}
		set.names = append(set.names, name)
	}
	return set
}

func schemaURL(name string) string { return "file:///mapper-schemas/" + name }

func schemaCompileError(err error) string {
	msg := err.Error()
	msg = strings.ReplaceAll(msg, "file:///mapper-schemas/", "")
	return strings.ReplaceAll(msg, "\n", "; ")
}

type jsonErr struct {
	offset int64
	msg    string
}

func checkJSON(data []byte) *jsonErr {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return &jsonErr{offset: se.Offset, msg: se.Error()}
		}
		return &jsonErr{offset: int64(len(data)), msg: err.Error()}
	}
	return nil
}

func lineCol(data []byte, offset int64) (int, int) {
	if offset < 0 {
		offset = 0
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line, col := 1, 1
	for _, c := range data[:offset] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// ruleLoader reads one rule file from its YAML syntax tree, so that every
// problem has a position and fields keep their order.
type ruleLoader struct {
	file    string
	ps      *problems
	schemas *schemaSet
	opts    Options
	bad     bool
}

func (l *ruleLoader) errAt(n ast.Node, format string, args ...any) {
	l.bad = true
	line, col := 0, 0
	if n != nil {
		if t := n.GetToken(); t != nil && t.Position != nil {
			line, col = t.Position.Line, t.Position.Column
		}
	}
	l.ps.add(l.file, line, col, format, args...)
}

var topKeys = []string{"source", "version", "topics", "input_schema", "output_schema", "fields", "redact",
	"objective", "input_validation", "description"}

var fieldKeys = []string{"from", "required", "nullable", "default", "transform", "enum", "each", "cases", "description"}

// load parses the file; it returns nil when it has problems, and the
// positions of the topics for conflict reports.
func (l *ruleLoader) load(data []byte) (*Source, [][2]int) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var se *yaml.SyntaxError
		if errors.As(err, &se) && se.Token != nil && se.Token.Position != nil {
			l.ps.add(l.file, se.Token.Position.Line, se.Token.Position.Column, "invalid YAML: %s", se.Message)
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
	if redactNode != nil {
		for _, item := range l.strList(redactNode, "redact") {
			p, err := parseSrcPath(item.s)
			if err != nil || len(p.segs) == 0 {
				l.ps.add(l.file, item.line, item.col, "redact: %q is not a field path", item.s)
				l.bad = true
				continue
			}
			src.redact = append(src.redact, item.s)
			src.plan.redact = append(src.plan.redact, normalisePath(item.s))
		}
	}
	if src.plan.root != nil {
		src.plan.redactOut = redactedOutputs(src.plan.root, "", src.plan.redact)
	}
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
	l.errAt(n, "%s %q not found in the schemas directory%s", key, name, didYouMean(name, l.schemas.names))
	return nil
}

func unwrap(n ast.Node) ast.Node {
	for {
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.TagNode:
			n = x.Value
		default:
			return n
		}
	}
}

func describeNode(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode:
		return "an integer"
	case *ast.FloatNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.NullNode:
		return "null"
	case *ast.AliasNode:
		return "an alias"
	}
	return "a value"
}

func (l *ruleLoader) mapping(n ast.Node, what string) (*ast.MappingNode, bool) {
	switch x := unwrap(n).(type) {
	case *ast.MappingNode:
		return x, true
	case *ast.MappingValueNode:
		return &ast.MappingNode{BaseNode: x.BaseNode, Values: []*ast.MappingValueNode{x}}, true
	}
	l.errAt(n, "%s: expected a mapping, got %s", what, describeNode(unwrap(n)))
	return nil, false
}

func (l *ruleLoader) key(kv *ast.MappingValueNode) string {
	switch k := kv.Key.(type) {
	case *ast.StringNode:
		return k.Value
	case *ast.MappingKeyNode:
		if s, ok := k.Value.(*ast.StringNode); ok {
			return s.Value
		}
	}
	if t := kv.Key.GetToken(); t != nil {
		return t.Value
	}
	return kv.Key.String()
}

func (l *ruleLoader) str(n ast.Node, what string) (string, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.LiteralNode:
		return x.Value.Value, true
	}
	l.errAt(n, "%s: expected a string, got %s", what, describeNode(n))
	return "", false
}

type posString struct {
	s         string
	line, col int
}

func pos(n ast.Node) (int, int) {
	if t := n.GetToken(); t != nil && t.Position != nil {
		return t.Position.Line, t.Position.Column
	}
	return 0, 0
}

// strList reads a string or a list of strings.
func (l *ruleLoader) strList(n ast.Node, what string) []posString {
	n = unwrap(n)
	var items []ast.Node
	if seq, ok := n.(*ast.SequenceNode); ok {
		items = seq.Values
		if len(items) == 0 {
			l.errAt(n, "%s: the list is empty", what)
		}
	} else {
		items = []ast.Node{n}
	}
	var out []posString
	for _, it := range items {
		it = unwrap(it)
		s, ok := l.str(it, what)
		if !ok {
			continue
		}
		line, col := pos(it)
		out = append(out, posString{s: s, line: line, col: col})
	}
	return out
}

// ratioSetting reads a mapping with the one key name, a number from 0 to 1,
// into dst ({mapped_ratio: 0.95}).
func (l *ruleLoader) ratioSetting(n ast.Node, what, name string, dst *float64) {
	m, ok := l.mapping(n, what)
	if !ok {
		return
	}
	for _, kv := range m.Values {
		if k := l.key(kv); k != name {
			l.errAt(kv.Key, "unknown key %q in %s%s", k, what, didYouMean(k, []string{name}))
			continue
		}
		if r, ok := l.ratio(unwrap(kv.Value), what+"."+name); ok {
			*dst = r
		}
	}
}

func (l *ruleLoader) ratio(n ast.Node, what string) (float64, bool) {
	var f float64
	switch x := n.(type) {
	case *ast.FloatNode:
		f = x.Value
	case *ast.IntegerNode:
		f, _ = strconv.ParseFloat(x.GetToken().Value, 64)
	default:
		l.errAt(n, "%s: expected a number between 0 and 1, got %s", what, describeNode(n))
		return 0, false
	}
	if f < 0 || f > 1 {
		l.errAt(n, "%s: expected a number between 0 and 1, got %v", what, f)
		return 0, false
	}
	return f, true
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
	hasFrom := false
	for _, kv := range m.Values {
		key := l.key(kv)
		v := unwrap(kv.Value)
		switch key {
		case "from":
			hasFrom = true
			for _, item := range l.strList(v, out+".from") {
				p, err := parseSrcPath(item.s)
				if err != nil {
					l.ps.add(l.file, item.line, item.col, "%s.from: %v", out, err)
					l.bad = true
					continue
				}
				r.from = append(r.from, p)
			}
		case "required":
			b, ok := v.(*ast.BoolNode)
			if !ok {
				l.errAt(v, "%s.required: expected true or false, got %s", out, describeNode(v))
				break
			}
			r.required = b.Value
		case "nullable":
			b, ok := v.(*ast.BoolNode)
			if !ok {
				l.errAt(v, "%s.nullable: expected true or false, got %s", out, describeNode(v))
				break
			}
			r.nullable = b.Value
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
			r.cases = l.cases(v, out)
		case "description":
		default:
			l.errAt(kv.Key, "unknown key %q in field %q%s", key, out, didYouMean(key, fieldKeys))
		}
	}
	if !hasFrom && len(r.cases) == 0 {
		l.errAt(n, "field %q: needs from (or cases)", out)
	}
	if r.each != nil && (len(r.transforms) > 0 || r.enum != nil) {
		l.errAt(n, "field %q: each cannot be combined with transform or enum", out)
	}
	return r
}

func (l *ruleLoader) cases(n ast.Node, out string) []caseRule {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		l.errAt(n, "%s.cases: expected a list of {when, is, value}, got %s", out, describeNode(n))
		return nil
	}
	var cs []caseRule
	for _, it := range seq.Values {
		m, ok := l.mapping(it, out+".cases")
		if !ok {
			continue
		}
		var c caseRule
		hasWhen, hasValue := false, false
		for _, kv := range m.Values {
			v := unwrap(kv.Value)
			switch k := l.key(kv); k {
			case "when":
				s, ok := l.str(v, out+".cases.when")
				if !ok {
					continue
				}
				p, err := parseSrcPath(s)
				if err != nil {
					l.errAt(v, "%s.cases.when: %v", out, err)
					continue
				}
				c.when, hasWhen = p, true
			case "is", "value":
				lit, err := yamlToJSON(v)
				if err != nil {
					l.errAt(v, "%s.cases.%s: %v", out, k, err)
					continue
				}
				if k == "is" {
					c.is = lit
				} else {
					c.value, hasValue = lit, true
				}
			default:
				l.errAt(kv.Key, "unknown key %q in %s.cases%s", k, out, didYouMean(k, []string{"when", "is", "value"}))
			}
		}
		if !hasWhen || !hasValue {
			l.errAt(it, "%s.cases: each case needs when and value", out)
			continue
		}
		cs = append(cs, c)
	}
	return cs
}

func (l *ruleLoader) transforms(n ast.Node, out string) []transformStep {
	var items []ast.Node
	if seq, ok := n.(*ast.SequenceNode); ok {
		items = seq.Values
	} else {
		items = []ast.Node{n}
	}
	var steps []transformStep
	for _, it := range items {
		it = unwrap(it)
		var name string
		var argNode ast.Node
		switch x := it.(type) {
		case *ast.StringNode:
			name = x.Value
		case *ast.MappingNode, *ast.MappingValueNode:
			m, _ := l.mapping(x, out+".transform")
			if len(m.Values) != 1 {
				l.errAt(it, "%s.transform: write a transform with an argument as {name: argument}", out)
				continue
			}
			name, argNode = l.key(m.Values[0]), unwrap(m.Values[0].Value)
		default:
			l.errAt(it, "%s.transform: expected a transform name, got %s", out, describeNode(it))
			continue
		}
		def, ok := lookupTransform(name)
		if !ok {
			l.errAt(it, "unknown transform %q%s", name, didYouMean(name, transformNames))
			continue
		}
		step := transformStep{name: name, fn: def.fn}
		if argNode != nil {
			arg := &transformArg{}
			switch def.arg {
			case "string":
				s, ok := l.str(argNode, out+".transform."+name)
				if !ok {
					continue
				}
				if s == "" {
					l.errAt(argNode, "%s.transform.%s: the separator is empty", out, name)
					continue
				}
				arg.str = s
			case "int":
				d := -1
				if in, ok := argNode.(*ast.IntegerNode); ok {
					d, _ = strconv.Atoi(in.GetToken().Value)
				}
				if d < 0 || d > 18 {
					l.errAt(argNode, "%s.transform.%s: expected a number of decimal places (0-18)", out, name)
					continue
				}
				arg.n = d
				if d == 0 {
					arg.n = -1
				}
			case "layouts":
				for _, ps := range l.strList(argNode, out+".transform."+name) {
					arg.layouts = append(arg.layouts, ps.s)
				}
			default:
				l.errAt(argNode, "%s.transform: %s takes no argument", out, name)
				continue
			}
			step.arg = arg
		}
		steps = append(steps, step)
	}
	return steps
}

// parseSrcPath reads a dotted source path; "." or "" means the value
// itself (inside each).
func parseSrcPath(s string) (srcPath, error) {
	if s == "." || s == "" {
		return srcPath{raw: ""}, nil
	}
	segs := strings.Split(s, ".")
	p := srcPath{raw: s, segs: segs, prefixes: make([]string, len(segs))}
	for i, seg := range segs {
		if seg == "" {
			return srcPath{}, fmt.Errorf("path %q has an empty segment", s)
		}
		if strings.ContainsAny(seg, "[]") {
			return srcPath{}, fmt.Errorf("path %q: read arrays with each, not []", s)
		}
		p.prefixes[i] = strings.Join(segs[:i+1], ".")
	}
	return p, nil
}

// yamlToJSON converts a YAML value into a compact JSON literal.
func yamlToJSON(n ast.Node) ([]byte, error) {
	var out []byte
	var conv func(n ast.Node) error
	conv = func(n ast.Node) error {
		switch x := unwrap(n).(type) {
		case *ast.StringNode:
			out = appendJSONString(out, x.Value)
		case *ast.LiteralNode:
			out = appendJSONString(out, x.Value.Value)
		case *ast.IntegerNode:
			out = append(out, x.GetToken().Value...)
			if _, err := strconv.ParseInt(x.GetToken().Value, 10, 64); err != nil {
				return fmt.Errorf("integer %s is not in plain decimal form", x.GetToken().Value)
			}
		case *ast.FloatNode:
			out = strconv.AppendFloat(out, x.Value, 'g', -1, 64)
		case *ast.BoolNode:
			out = strconv.AppendBool(out, x.Value)
		case *ast.NullNode:
			out = append(out, "null"...)
		case *ast.SequenceNode:
			out = append(out, '[')
			for i, it := range x.Values {
				if i > 0 {
					out = append(out, ',')
				}
				if err := conv(it); err != nil {
					return err
				}
			}
			out = append(out, ']')
		case *ast.MappingNode:
			out = append(out, '{')
			for i, kv := range x.Values {
				if i > 0 {
					out = append(out, ',')
				}
				out = appendJSONString(out, kv.Key.GetToken().Value)
				out = append(out, ':')
				if err := conv(kv.Value); err != nil {
					return err
				}
			}
			out = append(out, '}')
		case *ast.MappingValueNode:
			// A one-key mapping written inline.
			return conv(&ast.MappingNode{BaseNode: x.BaseNode, Values: []*ast.MappingValueNode{x}})
		default:
			return fmt.Errorf("unsupported YAML value %s", describeNode(x))
		}
		return nil
	}
	if err := conv(n); err != nil {
		return nil, err
	}
	return out, nil
}

// redactedOutputs lists the output paths whose value is read from, or from
// inside, a redacted source path.
func redactedOutputs(n *outNode, prefix string, redact []string) []string {
	var out []string
	for _, k := range n.kids {
		p := k.key
		if prefix != "" {
			p = prefix + "." + k.key
		}
		if k.rule == nil {
			out = append(out, redactedOutputs(k, p, redact)...)
			continue
		}
		for _, f := range k.rule.from {
			if underAny(f.raw, redact) || anyUnder(redact, f.raw) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// anyUnder reports whether some path lies inside field.
func anyUnder(paths []string, field string) bool {
	for _, p := range paths {
		if under(p, field) {
			return true
		}
	}
	return false
}

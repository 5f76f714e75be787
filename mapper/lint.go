package mapper

import (
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/mapperhq/mapper/internal/yamlnode"
)

// Static checks of a rule file against its input schema: rule bugs that
// would otherwise show up as data failures on every record. A path the
// schema rules out, an each over what is not an array, a transform whose
// input the schema rules out, an enum key the schema's enum never gives, a
// redact path the schema cannot have, an accept predicate on a path the
// schema rules out: each is a load problem at the place
// in the rule file, saying what the schema says. Where the schema is
// silent about a path the rules read, a warning says so. When the schema
// uses keywords the derived checks do not read (oneOf, anyOf, not, if,
// patternProperties, …), what it rules out is not certain, and the
// problems are warnings.

// posIndex maps a place in the rule file's YAML to its position: keys are
// the mapping keys and sequence indexes on the way, joined by "\x00"; a
// mapping key's own entry ends in "\x00:".
type posIndex map[string][2]int

const posSep = "\x00"

func indexPositions(n ast.Node) posIndex {
	idx := posIndex{}
	var walk func(n ast.Node, at string)
	walk = func(n ast.Node, at string) {
		n = unwrap(n)
		line, col := yamlnode.Pos(n)
		if _, ok := idx[at]; !ok {
			idx[at] = [2]int{line, col}
		}
		switch x := n.(type) {
		case *ast.MappingNode:
			for _, kv := range x.Values {
				k := at + posSep + yamlnode.Key(kv)
				kl, kc := yamlnode.Pos(kv.Key)
				idx[k+posSep+":"] = [2]int{kl, kc}
				walk(kv.Value, k)
			}
		case *ast.MappingValueNode:
			walk(&ast.MappingNode{BaseNode: x.BaseNode, Values: []*ast.MappingValueNode{x}}, at)
		case *ast.SequenceNode:
			for i, it := range x.Values {
				walk(it, at+posSep+strconv.Itoa(i))
			}
		}
	}
	walk(n, "")
	return idx
}

// item is the position of the i-th item of a string-or-list value at.
func (idx posIndex) item(at string, i int) [2]int {
	if p, ok := idx[at+posSep+strconv.Itoa(i)]; ok {
		return p
	}
	return idx[at]
}

// linter runs the static checks of one source.
type linter struct {
	l      *ruleLoader
	idx    posIndex
	strict bool // the schema's checks cover it: what it rules out is certain
	// frames are the schema views $root and $parent paths read from: the
	// record, then the value holding each array being walked.
	frames []lintFrame
}

type lintFrame struct {
	base []*checkNode
	path string
}

// staticChecks checks the compiled source against its input schema, with
// the positions of body (the rule file's top mapping). It runs only on a
// file with no other problem.
func (l *ruleLoader) staticChecks(src *Source, body ast.Node) {
	if l.bad || src.plan.root == nil {
		return
	}
	c := &linter{l: l, idx: indexPositions(body)}
	var base []*checkNode
	if in := src.plan.input; in != nil {
		base = []*checkNode{in.check}
		c.strict = in.covered
	}
	c.frames = []lintFrame{{base: base}}
	c.fields(src.plan.root, posSep+"fields", base, "", src.plan.input != nil)
	for i := range src.accept {
		src.accept[i].leaves(func(a *predicate) {
			if a.header == "" {
				c.path(a.pos, "accept path", a.path, base, "", src.plan.input != nil)
			}
		})
	}
}

// problem reports a rule bug: an error when the schema is certain, a
// warning otherwise.
func (c *linter) problem(p [2]int, format string, args ...any) {
	if c.strict {
		c.l.errAt2(p, format, args...)
		return
	}
	c.l.warnAt(p, format+" (the schema uses keywords these checks do not read, so this may be wrong)", args...)
}

// fields checks every field rule under node; at is the YAML place of the
// fields mapping, base the schema nodes of the context value (the record,
// or an element inside each) and basePath its normalised path.
func (c *linter) fields(node *outNode, at string, base []*checkNode, basePath string, hasSchema bool) {
	for _, kid := range node.kids {
		if kid.rule == nil {
			c.fields(kid, at, base, basePath, hasSchema)
			continue
		}
		c.field(kid.rule, at+posSep+kid.rule.out, base, basePath, hasSchema)
	}
}

func (c *linter) field(r *fieldRule, at string, base []*checkNode, basePath string, hasSchema bool) {
	if r.when != nil {
		r.when.leaves(func(leaf *condition) { c.path(leaf.pos, "when", leaf.path, base, basePath, hasSchema) })
	}
	for i := range r.transforms {
		if a := r.transforms[i].arg; a != nil && a.currency != nil {
			c.path(c.transformPos(at, i, r.transforms[i].name), "currency_from", *a.currency, base, basePath, hasSchema)
		}
	}
	for i := range r.defaultFrom {
		c.path(c.idx.item(at+posSep+"default_from", i), "default_from", r.defaultFrom[i], base, basePath, hasSchema)
	}
	if r.template != nil {
		for i := range r.template.parts {
			c.path(c.idx[at+posSep+"template"], "template part", r.template.parts[i].path, base, basePath, hasSchema)
		}
	}
	for i := range r.cases {
		r.cases[i].when.leaves(func(leaf *condition) { c.path(leaf.pos, "cases.when", leaf.path, base, basePath, hasSchema) })
		if sub := r.cases[i].rule; sub != nil {
			c.field(sub, at+posSep+"cases"+posSep+strconv.Itoa(i), base, basePath, hasSchema)
		}
	}
	// enumFroms are the from paths an enum table reads, with the values
	// the schema allows at each; open is set when one of them may give
	// any value.
	var enumFroms []enumFrom
	open := false
	for i := range r.from {
		f := &r.from[i]
		p := c.idx.item(at+posSep+"from", i)
		v, ok := c.path(p, "from", *f, base, basePath, hasSchema)
		if !ok {
			open = open || v.impossible == ""
			continue
		}
		_, bp := c.anchored(f, base, basePath)
		if r.each != nil {
			if v.types != 0 && v.types&tArray == 0 {
				hint := ""
				if kids := v.arrayChildren(); len(kids) > 0 {
					hint = " (did you mean " + quote(fieldPath(f.raw, kids[0])) + "?)"
				}
				c.problem(p, "each over %q: the input schema says %s is %s, not an array%s",
					f.text(), fieldPath(bp, f.raw), typeArticle(v.types), hint)
				continue
			}
			c.frames = append(c.frames, lintFrame{base: base, path: basePath})
			c.fields(r.each, at+posSep+"each", v.elements(), fieldPath(bp, f.raw)+"[]", hasSchema)
			c.frames = c.frames[:len(c.frames)-1]
			continue
		}
		t := v.types
		for j := range r.transforms {
			step := &r.transforms[j]
			if t != 0 && t&step.in == 0 {
				tp := c.transformPos(at, j, step.name)
				if j == 0 {
					c.problem(tp, "transform %s on %q: the input schema says %s is %s; %s takes %s",
						step.name, f.text(), fieldPath(bp, f.raw), typeArticle(t), step.name, typeArticle(step.in))
				} else {
					c.l.errAt2(tp, "transform %s gets %s from %s; it takes %s",
						step.name, typeArticle(t), r.transforms[j-1].name, typeArticle(step.in))
				}
				break
			}
			if step.out != 0 {
				t = step.out
			} else if t&^step.in != 0 {
				t &= step.in
			}
		}
		if allowed, ok := v.enumValues(); ok {
			enumFroms = append(enumFroms, enumFrom{path: f.raw, allowed: allowed})
		} else {
			open = true
		}
	}
	if r.enum != nil && len(r.transforms) == 0 && !open && len(enumFroms) > 0 {
		c.enumKeys(r, at, enumFroms)
	}
}

// enumFrom is a from path whose values the input schema's enum lists.
type enumFrom struct {
	path    string
	allowed []enumValue
}

// path checks one source path against the schema and returns the view at
// it; false when the path is impossible or the schema is silent.
func (c *linter) path(p [2]int, key string, sp srcPath, base []*checkNode, basePath string, hasSchema bool) (schemaView, bool) {
	if !hasSchema || len(sp.segs) == 0 {
		if !hasSchema {
			return schemaView{}, false
		}
		v := viewAt(base, basePath, nil)
		return v, len(v.nodes) > 0
	}
	base, basePath = c.anchored(&sp, base, basePath)
	v := viewAt(base, basePath, sp.segs)
	switch {
	case v.impossible != "":
		c.problem(p, "%s %q can never be present: %s", key, sp.text(), v.impossible)
		return v, false
	case len(v.nodes) == 0 && len(base) > 0:
		c.l.warnAt(p, "%s %q: the input schema says nothing about %s", key, sp.text(), v.silentFrom)
		return v, false
	}
	return v, len(v.nodes) > 0
}

// enumKeys reports enum table keys that the schema's own enum never gives
// at any of the field's from paths: the rules and the contract disagree,
// and the key is dead (mapper suggest adds a new value to both).
func (c *linter) enumKeys(r *fieldRule, at string, froms []enumFrom) {
	for key := range r.enum {
		found := false
		for _, f := range froms {
			found = found || slices.ContainsFunc(f.allowed, func(e enumValue) bool { return e.givesKey(key) })
		}
		if found {
			continue
		}
		says := make([]string, len(froms))
		for i, f := range froms {
			texts := make([]string, len(f.allowed))
			for j, e := range f.allowed {
				texts[j] = e.text()
			}
			says[i] = f.path + " only " + quoteAll(texts)
		}
		p := c.idx[at+posSep+"enum"+posSep+key+posSep+":"]
		c.problem(p, "enum key %q can never match: the input schema allows %s", key, strings.Join(says, "; "))
	}
}

func (c *linter) transformPos(at string, j int, name string) [2]int {
	if p, ok := c.idx[at+posSep+"transform"+posSep+strconv.Itoa(j)]; ok {
		return p
	}
	if p, ok := c.idx[at+posSep+"transform"+posSep+name+posSep+":"]; ok {
		return p
	}
	return c.idx[at+posSep+"transform"]
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func (l *ruleLoader) errAt2(p [2]int, format string, args ...any) {
	l.bad = true
	l.ps.add(l.file, p[0], p[1], format, args...)
}

func (l *ruleLoader) warnAt(p [2]int, format string, args ...any) {
	l.ps.warn(l.file, p[0], p[1], format, args...)
}

// anchored is the schema view and path a source path is read from.
func (c *linter) anchored(p *srcPath, base []*checkNode, basePath string) ([]*checkNode, string) {
	switch p.anchor {
	case anchorRoot:
		return c.frames[0].base, c.frames[0].path
	case anchorParent:
		f := c.frames[len(c.frames)-1]
		return f.base, f.path
	}
	return base, basePath
}

package mapper

import (
	"bytes"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// flowRedactList lets a one-line flow list name array paths as written
// everywhere else: `redact: [customer.email, lines[].sku]`. YAML forbids
// [ and ] inside a plain scalar of a flow list, so on that line (a
// top-level `redact: [...]` holding "[]" and no "()") each "[]" inside the
// list becomes "()", which keeps every position, and the redact list reads
// it back. It returns data unchanged (and 0) when there is no such line,
// else a copy and the line number.
// ParsableRuleText is a rule file's text as the loader parses it: a flow
// redact list's array paths ("lines[].sku") written as YAML can read them,
// byte for byte the same length, so node positions hold for the original
// text. Tools that edit rule files in place parse this and edit the
// original.
func ParsableRuleText(data []byte) []byte {
	out, _ := flowRedactList(data)
	return out
}

func flowRedactList(data []byte) ([]byte, int) {
	start, line := 0, 1
	for start < len(data) {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += start
		}
		text := data[start:end]
		if rest, ok := bytes.CutPrefix(text, []byte("redact:")); ok {
			open := bytes.IndexByte(rest, '[')
			closing := bytes.LastIndexByte(rest, ']')
			if open < 0 || len(bytes.TrimSpace(rest[:open])) > 0 || closing <= open {
				return data, 0
			}
			inner := rest[open+1 : closing]
			if !bytes.Contains(inner, []byte("[]")) || bytes.Contains(inner, []byte("()")) {
				return data, 0
			}
			out := bytes.Clone(data)
			at := start + len("redact:") + open + 1
			copy(out[at:], bytes.ReplaceAll(inner, []byte("[]"), []byte("()")))
			return out, line
		}
		start, line = end+1, line+1
	}
	return data, 0
}

// redaction compiles the rule file's `redact:` list (n may be nil) for a
// plan whose fields and schemas are loaded. Each path must parse, and must
// follow the input schema's shape when there is one: crossing an array
// without [] ("lines.sku" where lines is an array) is an error at the
// path's position.
func (l *ruleLoader) redaction(n ast.Node, p *plan) *redaction {
	if n == nil {
		return nil
	}
	r := &redaction{in: &redactNode{}, known: map[string]struct{}{}}
	for _, item := range l.strList(n, "redact") {
		if item.line == l.redactFlowLine {
			item.s = strings.ReplaceAll(item.s, "()", "[]")
		}
		if err := l.pathLength(item.s); err != nil {
			l.ps.add(l.file, item.line, item.col, "redact: %v", err)
			l.bad = true
			continue
		}
		steps, err := parseFieldPath(item.s)
		if err != nil {
			l.ps.add(l.file, item.line, item.col, "redact: %v", err)
			l.bad = true
			continue
		}
		if p.input != nil && p.input.check != nil {
			if msg, fix := fitSchema(p.input.check, steps, p.input.covered); msg != "" {
				if fix != "" {
					msg += ` (write "` + fix + `")`
				}
				l.ps.add(l.file, item.line, item.col, "redact: %q: %s", item.s, msg)
				l.bad = true
				continue
			}
		}
		r.paths = append(r.paths, formatFieldPath(steps))
		r.in.add(steps)
		for _, st := range steps {
			if !st.elem {
				r.known[st.key] = struct{}{}
			}
		}
	}
	if len(r.paths) == 0 {
		return nil
	}
	r.withheld = make(map[Reason]string, len(Reasons()))
	for _, reason := range Reasons() {
		r.withheld[reason] = withheldDetail(reason)
	}
	if p.root != nil {
		r.outPaths = redactedOutputs(p.root, "", []string{""}, []string{""}, r.paths)
		r.out = &redactNode{}
		for _, op := range r.outPaths {
			if steps, err := parseFieldPath(op); err == nil {
				r.out.add(steps)
			}
		}
		ruleNames(p.root, r.known)
	}
	if p.input != nil && p.input.check != nil {
		schemaNames(p.input.check, r.known, map[*checkNode]bool{})
	}
	return r
}

// redactedOutputs lists the output paths (normalised, with [] for each
// element of an `each`) whose value is read from, from inside, or from
// above a redacted payload path (by from, default_from or a template part),
// or chosen by a case or a when on one. srcPrefixes are the payload paths
// that the rules' paths are relative to (the elements of an each: one per
// from alternative); parentPrefixes are those $parent paths are relative to
// (the value holding the array each walks); $root paths are relative to
// the record.
func redactedOutputs(n *outNode, outPrefix string, srcPrefixes, parentPrefixes []string, redact []string) []string {
	var out []string
	for _, k := range n.kids {
		p := k.key
		switch {
		case k.key == ".":
			p = outPrefix
		case outPrefix != "":
			p = outPrefix + "." + k.key
		}
		if k.rule == nil {
			out = append(out, redactedOutputs(k, p, srcPrefixes, parentPrefixes, redact)...)
			continue
		}
		// An each's output holds only what its fields read, so a redacted
		// path inside its elements is left to them.
		prefixes := func(sp *srcPath) []string {
			switch sp.anchor {
			case anchorRoot:
				return []string{""}
			case anchorParent:
				return parentPrefixes
			}
			return srcPrefixes
		}
		touches := func(sp *srcPath, inside bool) bool {
			for _, pre := range prefixes(sp) {
				f := fieldPath(pre, sp.raw)
				if underAny(f, redact) || inside && anyUnder(redact, f) {
					return true
				}
			}
			return false
		}
		hit := false
		var elems []string
		for _, from := range [2][]srcPath{k.rule.from, k.rule.defaultFrom} {
			for i := range from {
				if touches(&from[i], k.rule.each == nil) {
					hit = true
				}
				for _, pre := range prefixes(&from[i]) {
					elems = append(elems, fieldPath(pre, from[i].raw)+"[]")
				}
			}
		}
		k.rule.condPaths(func(p *srcPath) { hit = touches(p, true) || hit })
		if t := k.rule.template; t != nil {
			for i := range t.parts {
				if touches(&t.parts[i].path, true) {
					hit = true
				}
			}
		}
		switch {
		case hit:
			out = append(out, p)
		case k.rule.each != nil:
			out = append(out, redactedOutputs(k.rule.each, p+"[]", elems, srcPrefixes, redact)...)
		}
	}
	return out
}

// ruleNames adds the keys of every from and case path of the rules.
func ruleNames(n *outNode, names map[string]struct{}) {
	for _, k := range n.kids {
		if k.rule == nil {
			ruleNames(k, names)
			continue
		}
		for _, f := range k.rule.from {
			for _, s := range f.segs {
				names[s] = struct{}{}
			}
		}
		k.rule.condPaths(func(p *srcPath) {
			for _, s := range p.segs {
				names[s] = struct{}{}
			}
		})
		if k.rule.each != nil {
			ruleNames(k.rule.each, names)
		}
	}
}

// schemaNames adds the property names of the schema's check tree.
func schemaNames(n *checkNode, names map[string]struct{}, seen map[*checkNode]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	for _, p := range n.props {
		names[p.name] = struct{}{}
		schemaNames(p.node, names, seen)
	}
	schemaNames(n.additional, names, seen)
	schemaNames(n.items, names, seen)
	for _, m := range n.allOf {
		schemaNames(m, names, seen)
	}
}

package suggest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// absentSuggestion proposes the edit for a field that is missing or null:
// for a field no rule reads, the contract edit (required dropped, null
// allowed); for a read one, a fallback path that carries the same values
// (verified in the records that have both), else nullable, a default from
// the output schema, or a when naming the records that never carry it.
func absentSuggestion(in Input, rf *ruleFile, fields []fieldInfo, ev *evidence, reason mapper.Reason, field string, ss []*samples.Sample) (*Suggestion, string) {
	fi := readsFrom(fields, field)
	if fi == nil && readsUnder(fields, field) {
		return nil, fmt.Sprintf("%s is %s, and the rules read under it (%s); no other path carries it", field, absentWord(reason), strings.Join(readPathsUnder(fields, field), ", "))
	}
	if fi == nil {
		if reason == mapper.ReasonMissingField {
			return optionalSuggestion(in.Source, field)
		}
		return nullContract(in.Source, field, KindContractProperty, "no rule reads it")
	}
	if strings.Contains(field, "[]") {
		return nil, field + " is inside an array: fallbacks are proposed for fields outside arrays only"
	}
	if s, why := fallbackSuggestion(in, rf, fields, ev, fi, field, ss); s != nil || why != "" {
		return s, why
	}
	if reason == mapper.ReasonNullField {
		if fi.hasDefault || fi.nullable {
			return nullContract(in.Source, field, KindNullable, fmt.Sprintf("the rule of %s already copes with null (its default or nullable)", fi.out))
		}
		outs, _ := in.Source.OutputNodes(fi.out)
		for _, n := range outs {
			if slices.Contains(n.Types, "null") {
				s := &Suggestion{Kind: KindNullable, Field: fi.out,
					Edit: fmt.Sprintf("%s: nullable: true (the output schema %s allows null)", fi.out, n.File)}
				out := fi.out
				s.apply = func(e *ruleEdits) error { e.field(out).set("nullable", "true"); return nil }
				if c, _ := nullContract(in.Source, field, KindNullable, ""); c != nil {
					s.SchemaEdits = c.SchemaEdits
					s.Edit += "; " + c.Edit
				}
				return s, ""
			}
		}
	}
	if def, file := outputDefault(in, fi.out); def != "" {
		s := &Suggestion{Kind: KindDefault, Field: fi.out,
			Edit: fmt.Sprintf("%s: default %s (the output schema %s's default)", fi.out, def, file)}
		out := fi.out
		s.apply = func(e *ruleEdits) error { e.field(out).set("default", def); return nil }
		return s, ""
	}
	if d, vals := discriminator(ev, field, ss); d != "" && !outputRequires(in.Source, fi.out) && !strings.Contains(fi.out, ".") {
		s := &Suggestion{Kind: KindWhen, Field: fi.out,
			Edit: fmt.Sprintf("%s: when %s is not %s (%s is absent exactly when %s is %s; the output schema does not require %s)",
				fi.out, d, strings.Join(vals, " or "), field, d, strings.Join(vals, " or "), fi.out)}
		out, cond := fi.out, "{path: "+yamlScalar(d)+", not: "+flowList(vals)+"}"
		s.apply = func(e *ruleEdits) error { e.field(out).set("when", cond); return nil }
		return s, ""
	} else if d != "" {
		return nil, fmt.Sprintf("%s is absent exactly when %s is %s; a when would leave %s out, which the output schema requires: no rule edit maps these records (stop accepting them, or widen the domain)",
			field, d, strings.Join(vals, " or "), fi.out)
	}
	return nil, fmt.Sprintf("no other path of these records carries %s's values, the output schema gives %s no default and requires it", field, fi.out)
}

// fallbackSuggestion searches the failing records for a path that carries
// the values field used to: present in every failing record, and equal to
// field's value in every kept record that has both. A path of the same
// parent with a similar name is a rename (renamed_field, proposed even when
// no record has both, as long as none disagrees); any other path must be
// confirmed by at least one record and is a move (moved_field).
func fallbackSuggestion(in Input, rf *ruleFile, fields []fieldInfo, ev *evidence, fi *fieldInfo, field string, ss []*samples.Sample) (*Suggestion, string) {
	var failing []any
	for _, s := range ss {
		if d := ev.docs[s]; d != nil {
			failing = append(failing, d)
		}
	}
	if len(failing) == 0 {
		return nil, ""
	}
	read := map[string]bool{}
	for _, f := range fields {
		for _, p := range f.from {
			read[p] = true
		}
	}
	present := map[string]int{}
	for _, d := range failing {
		for _, p := range leaves(d) {
			present[p]++
		}
	}
	parent, name := parentOf(field)
	redacted := in.Source.IsRedacted(field)
	type cand struct {
		path           string
		agree, against int
		rename, root   bool
		similar        bool
	}
	var cands []cand
	for p, n := range present {
		if n < len(failing) || p == field || read[p] || strings.HasPrefix(p, field+".") || in.Source.IsRedacted(p) && !redacted {
			continue
		}
		pp, pn := parentOf(p)
		c := cand{path: p, rename: pp == parent, root: rootOf(p) == rootOf(field), similar: similarName(name, pn) || sharesWord(name, p)}
		if !c.similar {
			continue
		}
		for _, s := range ev.all {
			d := ev.docs[s]
			old, ok1 := lookup(d, field)
			now, ok2 := lookup(d, p)
			if !ok1 || !ok2 || old == nil || now == nil {
				continue
			}
			if redacted || sameValue(old, now) {
				c.agree++
			} else {
				c.against++
			}
		}
		if c.against > 0 || (!c.rename && c.agree == 0) || (redacted && !c.rename) {
			continue
		}
		cands = append(cands, c)
	}
	if len(cands) == 0 {
		return nil, ""
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.rename != b.rename {
			return a.rename
		}
		if a.root != b.root {
			return a.root
		}
		if a.agree != b.agree {
			return a.agree > b.agree
		}
		return a.path < b.path
	})
	best := cands[0]
	kind := KindMovedField
	if best.rename {
		kind = KindRenamedField
	}
	from := insertAfter(fi.from, field, best.path)
	s := &Suggestion{Kind: kind, Field: fi.out, Values: []Value{{Text: best.path, Count: uint64(len(failing))}},
		Edit: fmt.Sprintf("%s: read from %s (%s absent while %s carries a value in %d of %d failing samples; equal to %s in %d of %d kept records that carry both)",
			fi.out, flowList(from), field, best.path, len(failing), len(failing), field, best.agree, best.agree)}
	if best.agree == 0 {
		s.Review = append(s.Review, fmt.Sprintf("no kept record carries both %s and %s: check that they mean the same", field, best.path))
	}
	var newRedact []string
	if redacted {
		newRedact = append(slices.Clone(rf.redact()), best.path)
		s.Edit += fmt.Sprintf("; redact %s too, as %s is", best.path, field)
	}
	s.SchemaEdits = append(s.SchemaEdits, optionalEdits(in.Source, field)...)
	for _, e := range s.SchemaEdits {
		s.Edit += fmt.Sprintf("; input schema %s#%s: %s no longer required", e.File, e.Pointer, e.Name)
	}
	out, path := fi.out, best.path
	s.apply = func(e *ruleEdits) error {
		fe := e.field(out)
		fe.from = insertAfter(e.fromOf(out), field, path)
		if newRedact != nil {
			e.redact = newRedact
		}
		return nil
	}
	return s, ""
}

// sharesWord: the last name of path and name share a word of three letters
// or more ("html_url", "_links.html.href").
func sharesWord(name, path string) bool {
	split := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == '_' || r == '.' || r == '-' })
	}
	words := split(path)
	for _, w := range split(name) {
		if len(w) >= 3 && slices.Contains(words, w) {
			return true
		}
	}
	return false
}

// insertAfter returns list with item inserted after at (at the end when at
// is not in it).
func insertAfter(list []string, at, item string) []string {
	out := make([]string, 0, len(list)+1)
	done := false
	for _, p := range list {
		out = append(out, p)
		if p == at && !done {
			out, done = append(out, item), true
		}
	}
	if !done {
		out = append(out, item)
	}
	return out
}

// insertBefore returns list with item inserted before at.
func insertBefore(list []string, at, item string) []string {
	out := make([]string, 0, len(list)+1)
	for _, p := range list {
		if p == at {
			out = append(out, item)
		}
		out = append(out, p)
	}
	return out
}

// typeSuggestion proposes the edit for a value of the wrong JSON type: an
// id that now arrives as its expanded object (id_or_object), a number sent
// as a string (number_transform, or the input schema widened when the rule
// already converts it), or the contract widened at a field no rule reads.
func typeSuggestion(in Input, fields []fieldInfo, ev *evidence, field string, values []Value, ss []*samples.Sample) (*Suggestion, string) {
	fi := readsFrom(fields, field)
	if fi == nil && readsUnder(fields, field) {
		return nil, fmt.Sprintf("%s has the wrong type, and the rules read it (%s): no transform of a top-level field converts it", field, strings.Join(readPathsUnder(fields, field), ", "))
	}
	types := map[string]int{}
	var objs []map[string]any
	for _, s := range ss {
		if v, ok := lookup(ev.docs[s], field); ok {
			types[jsonType(v)]++
			if m, ok := v.(map[string]any); ok {
				objs = append(objs, m)
			}
		}
	}
	if fi == nil {
		// The types all the traffic showed, beyond the kept few.
		driftTypes(in.Drift, field, types)
		return widenContract(in.Source, field, types, KindContractProperty, "no rule reads it")
	}
	if len(objs) > 0 && len(objs) == len(ss) {
		return idOrObject(in, ev, fi, field, objs)
	}
	if s := transformSuggestion(fields, field, values); s != nil {
		return s, ""
	}
	for _, t := range fi.transforms {
		if t == "int" || t == "float" {
			return widenContract(in.Source, field, types, KindNumberTransform,
				fmt.Sprintf("the rule of %s already converts it (transform %s)", fi.out, t))
		}
	}
	if s := decimalAsNumber(in.Source, fi, field, types); s != nil {
		return s, ""
	}
	return nil, fmt.Sprintf("%s arrives as %s, which no transform of the rule converts", field, strings.Join(sortedKeys(types), " or "))
}

// idOrObject finds the key of the objects now at field whose values are
// the ones field carried as a string in other records.
func idOrObject(in Input, ev *evidence, fi *fieldInfo, field string, objs []map[string]any) (*Suggestion, string) {
	before := map[string]bool{}
	for _, s := range ev.all {
		if v, ok := lookup(ev.docs[s], field); ok {
			if str, ok := v.(string); ok {
				before[str] = true
			}
		}
	}
	best, bestN := "", 0
	keys := map[string]bool{}
	for _, o := range objs {
		for k := range o {
			keys[k] = true
		}
	}
	for _, k := range sortedKeys(keys) {
		n, all := 0, true
		for _, o := range objs {
			str, ok := o[k].(string)
			all = all && ok
			if ok && before[str] {
				n++
			}
		}
		if all && n > bestN && !in.Source.IsRedacted(field+"."+k) {
			best, bestN = k, n
		}
	}
	if best == "" {
		return nil, fmt.Sprintf("%s arrives as an object in %d records, but none of its keys carries the values %s carried as a string", field, len(objs), field)
	}
	path := field + "." + best
	from := insertBefore(fi.from, field, path)
	s := &Suggestion{Kind: KindIDOrObject, Field: fi.out, Values: []Value{{Text: path, Count: uint64(len(objs))}},
		Edit: fmt.Sprintf("%s: read from %s (%s is an object in %d records; its %s equals a value %s carried as a string in %d of them)",
			fi.out, flowList(from), field, len(objs), best, field, bestN)}
	if w, _ := widenContract(in.Source, field, map[string]int{"object": 1}, KindIDOrObject, ""); w != nil {
		s.SchemaEdits = w.SchemaEdits
		s.Edit += "; " + w.Edit
	}
	out := fi.out
	s.apply = func(e *ruleEdits) error {
		e.field(out).from = insertBefore(e.fromOf(out), field, path)
		return nil
	}
	return s, ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// discriminator finds a top-level string field whose values in the
// records missing field never occur in the kept records that carry it.
func discriminator(ev *evidence, field string, failing []*samples.Sample) (string, []string) {
	missing := map[*samples.Sample]bool{}
	for _, s := range failing {
		missing[s] = true
	}
	var best string
	var bestVals []string
	for _, key := range []string{"action", "type", "event", "object", "kind", "status"} {
		in, out := map[string]bool{}, map[string]bool{}
		ok := true
		for _, s := range ev.all {
			d := ev.docs[s]
			if d == nil {
				continue
			}
			v, has := lookup(d, key)
			str, isStr := v.(string)
			if !has || !isStr || ev.src.IsRedacted(key) {
				ok = false
				break
			}
			if _, carries := lookup(d, field); missing[s] {
				in[str] = true
			} else if carries {
				out[str] = true
			}
		}
		if !ok || len(in) == 0 {
			continue
		}
		for v := range in {
			ok = ok && !out[v]
		}
		if ok && (best == "" || len(in) < len(bestVals)) {
			best, bestVals = key, sortedKeys(in)
		}
	}
	return best, bestVals
}

// outputDefault is the output schema's default for an output field, as
// YAML flow text (JSON), read from the schema file in in.Schemas.
func outputDefault(in Input, out string) (string, string) {
	if in.Schemas == nil {
		return "", ""
	}
	nodes, _ := in.Source.OutputNodes(out)
	for _, n := range nodes {
		doc, err := readSchema(in.Schemas, n.File)
		if err != nil {
			continue
		}
		segs, err := splitPointer(n.Pointer)
		if err != nil {
			continue
		}
		if s, e, err := valueSpan(doc, append(segs, "default")); err == nil {
			var v any
			if json.Unmarshal(doc[s:e], &v) == nil {
				b, _ := json.Marshal(v)
				return string(b), n.File
			}
		}
	}
	return "", ""
}

// readsUnder reports whether a rule reads field, a field under it or one
// of its ancestors (the input contract's "read" fields), including the
// rules of array elements (each).
func readsUnder(fields []fieldInfo, field string) bool { return len(readPathsUnder(fields, field)) > 0 }

func readPathsUnder(fields []fieldInfo, field string) []string {
	var out []string
	for _, f := range fields {
		for _, p := range f.from {
			if p == field || strings.HasPrefix(p, field+".") || strings.HasPrefix(field, p+".") || strings.HasPrefix(field, p+"[]") {
				out = append(out, p)
			}
		}
	}
	return out
}

func absentWord(r mapper.Reason) string {
	if r == mapper.ReasonNullField {
		return "null"
	}
	return "absent"
}

// outputRequires reports whether the output schema requires the top-level
// output field.
func outputRequires(src *mapper.Source, out string) bool {
	nodes, _ := src.OutputNodes("")
	for _, n := range nodes {
		if slices.Contains(n.Required, out) {
			return true
		}
	}
	return false
}

// decimalAsNumber: a decimal amount (read with decimal_to_minor) sent as a
// JSON number instead of a string is read as text first (transform
// string), and the input schema allows the number.
func decimalAsNumber(src *mapper.Source, fi *fieldInfo, field string, types map[string]int) *Suggestion {
	if len(fi.transforms) == 0 || fi.transforms[0] != "decimal_to_minor" || len(types) == 0 {
		return nil
	}
	for t := range types {
		if t != "integer" && t != "number" {
			return nil
		}
	}
	s := &Suggestion{Kind: KindNumberTransform, Field: fi.out,
		Edit: fmt.Sprintf("%s: transform string first (the decimal %s arrives as a JSON number)", fi.out, field)}
	if w, _ := widenContract(src, field, types, KindNumberTransform, ""); w != nil {
		s.SchemaEdits = w.SchemaEdits
		s.Edit += "; " + w.Edit
	}
	out := fi.out
	s.apply = func(e *ruleEdits) error {
		e.field(out).prepend = "string"
		return nil
	}
	return s
}

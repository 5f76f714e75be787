package mapper

import (
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"github.com/valyala/fastjson"
)

// anyTree converts parsed values into the form jsonschema/v5 validates
// (map[string]any, []any, json.Number, string, bool, nil), reusing the
// maps and lists of the value it built last: the validator keeps none of
// them past Validate. A Mapper has one. The zero value is ready to use.
//
// What it keeps between calls is bounded: at most anyKeep maps and lists,
// none of more than anyKeepLen entries, and at most anyKeys key texts.
type anyTree struct {
	maps  []map[string]any
	nmaps int
	lists [][]any
	nlist int
	// keys holds the text of the keys met so far, so that a key read
	// again is not copied again.
	keys map[string]string
}

const (
	anyKeep    = 256
	anyKeepLen = 64
	anyKeys    = 1024
)

// of converts v. The value returned is valid until the next call.
func (t *anyTree) of(v *fastjson.Value) any {
	t.nmaps, t.nlist = 0, 0
	return t.value(v)
}

func (t *anyTree) value(v *fastjson.Value) any {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		m := t.object(o.Len())
		o.Visit(func(k []byte, fv *fastjson.Value) { m[t.key(k)] = t.value(fv) })
		return m
	case fastjson.TypeArray:
		a, _ := v.Array()
		s := t.list(len(a))
		for i, it := range a {
			s[i] = t.value(it)
		}
		return s
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(b)
	case fastjson.TypeNumber:
		return json.Number(numberText(v))
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeFalse:
		return false
	}
	return nil
}

// object returns an empty map for n keys: for a small n the next one
// kept, cleared, or a new one, kept when there is room; for a larger n a
// new one, not kept (a kept map filled past anyKeepLen would keep its room
// after clear).
func (t *anyTree) object(n int) map[string]any {
	if n > anyKeepLen {
		return make(map[string]any, n)
	}
	if t.nmaps < len(t.maps) {
		m := t.maps[t.nmaps]
		t.nmaps++
		clear(m)
		return m
	}
	m := make(map[string]any, n)
	if len(t.maps) < anyKeep {
		t.maps = append(t.maps, m)
		t.nmaps++
	}
	return m
}

// list returns a list of n entries: the next one kept, when it has room,
// or a new one.
func (t *anyTree) list(n int) []any {
	if t.nlist < len(t.lists) && cap(t.lists[t.nlist]) >= n {
		s := t.lists[t.nlist][:n]
		t.nlist++
		return s
	}
	s := make([]any, n, max(n, 8))
	if n <= anyKeepLen {
		if t.nlist < len(t.lists) {
			t.lists[t.nlist] = s
			t.nlist++
		} else if len(t.lists) < anyKeep {
			t.lists = append(t.lists, s)
			t.nlist++
		}
	}
	return s
}

// key is the text of k, copied only the first time it is met (while
// there is room for it).
func (t *anyTree) key(k []byte) string {
	if s, ok := t.keys[string(k)]; ok {
		return s
	}
	s := string(k)
	if len(t.keys) < anyKeys {
		if t.keys == nil {
			t.keys = make(map[string]string)
		}
		t.keys[s] = s
	}
	return s
}

// fullPass validates doc with the reference validator and reports every
// failure, classified by keyword location; t converts doc.
func (s *schema) fullPass(t *anyTree, doc *fastjson.Value, sink failureSink, output bool) {
	err := s.full.Validate(t.of(doc))
	if err == nil {
		return
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		sink.fail(s.reason(ReasonTypeMismatch, output), "", err.Error())
		return
	}
	s.mapError(ve, doc, sink, output)
}

func (s *schema) reason(r Reason, output bool) Reason {
	if output {
		return ReasonOutputInvalid
	}
	return r
}

// leafCount counts the leaves of an error tree, to pick the closest branch
// of an anyOf/oneOf.
func leafCount(ve *jsonschema.ValidationError) int {
	if len(ve.Causes) == 0 {
		return 1
	}
	n := 0
	for _, c := range ve.Causes {
		n += leafCount(c)
	}
	return n
}

func lastSegment(loc string) string {
	if i := strings.LastIndexByte(loc, '/'); i >= 0 {
		return loc[i+1:]
	}
	return loc
}

func (s *schema) mapError(ve *jsonschema.ValidationError, doc *fastjson.Value, sink failureSink, output bool) {
	kw := lastSegment(ve.KeywordLocation)
	if len(ve.Causes) > 0 {
		if kw == "anyOf" || kw == "oneOf" {
			// Every branch failed: report the branch that came closest.
			best := ve.Causes[0]
			for _, c := range ve.Causes[1:] {
				if leafCount(c) < leafCount(best) {
					best = c
				}
			}
			s.mapError(best, doc, sink, output)
			return
		}
		for _, c := range ve.Causes {
			s.mapError(c, doc, sink, output)
		}
		return
	}
	inst, field := resolvePointer(doc, ve.InstanceLocation)
	r := func(x Reason) Reason { return s.reason(x, output) }
	switch kw {
	case "type":
		if inst != nil && inst.Type() == fastjson.TypeNull {
			sink.fail(r(ReasonNullField), field, ve.Message)
		} else {
			sink.fail(r(ReasonTypeMismatch), field, ve.Message)
		}
	case "required":
		parent := s.byLocation[strings.TrimSuffix(ve.AbsoluteKeywordLocation, "/required")]
		if parent == nil || inst == nil {
			sink.fail(r(ReasonMissingField), field, ve.Message)
			return
		}
		for _, name := range parent.Required {
			if inst.Get(name) == nil {
				sink.fail(r(ReasonMissingField), childPath(field, name), detailRequired)
			}
		}
	case "additionalProperties":
		parent := s.byLocation[strings.TrimSuffix(ve.AbsoluteKeywordLocation, "/additionalProperties")]
		o, _ := inst.Object()
		if parent == nil || o == nil {
			sink.fail(r(ReasonUnexpectedField), field, ve.Message)
			return
		}
		o.Visit(func(k []byte, _ *fastjson.Value) {
			if _, known := parent.Properties[string(k)]; known {
				return
			}
			for re := range parent.PatternProperties {
				if re.Match(k) {
					return
				}
			}
			sink.fail(r(ReasonUnexpectedField), childPath(field, string(k)), detailNotInContract)
		})
	case "enum", "const":
		sink.fail(r(ReasonUnknownEnum), field, ve.Message)
	case "format", "pattern":
		sink.fail(r(ReasonInvalidFormat), field, ve.Message)
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
		"minItems", "maxItems", "minProperties", "maxProperties", "multipleOf", "uniqueItems",
		"minContains", "maxContains", "contains":
		sink.fail(r(ReasonOutOfRange), field, ve.Message)
	case "dependencies", "dependentRequired":
		sink.fail(r(ReasonMissingField), field, ve.Message)
	case "false", "propertyNames", "unevaluatedProperties", "additionalItems", "unevaluatedItems":
		sink.fail(r(ReasonUnexpectedField), field, ve.Message)
	default:
		if _, err := strconv.Atoi(kw); err == nil || kw == "" || isPropertySchema(ve.KeywordLocation) {
			// A boolean false schema: the value is not allowed at all.
			sink.fail(r(ReasonUnexpectedField), field, "not allowed by the schema")
			return
		}
		sink.fail(r(ReasonInvalidFormat), field, ve.Message)
	}
}

func isPropertySchema(loc string) bool {
	i := strings.LastIndexByte(loc, '/')
	if i < 0 {
		return false
	}
	return strings.HasSuffix(loc[:i], "/properties")
}

func childPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// resolvePointer follows a JSON pointer into doc and returns the value there
// (nil when absent) and its normalised path.
func resolvePointer(doc *fastjson.Value, ptr string) (*fastjson.Value, string) {
	if ptr == "" || ptr == "/" && doc == nil {
		return doc, ""
	}
	var segs []string
	cur := doc
	for _, raw := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok := strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~")
		if cur != nil && cur.Type() == fastjson.TypeArray {
			segs = append(segs, "[]")
			i, err := strconv.Atoi(tok)
			a, _ := cur.Array()
			if err != nil || i < 0 || i >= len(a) {
				cur = nil
			} else {
				cur = a[i]
			}
			continue
		}
		segs = append(segs, tok)
		if cur != nil {
			cur = cur.Get(tok)
		}
	}
	return cur, joinPath(segs, "")
}

// indexLocations maps every compiled schema reachable from root by its
// absolute location.
func indexLocations(root *jsonschema.Schema) map[string]*jsonschema.Schema {
	m := map[string]*jsonschema.Schema{}
	var walk func(s *jsonschema.Schema)
	walk = func(s *jsonschema.Schema) {
		if s == nil {
			return
		}
		if _, ok := m[s.Location]; ok {
			return
		}
		m[s.Location] = s
		walk(s.Ref)
		walk(s.RecursiveRef)
		walk(s.DynamicRef)
		walk(s.Not)
		walk(s.If)
		walk(s.Then)
		walk(s.Else)
		walk(s.PropertyNames)
		walk(s.Items2020)
		walk(s.Contains)
		walk(s.UnevaluatedItems)
		walk(s.UnevaluatedProperties)
		walk(s.ContentSchema)
		for _, l := range [][]*jsonschema.Schema{s.AllOf, s.AnyOf, s.OneOf, s.PrefixItems} {
			for _, x := range l {
				walk(x)
			}
		}
		keys := make([]string, 0, len(s.Properties))
		for k := range s.Properties {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walk(s.Properties[k])
		}
		for _, x := range s.PatternProperties {
			walk(x)
		}
		for _, x := range s.DependentSchemas {
			walk(x)
		}
		for _, x := range s.Dependencies {
			if xs, ok := x.(*jsonschema.Schema); ok {
				walk(xs)
			}
		}
		if x, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
			walk(x)
		}
		if x, ok := s.AdditionalItems.(*jsonschema.Schema); ok {
			walk(x)
		}
		switch it := s.Items.(type) {
		case *jsonschema.Schema:
			walk(it)
		case []*jsonschema.Schema:
			for _, x := range it {
				walk(x)
			}
		}
	}
	walk(root)
	return m
}

package suggest

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// evidence is what the kept samples of one source show: the samples by
// category and every sample's redacted payload, decoded once.
type evidence struct {
	src   *mapper.Source
	byCat map[string][]*samples.Sample
	docs  map[*samples.Sample]any // nil value: no JSON payload
	all   []*samples.Sample
}

func newEvidence(in Input) *evidence {
	ev := &evidence{src: in.Source, byCat: map[string][]*samples.Sample{}, docs: map[*samples.Sample]any{}}
	for i := range in.Samples {
		s := &in.Samples[i]
		if s.Source != in.Source.Name() {
			continue
		}
		ev.byCat[s.Category] = append(ev.byCat[s.Category], s)
		ev.all = append(ev.all, s)
		if p, ok := s.PayloadBytes(); ok {
			var doc any
			if json.Unmarshal(p, &doc) == nil {
				ev.docs[s] = doc
			}
		}
	}
	return ev
}

// lookup is the value at a dotted path ("a.b.c", no arrays) of a decoded
// payload, and whether it is there.
func lookup(doc any, path string) (any, bool) {
	if path == "" {
		return doc, doc != nil
	}
	for _, k := range strings.Split(path, ".") {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		if doc, ok = m[k]; !ok {
			return nil, false
		}
	}
	return doc, true
}

// leaves lists the paths of a payload's non-null values that are not
// arrays, down to depth 6, sorted.
func leaves(doc any) []string {
	var out []string
	var walk func(v any, at string, depth int)
	walk = func(v any, at string, depth int) {
		m, ok := v.(map[string]any)
		if !ok {
			if at != "" && v != nil {
				if _, arr := v.([]any); !arr {
					out = append(out, at)
				}
			}
			return
		}
		if depth == 6 {
			return
		}
		for k, c := range m {
			if strings.ContainsAny(k, ".[]") {
				continue
			}
			walk(c, joinPath(at, k), depth+1)
		}
	}
	walk(doc, "", 0)
	sort.Strings(out)
	return out
}

// jsonType names a decoded value's JSON type.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

func sameValue(a, b any) bool { return reflect.DeepEqual(a, b) }

func parentOf(path string) (parent, name string) {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i], path[i+1:]
	}
	return "", path
}

func rootOf(path string) string {
	r, _, _ := strings.Cut(path, ".")
	return r
}

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

// ranked is an enum output with how alike its records are to the records
// carrying a new value (0 to 1).
type ranked struct {
	out   string
	score float64
}

// cooccurrence ranks, for a new value at field, the enum table's outputs
// by what co-occurs: the share of the other fields of the records carrying
// the value (strings, numbers and booleans outside redacted paths) that
// have the same value in the kept records mapped to the output, averaged
// over those records. Outputs no kept record shows are left out.
func cooccurrence(ev *evidence, field string) func(v string, enum []enumEntry) []ranked {
	return func(v string, enum []enumEntry) []ranked {
		outOf := map[string]string{}
		for _, e := range enum {
			outOf[e.key] = e.value
		}
		type acc struct {
			n     int
			feats map[string]int
		}
		byOut := map[string]*acc{}
		var carrying []map[string]bool
		for _, s := range ev.all {
			d := ev.docs[s]
			val, ok := lookup(d, field)
			str, isStr := val.(string)
			if !ok || !isStr {
				continue
			}
			feats := ev.features(d, field)
			if str == v {
				carrying = append(carrying, feats)
				continue
			}
			out, known := outOf[str]
			if !known || s.Outcome == "rejected" {
				continue
			}
			a := byOut[out]
			if a == nil {
				a = &acc{feats: map[string]int{}}
				byOut[out] = a
			}
			a.n++
			for f := range feats {
				a.feats[f]++
			}
		}
		if len(carrying) == 0 {
			return nil
		}
		var out []ranked
		for o, a := range byOut {
			total, n := 0.0, 0
			for _, feats := range carrying {
				for f := range feats {
					total += float64(a.feats[f]) / float64(a.n)
					n++
				}
			}
			if n > 0 {
				out = append(out, ranked{out: o, score: total / float64(n)})
			}
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].score != out[j].score {
				return out[i].score > out[j].score
			}
			return out[i].out < out[j].out
		})
		return out
	}
}

// features are a record's "path=value" pairs of scalar values outside the
// field and redacted paths.
func (ev *evidence) features(doc any, field string) map[string]bool {
	out := map[string]bool{}
	for _, p := range leaves(doc) {
		if p == field || ev.src.IsRedacted(p) {
			continue
		}
		v, _ := lookup(doc, p)
		switch v.(type) {
		case string, float64, bool:
			b, _ := json.Marshal(v)
			out[p+"="+string(b)] = true
		}
	}
	return out
}

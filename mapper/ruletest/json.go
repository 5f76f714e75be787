package ruletest

import (
	"bytes"
	"encoding/json"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/mapperhq/mapper/internal/yamlnode"
	"github.com/valyala/fastjson"
)

type convErr struct {
	node ast.Node
	msg  string
}

// toJSON converts an inline YAML value into compact JSON, keeping the text
// of numbers as written (12.30 stays 12.30), so that payloads reach the
// engine exactly as a third party would send them.
func toJSON(n ast.Node, depth int) ([]byte, *convErr) {
	var out []byte
	err := appendYAMLAsJSON(&out, n, depth)
	return out, err
}

func appendYAMLAsJSON(out *[]byte, n ast.Node, depth int) *convErr {
	if depth > maxNesting {
		return &convErr{n, "nested deeper than " + strconv.Itoa(maxNesting) + " levels"}
	}
	if a, ok := n.(*ast.AnchorNode); ok {
		n = a.Value // tags are not unwrapped: !!str changes the value's type
	}
	switch x := n.(type) {
	case *ast.StringNode:
		*out = appendQuoted(*out, x.Value)
	case *ast.LiteralNode:
		*out = appendQuoted(*out, x.Value.Value)
	case *ast.IntegerNode, *ast.FloatNode:
		text := yamlnode.Text(x)
		if !isJSONNumber(text) {
			return &convErr{x, "number " + text + " is not written as JSON writes numbers (decimal digits, optional fraction and exponent)"}
		}
		*out = append(*out, text...)
	case *ast.BoolNode:
		if x.Value {
			*out = append(*out, "true"...)
		} else {
			*out = append(*out, "false"...)
		}
	case *ast.NullNode:
		*out = append(*out, "null"...)
	case *ast.TagNode:
		if x.Start != nil && x.Start.Value == "!!str" && x.Value != nil {
			*out = appendQuoted(*out, yamlnode.Text(x.Value))
			return nil
		}
		return &convErr{x, "tags other than !!str are not supported; write the value as JSON would"}
	case *ast.SequenceNode:
		*out = append(*out, '[')
		for i, it := range x.Values {
			if i > 0 {
				*out = append(*out, ',')
			}
			if err := appendYAMLAsJSON(out, it, depth+1); err != nil {
				return err
			}
		}
		*out = append(*out, ']')
	case *ast.MappingNode:
		*out = append(*out, '{')
		seen := make(map[string]bool, len(x.Values))
		for i, kv := range x.Values {
			if _, merge := kv.Key.(*ast.MergeKeyNode); merge {
				return &convErr{kv.Key, "merge keys (<<) are not supported"}
			}
			k := yamlnode.Key(kv)
			if seen[k] {
				return &convErr{kv.Key, "duplicate key " + quoteText(k) + " (write a payload with duplicate keys as a string)"}
			}
			seen[k] = true
			if i > 0 {
				*out = append(*out, ',')
			}
			*out = appendQuoted(*out, k)
			*out = append(*out, ':')
			if err := appendYAMLAsJSON(out, kv.Value, depth+1); err != nil {
				return err
			}
		}
		*out = append(*out, '}')
	case *ast.MappingValueNode:
		return appendYAMLAsJSON(out, &ast.MappingNode{BaseNode: x.BaseNode, Values: []*ast.MappingValueNode{x}}, depth)
	case *ast.AliasNode:
		return &convErr{x, "aliases are not supported; write the value out"}
	default:
		return &convErr{x, "unsupported YAML value " + yamlnode.Describe(x)}
	}
	return nil
}

func isJSONNumber(s string) bool {
	if s == "" || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
		return false
	}
	var v any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return false
	}
	_, ok := v.(json.Number)
	return ok && !d.More()
}

// appendQuoted appends s as a JSON string, escaping only what JSON requires
// (so that "<" stays readable in test files).
func appendQuoted(dst []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(dst, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}

func quoteText(s string) string { return string(appendQuoted(nil, s)) }

// equal compares two JSON values: objects by their keys whatever the
// order, arrays element by element, numbers exactly by value.
func equal(a, b *fastjson.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Type() {
	case fastjson.TypeObject:
		ao, _ := a.Object()
		bo, _ := b.Object()
		if ao.Len() != bo.Len() {
			return false
		}
		same := true
		ao.Visit(func(k []byte, av *fastjson.Value) {
			if bv := bo.Get(string(k)); !same || bv == nil || !equal(av, bv) {
				same = false
			}
		})
		return same
	case fastjson.TypeArray:
		aa, _ := a.Array()
		ba, _ := b.Array()
		if len(aa) != len(ba) {
			return false
		}
		for i := range aa {
			if !equal(aa[i], ba[i]) {
				return false
			}
		}
		return true
	case fastjson.TypeNumber:
		return sameNumber(a.String(), b.String())
	case fastjson.TypeString:
		as, _ := a.StringBytes()
		bs, _ := b.StringBytes()
		return bytes.Equal(as, bs)
	}
	return a.Type() == b.Type() && a.String() == b.String()
}

// sameNumber compares two JSON number texts exactly. Texts with huge
// exponents are compared as text, so that a hostile 1e999999999 costs
// nothing.
func sameNumber(a, b string) bool {
	if a == b {
		return true
	}
	if hugeExponent(a) || hugeExponent(b) {
		return false
	}
	ra, ok1 := new(big.Rat).SetString(a)
	rb, ok2 := new(big.Rat).SetString(b)
	return ok1 && ok2 && ra.Cmp(rb) == 0
}

func hugeExponent(s string) bool {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return false
	}
	e := strings.TrimLeft(s[i+1:], "+-")
	return len(e) > 3
}

// project keeps of got only what want asks about: the keys of want's
// objects, recursively; anything else (arrays, scalars) whole. With a
// subset expectation, got passes when its projection equals want.
func project(a *fastjson.Arena, got, want *fastjson.Value) *fastjson.Value {
	if got.Type() != fastjson.TypeObject || want.Type() != fastjson.TypeObject {
		return got
	}
	wo, _ := want.Object()
	gotObj, _ := got.Object()
	out := a.NewObject()
	wo.Visit(func(k []byte, wv *fastjson.Value) {
		if gv := gotObj.Get(string(k)); gv != nil {
			out.Set(string(k), project(a, gv, wv))
		}
	})
	return out
}

// pretty renders a JSON value indented, object keys sorted, for diffs.
func pretty(dst []byte, v *fastjson.Value, indent string) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		if o.Len() == 0 {
			return append(dst, "{}"...)
		}
		var keys []string
		o.Visit(func(k []byte, _ *fastjson.Value) { keys = append(keys, string(k)) })
		sort.Strings(keys)
		dst = append(dst, "{\n"...)
		for i, k := range keys {
			dst = append(dst, indent+"  "...)
			dst = appendQuoted(dst, k)
			dst = append(dst, ": "...)
			dst = pretty(dst, o.Get(k), indent+"  ")
			if i < len(keys)-1 {
				dst = append(dst, ',')
			}
			dst = append(dst, '\n')
		}
		return append(dst, indent+"}"...)
	case fastjson.TypeArray:
		arr, _ := v.Array()
		if len(arr) == 0 {
			return append(dst, "[]"...)
		}
		dst = append(dst, "[\n"...)
		for i, it := range arr {
			dst = append(dst, indent+"  "...)
			dst = pretty(dst, it, indent+"  ")
			if i < len(arr)-1 {
				dst = append(dst, ',')
			}
			dst = append(dst, '\n')
		}
		return append(dst, indent+"]"...)
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		return appendQuoted(dst, string(s))
	}
	return v.MarshalTo(dst)
}

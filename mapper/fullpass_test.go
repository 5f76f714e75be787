package mapper

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// freshAny converts v the way the full pass did before it reused memory:
// every map, list and string new.
func freshAny(v *fastjson.Value) any {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		m := map[string]any{}
		o.Visit(func(k []byte, fv *fastjson.Value) { m[string(k)] = freshAny(fv) })
		return m
	case fastjson.TypeArray:
		a, _ := v.Array()
		s := make([]any, len(a))
		for i, it := range a {
			s[i] = freshAny(it)
		}
		return s
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(b)
	case fastjson.TypeNumber:
		return json.Number(v.String())
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeFalse:
		return false
	}
	return nil
}

func wideObject(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":[` + strconv.Itoa(i) + `,{"x":null}]`)
	}
	b.WriteByte('}')
	return b.String()
}

// TestAnyTreeReusesNothingItShouldNot converts payloads one after another
// with one anyTree, in an order where each reuses the maps and lists of
// the one before (fewer keys, shorter lists, other types at the same
// places), and checks each against a conversion from scratch.
func TestAnyTreeReusesNothingItShouldNot(t *testing.T) {
	payloads := []string{
		`{"a":1,"b":{"c":[1,2,3],"d":"x"},"e":[{"f":true},{"g":false}]}`,
		`{"a":"1","b":{"c":[]},"e":[{"f":null}]}`,
		`{"b":{"d":{"a":1}},"e":[[1,[2]],{}],"z":"\u00e9\n"}`,
		wideObject(300),
		`{"k1":[1]}`,
		`{}`,
		`{"a":[1.50,-0,1e3,12345678901234567890]}`,
		`{"a":{"a":{"a":{"a":{"a":{}}}}}}`,
		`{"b":{"c":[1,2,3],"d":"x"},"a":1,"e":[{"g":false},{"f":true}]}`,
	}
	var tree anyTree
	var p fastjson.Parser
	for round := range 2 {
		for i, s := range payloads {
			doc, err := p.Parse(s)
			if err != nil {
				t.Fatalf("payload %d: %v", i, err)
			}
			want := freshAny(doc)
			if got := tree.of(doc); !reflect.DeepEqual(got, want) {
				t.Errorf("round %d, payload %d: got %#v, want %#v", round, i, got, want)
			}
		}
	}
}

// TestAnyTreeKeepsBoundedMemory converts a payload with many objects,
// lists and keys, and checks that what the tree keeps for the next call
// stays within its bounds.
func TestAnyTreeKeepsBoundedMemory(t *testing.T) {
	var b strings.Builder
	// The long list and the wide object come first, while the tree still
	// has room for them and holds the small payload's maps and lists.
	b.WriteString(`{"long":[0` + strings.Repeat(",0", 999) + `],"wide":` + wideObject(1000) + `,"big":[`)
	for i := range 5000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"key` + strconv.Itoa(i) + `":[` + strconv.Itoa(i) + `]}`)
	}
	b.WriteString(`]}`)
	doc, err := fastjson.Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	var tree anyTree
	// A small payload first: its maps and lists are kept, and the large
	// payload's come to them first.
	small, err := fastjson.Parse(`{"x":{"y":[1]},"z":{}}`)
	if err != nil {
		t.Fatal(err)
	}
	tree.of(small)
	got := tree.of(doc)
	if !reflect.DeepEqual(got, freshAny(doc)) {
		t.Fatal("conversion differs from one from scratch")
	}
	if len(tree.maps) > anyKeep || len(tree.lists) > anyKeep || len(tree.keys) > anyKeys {
		t.Errorf("kept %d maps, %d lists, %d keys; bounds are %d, %d, %d",
			len(tree.maps), len(tree.lists), len(tree.keys), anyKeep, anyKeep, anyKeys)
	}
	for _, m := range tree.maps {
		if len(m) > anyKeepLen {
			t.Errorf("kept a map of %d keys, over %d", len(m), anyKeepLen)
		}
	}
	for _, l := range tree.lists {
		if cap(l) > anyKeepLen {
			t.Errorf("kept a list of capacity %d, over %d", cap(l), anyKeepLen)
		}
	}
}

// FuzzAnyTreeIsAFreshConversion converts two payloads one after the other
// with one anyTree: the second (which reuses what the first left) must
// equal a conversion from scratch, and so must the first.
func FuzzAnyTreeIsAFreshConversion(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,2]},"c":"x"}`), []byte(`{"a":{"d":null},"c":[true]}`))
	f.Add([]byte(`[{"a":1},{"b":2},{"c":3}]`), []byte(`[{"c":3}]`))
	f.Add([]byte(wideObject(70)), []byte(`{"k1":{"x":1}}`))
	f.Add([]byte(`{"k":"v"}`), []byte(`"scalar"`))
	f.Fuzz(func(t *testing.T, first, second []byte) {
		var p1, p2 fastjson.Parser
		d1, err1 := p1.ParseBytes(first)
		d2, err2 := p2.ParseBytes(second)
		if err1 != nil || err2 != nil {
			return
		}
		var tree anyTree
		if got, want := tree.of(d1), freshAny(d1); !reflect.DeepEqual(got, want) {
			t.Fatalf("first payload: got %#v, want %#v", got, want)
		}
		if got, want := tree.of(d2), freshAny(d2); !reflect.DeepEqual(got, want) {
			t.Fatalf("second payload, after the first: got %#v, want %#v", got, want)
		}
	})
}

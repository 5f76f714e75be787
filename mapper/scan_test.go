package mapper

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// carefulAccepts is what the payload guards, run one after another, say of b.
func carefulAccepts(t testing.TB, b []byte, opts Options) (bool, string) {
	t.Helper()
	var m Mapper
	s := &Source{opts: opts}
	doc, detail := m.parseCareful(s, b)
	return doc != nil, detail
}

func TestStrictScanAgreesWithTheCarefulPath(t *testing.T) {
	opts := Options{MaxPayloadBytes: 1 << 20, MaxDepth: 4}
	for _, tc := range []struct {
		name    string
		payload string
		clean   bool
	}{
		{"a plain object is clean", `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, true},
		{"white space around values is clean", " \t\r\n{ \"a\" : [ 1 , -2.5e+3 ] }\n", true},
		{"multi-byte text is clean", `{"name":"Müller — 東京 🚀"}`, true},
		{"escapes in values are clean", `{"a":"\"\\\/\b\f\n\r\t\u00e9"}`, true},
		{"long strings are clean", `{"a":"` + strings.Repeat("abcdefgh", 100) + `"}`, true},
		{"nesting at the bound is clean", `{"a":{"b":{"c":[1]}}}`, true},
		{"nesting past the bound is not", `{"a":{"b":{"c":[[1]]}}}`, false},
		{"a duplicate key is not", `{"a":1,"b":2,"a":3}`, false},
		{"a duplicate key deeper down is not", `{"x":{"k":1,"k":2}}`, false},
		{"the same key in sibling objects is clean", `{"x":{"k":1},"y":{"k":2}}`, true},
		{"an escaped key is not known clean", `{"\u0061":1}`, false},
		{"an array at the top is not", `[1,2]`, false},
		{"a string at the top is not", `"a"`, false},
		{"an empty payload is not", ``, false},
		{"white space alone is not", "  \n", false},
		{"a truncated object is not", `{"a":1`, false},
		{"a trailing comma is not", `{"a":1,}`, false},
		{"trailing text is not", `{"a":1} x`, false},
		{"two objects are not", `{"a":1}{"b":2}`, false},
		{"a control character in a string is not", "{\"a\":\"x\ty\"}", false},
		{"an unknown escape is not", `{"a":"\x"}`, false},
		{"a short unicode escape is not", `{"a":"\u12"}`, false},
		{"a leading zero is not", `{"a":01}`, false},
		{"a bare dot is not", `{"a":1.}`, false},
		{"a leading plus is not", `{"a":+1}`, false},
		{"an empty exponent is not", `{"a":1e}`, false},
		{"invalid UTF-8 is not", "{\"a\":\"\xff\"}", false},
		{"an encoded surrogate is not", "{\"a\":\"\xed\xa0\x80\"}", false},
		{"a misspelt literal is not", `{"a":tru}`, false},
		{"NaN is not", `{"a":NaN}`, false},
		{"many keys are clean", manyKeys(40, "", ""), true},
		// Around the number of keys compared one by one before the table.
		{"as many keys as are compared one by one are clean", manyKeys(linearKeys, "", ""), true},
		{"a duplicate as the key past those is not", manyKeys(linearKeys, "", `,"k0":0`), false},
		{"a duplicate of the last of those is not", manyKeys(linearKeys, "", `,"k`+strconv.Itoa(linearKeys-1)+`":0`), false},
		{"one key more than those is clean", manyKeys(linearKeys+1, "", ""), true},
		{"a duplicate two keys past those is not", manyKeys(linearKeys+1, "", `,"k`+strconv.Itoa(linearKeys)+`":0`), false},
		{"a duplicate among many keys is not", manyKeys(40, "", `,"k3":0`), false},
		{"a late duplicate among many keys is not", manyKeys(40, "", `,"k39":0`), false},
		{"the same many keys in a nested object are clean", manyKeys(40, `"in":`+manyKeys(40, "", "")+`,`, ""), true},
		{"a duplicate in a nested object of many keys is not", manyKeys(40, `"in":`+manyKeys(40, "", `,"k20":1`)+`,`, ""), false},
		{"hundreds of keys across objects are clean", `{"a":` + manyKeys(300, "", "") + `,"b":` + manyKeys(300, "", "") + `}`, true},
		{"a duplicate after the key set has grown is not", `{"a":` + manyKeys(300, "", "") + `,"b":` + manyKeys(300, "", `,"k299":1`) + `}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s strictScan
			got := s.clean([]byte(tc.payload), opts.MaxDepth)
			if got != tc.clean {
				t.Fatalf("clean = %v, want %v", got, tc.clean)
			}
			if ok, detail := carefulAccepts(t, []byte(tc.payload), opts); got && !ok {
				t.Fatalf("the scan calls it clean, the careful path refuses it: %s", detail)
			}
		})
	}
}

// manyKeys is an object with n keys k0…k(n-1), prefix written before them
// and suffix after them.
func manyKeys(n int, prefix, suffix string) string {
	var b strings.Builder
	b.WriteString("{" + prefix)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%d", "k"+strconv.Itoa(i), i)
	}
	b.WriteString(suffix + "}")
	return b.String()
}

func TestStrictScanFindsEveryFixtureClean(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "fixtures", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var s strictScan
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ok, detail := carefulAccepts(t, b, Options{MaxPayloadBytes: 1 << 20, MaxDepth: 64})
		if got := s.clean(b, 64); got != ok {
			t.Errorf("%s: scan says clean=%v, careful path %v (%s)", f, got, ok, detail)
		}
	}
}

// FuzzStrictScanIsNeverLaxer checks the one property the record path rests
// on: whatever the scan calls clean, the careful path accepts too.
func FuzzStrictScanIsNeverLaxer(f *testing.F) {
	for _, seed := range []string{
		`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
		`{"a":"\u00e9\n","a":2}`,
		`{"a":{"b":{"c":{"d":{"e":1}}}}}`,
		`{"a":-0.5e-3,"b":"Müller"}`,
		`{"\u0061":1,"a":2}`,
		"{\"a\":\"\xff\"}",
		`[]`,
	} {
		f.Add([]byte(seed), 4)
	}
	var s strictScan
	f.Fuzz(func(t *testing.T, payload []byte, depth int) {
		if depth < 1 || depth > 400 {
			return
		}
		opts := Options{MaxPayloadBytes: 1 << 20, MaxDepth: depth}
		if !s.clean(payload, depth) {
			return
		}
		if ok, detail := carefulAccepts(t, payload, opts); !ok {
			t.Fatalf("the scan calls %q clean at depth %d, the careful path refuses it: %s", payload, depth, detail)
		}
	})
}

// Keys compared one by one whose bloom bits coincide are still told apart,
// and a duplicate among them is still found.
func TestStrictScanKeysSharingABloomBit(t *testing.T) {
	var keys []string
	bit := keySigOf("k0") >> 58
	for i := 1; len(keys) < 3; i++ {
		if k := "k" + strconv.Itoa(i); keySigOf(k)>>58 == bit {
			keys = append(keys, k)
		}
	}
	obj := `{"k0":0,"` + strings.Join(keys, `":1,"`) + `":1}`
	var s strictScan
	if !s.clean([]byte(obj), 16) {
		t.Errorf("%s: distinct keys sharing a bloom bit are not clean", obj)
	}
	for _, k := range append(keys, "k0") {
		dup := strings.TrimSuffix(obj, "}") + `,"` + k + `":2}`
		if s.clean([]byte(dup), 16) {
			t.Errorf("%s: the duplicate %s is not found", dup, k)
		}
	}
}

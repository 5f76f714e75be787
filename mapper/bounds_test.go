package mapper_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

// allocatedBy reports the bytes f allocates.
func allocatedBy(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestRuleLoadingIsBounded(t *testing.T) {
	deepFlow := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	var manyFields strings.Builder
	manyFields.WriteString(goodRule)
	for i := range 50_000 {
		manyFields.WriteString("  f" + strings.Repeat("x", i%5) + itoa(i) + ": { from: a }\n")
	}
	var deepBlock strings.Builder
	deepBlock.WriteString(goodRule)
	for i := range 100 {
		deepBlock.WriteString(strings.Repeat("  ", i+1) + "k:\n")
	}
	tests := []struct {
		name string
		rule string
		size int64 // when set, the rule file is this many bytes instead
		opts mapper.Options
		want string // in the one problem, with the position
	}{
		{"a 50 MB rule file is refused before it is read", "", 50 << 20, mapper.Options{},
			"rules/a.yaml: the file is 52428800 bytes, over the limit of 4194304"},
		{"the size cap is configurable", goodRule, 0, mapper.Options{MaxRuleFileBytes: 64},
			"rules/a.yaml: the file is 100 bytes, over the limit of 64"},
		{"a from path of 30,000 segments", goodRule + "  x: { from: " + strings.Repeat("a.", 30_000) + "b }\n", 0, mapper.Options{},
			`rules/a.yaml:7:14: x.from: path "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a."… has 30001 segments, over the limit of 64`},
		{"a long output path", goodRule + "  " + strings.Repeat("a.", 100) + "b: { from: a }\n", 0, mapper.Options{},
			"rules/a.yaml:7:3: fields: output path"},
		{"a case path", goodRule + "  k: { cases: [{ when: " + strings.Repeat("a.", 70) + "b, value: 1 }] }\n", 0, mapper.Options{},
			"rules/a.yaml:7:24: k.cases.when: path"},
		{"the path cap is configurable", goodRule + "  x: { from: a.b.c }\n", 0, mapper.Options{MaxPathSegments: 2},
			"rules/a.yaml:7:14: x.from: path \"a.b.c\" has 3 segments, over the limit of 2"},
		{"flow nesting 100,000 deep", goodRule + "  x: { from: a, default: " + deepFlow + " }\n", 0, mapper.Options{},
			"rules/a.yaml:7:"},
		{"block nesting 100 deep", deepBlock.String(), 0, mapper.Options{},
			"nested deeper than 32 levels"},
		{"50,000 fields", manyFields.String(), 0, mapper.Options{},
			"more than 4096 keys in one rule file"},
		{"a list of a million items", goodRule + "  x: { from: a, default: [" + strings.Repeat("x, ", 1_000_000) + "x] }\n", 0, mapper.Options{},
			"more than 20000 entries (keys, list items and lines) in one rule file"},
		{"a line of 3 MB", goodRule + strings.Repeat("k", 3<<20) + ": 1\n", 0, mapper.Options{},
			"rules/a.yaml:7:1: line longer than 65536 bytes"},
		{"a long key is quoted short", goodRule + strings.Repeat("k", 60000) + ": 1\n", 0, mapper.Options{},
			`rules/a.yaml:7:1: unknown key "kkkkk`},
		{"a million comment lines", goodRule + strings.Repeat("# c\n", 1_000_000), 0, mapper.Options{},
			"more than 20000 entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, schemas := writeRules(t, map[string]string{"rules/a.yaml": tt.rule})
			if tt.size > 0 {
				if err := os.Truncate(filepath.Join(rules, "a.yaml"), tt.size); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			alloc := allocatedBy(func() { _, err = mapper.Load(rules, schemas, tt.opts) })
			var le *mapper.LoadError
			if !errors.As(err, &le) || len(le.Problems) != 1 {
				t.Fatalf("err = %v, want one problem", err)
			}
			got := strings.ReplaceAll(le.Problems[0].String(), filepath.Dir(rules)+string(filepath.Separator), "")
			if !strings.Contains(got, tt.want) {
				t.Errorf("problem %q, want %q", got, tt.want)
			}
			if len(got) > 600 {
				t.Errorf("a problem of %d bytes; quotes must be bounded", len(got))
			}
			if alloc > 32<<20 {
				t.Errorf("loading allocated %d MB; the bounds should keep it small", alloc>>20)
			}
		})
	}
}

func TestLongPathsWithinTheCapLoad(t *testing.T) {
	path := strings.Repeat("a.", 63) + "b"
	rules, schemas := writeRules(t, map[string]string{"rules/a.yaml": goodRule + "  x: { from: " + path + " }\n"})
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.Repeat(`{"a":`, 63) + `{"b":"deep"}` + strings.Repeat("}", 63)
	res := eng.Source("s").Map([]byte(`{"id":"1",` + payload[1:]))
	if !strings.Contains(string(res.Output), `"x":"deep"`) {
		t.Errorf("output %s", res.Output)
	}
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

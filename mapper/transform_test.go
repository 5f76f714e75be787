package mapper

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

func TestTransforms(t *testing.T) {
	tests := []struct {
		name      string
		transform string
		arg       *transformArg
		in        string // JSON
		want      string // JSON of the output, when ok
		reason    Reason // when the transform fails
	}{
		{"trim removes surrounding space", "trim", nil, `"  a b \t"`, `"a b"`, ""},
		{"trim of a number is a type mismatch", "trim", nil, `12`, ``, ReasonTypeMismatch},
		{"lowercase ascii", "lowercase", nil, `"Ana@Example.COM"`, `"ana@example.com"`, ""},
		{"lowercase unicode", "lowercase", nil, `"MÜLLER"`, `"müller"`, ""},
		{"lowercase of null is a type mismatch", "lowercase", nil, `null`, ``, ReasonTypeMismatch},
		{"uppercase", "uppercase", nil, `"eur"`, `"EUR"`, ""},
		{"int from number", "int", nil, `42`, `42`, ""},
		{"int from string", "int", nil, `" 42 "`, `42`, ""},
		{"int from whole float", "int", nil, `4.0`, `4`, ""},
		{"int from fraction is invalid", "int", nil, `4.5`, ``, ReasonInvalidFormat},
		{"int from words is invalid", "int", nil, `"four"`, ``, ReasonInvalidFormat},
		{"int from bool is a type mismatch", "int", nil, `true`, ``, ReasonTypeMismatch},
		{"int too large is out of range", "int", nil, `1e30`, ``, ReasonOutOfRange},
		{"int of a fraction float64 cannot see is invalid", "int", nil, `1.0000000000000001`, ``, ReasonInvalidFormat},
		{"int of such a fraction as a string is invalid", "int", nil, `"1.0000000000000001"`, ``, ReasonInvalidFormat},
		{"int from an exponent", "int", nil, `1e3`, `1000`, ""},
		{"int from an exponent that makes it whole", "int", nil, `1.5e1`, `15`, ""},
		{"int from an exponent that leaves a fraction is invalid", "int", nil, `1.55e1`, ``, ReasonInvalidFormat},
		{"int from negative zero is zero", "int", nil, `-0`, `0`, ""},
		{"int from negative zero with a point is zero", "int", nil, `-0.0`, `0`, ""},
		{"int from a long whole decimal", "int", nil, `"9223372036854775807.0000000000"`, `9223372036854775807`, ""},
		{"int keeps a 19-digit number exact", "int", nil, `-9223372036854775808`, `-9223372036854775808`, ""},
		{"int one past 64 bits is out of range, not wrapped", "int", nil, `9223372036854775808`, ``, ReasonOutOfRange},
		{"int of a 30-digit number is out of range", "int", nil, `123456789012345678901234567890`, ``, ReasonOutOfRange},
		{"int of a tiny number is invalid", "int", nil, `1e-400`, ``, ReasonInvalidFormat},
		{"int of infinity as a string is invalid", "int", nil, `"Inf"`, ``, ReasonInvalidFormat},
		{"float from string", "float", nil, `"2.5"`, `2.5`, ""},
		{"float from number keeps the text", "float", nil, `2.50`, `2.50`, ""},
		{"float from words is invalid", "float", nil, `"x"`, ``, ReasonInvalidFormat},
		{"bool from string", "bool", nil, `"Yes"`, `true`, ""},
		{"bool from 0", "bool", nil, `0`, `false`, ""},
		{"bool from 2 is invalid", "bool", nil, `2`, ``, ReasonInvalidFormat},
		{"bool from object is a type mismatch", "bool", nil, `{}`, ``, ReasonTypeMismatch},
		{"string from number", "string", nil, `12.30`, `"12.30"`, ""},
		{"string from bool", "string", nil, `false`, `"false"`, ""},
		{"string from array is a type mismatch", "string", nil, `[1]`, ``, ReasonTypeMismatch},
		{"count of array", "count", nil, `[1,2,3]`, `3`, ""},
		{"count of string is a type mismatch", "count", nil, `"a,b"`, ``, ReasonTypeMismatch},
		{"decimal_to_minor from string", "decimal_to_minor", nil, `"12.30"`, `1230`, ""},
		{"decimal_to_minor from number with no float error", "decimal_to_minor", nil, `12.3`, `1230`, ""},
		{"decimal_to_minor of 0.29 is exact", "decimal_to_minor", nil, `"0.29"`, `29`, ""},
		{"decimal_to_minor of 1.005 would need rounding", "decimal_to_minor", nil, `"1.005"`, ``, ReasonInvalidFormat},
		{"decimal_to_minor trailing zeros are fine", "decimal_to_minor", nil, `"1.500"`, `150`, ""},
		{"decimal_to_minor negative", "decimal_to_minor", nil, `"-0.5"`, `-50`, ""},
		{"decimal_to_minor whole", "decimal_to_minor", nil, `"7"`, `700`, ""},
		{"decimal_to_minor exponent number", "decimal_to_minor", nil, `1.2345e2`, `12345`, ""},
		{"decimal_to_minor three places", "decimal_to_minor", &transformArg{n: 3}, `"1.005"`, `1005`, ""},
		{"decimal_to_minor of words is invalid", "decimal_to_minor", nil, `"12,30"`, ``, ReasonInvalidFormat},
		{"decimal_to_minor overflow is out of range", "decimal_to_minor", nil, `"99999999999999999999"`, ``, ReasonOutOfRange},
		{"decimal_to_minor of bool is a type mismatch", "decimal_to_minor", nil, `true`, ``, ReasonTypeMismatch},
		{"timestamp RFC 3339 to UTC", "timestamp", nil, `"2024-05-01T14:00:00+02:00"`, `"2024-05-01T12:00:00Z"`, ""},
		{"timestamp keeps fractions", "timestamp", nil, `"2024-05-01T12:00:00.250Z"`, `"2024-05-01T12:00:00.25Z"`, ""},
		{"timestamp unix seconds", "timestamp", nil, `1714564800`, `"2024-05-01T12:00:00Z"`, ""},
		{"timestamp unix milliseconds", "timestamp", nil, `1714564800000`, `"2024-05-01T12:00:00Z"`, ""},
		{"timestamp unix seconds as string", "timestamp", nil, `"1714564800"`, `"2024-05-01T12:00:00Z"`, ""},
		{"timestamp impossible date", "timestamp", nil, `"2024-13-45T99:00:00Z"`, ``, ReasonInvalidFormat},
		{"timestamp words", "timestamp", nil, `"yesterday"`, ``, ReasonInvalidFormat},
		{"timestamp other layout not listed", "timestamp", nil, `"2024-05-01 12:00:00"`, ``, ReasonInvalidFormat},
		{"timestamp other layout listed", "timestamp", &transformArg{unit: -1, layouts: []string{"2006-01-02 15:04:05"}}, `"2024-05-01 12:00:00"`, `"2024-05-01T12:00:00Z"`, ""},
		{"timestamp of bool is a type mismatch", "timestamp", nil, `true`, ``, ReasonTypeMismatch},
		{"timestamp in milliseconds is exact", "timestamp", &transformArg{unit: 3}, `1700000000123`, `"2023-11-14T22:13:20.123Z"`, ""},
		{"timestamp guessed milliseconds are exact", "timestamp", nil, `1700000000123`, `"2023-11-14T22:13:20.123Z"`, ""},
		{"timestamp milliseconds as a string", "timestamp", &transformArg{unit: 3}, `"1700000000123"`, `"2023-11-14T22:13:20.123Z"`, ""},
		{"timestamp seconds with a fraction are exact", "timestamp", &transformArg{unit: 0}, `1700000000.123456789`, `"2023-11-14T22:13:20.123456789Z"`, ""},
		{"timestamp in microseconds", "timestamp", &transformArg{unit: 6}, `1700000000123456`, `"2023-11-14T22:13:20.123456Z"`, ""},
		{"timestamp in nanoseconds", "timestamp", &transformArg{unit: 9}, `1700000000123456789`, `"2023-11-14T22:13:20.123456789Z"`, ""},
		{"timestamp with an exponent", "timestamp", &transformArg{unit: 0}, `1.7e9`, `"2023-11-14T22:13:20Z"`, ""},
		{"timestamp before 1970 with a unit", "timestamp", &transformArg{unit: 3}, `-1`, `"1969-12-31T23:59:59.999Z"`, ""},
		{"timestamp before 1970 without a unit is out of range", "timestamp", nil, `-1`, ``, ReasonOutOfRange},
		{"timestamp year 5138 is not guessed", "timestamp", nil, `99999999999`, ``, ReasonOutOfRange},
		{"timestamp far negative is out of range, not a rule bug", "timestamp", nil, `-99999999999999`, ``, ReasonOutOfRange},
		{"timestamp far negative with a unit is out of range", "timestamp", &transformArg{unit: 3}, `-99999999999999999`, ``, ReasonOutOfRange},
		{"timestamp past year 9999 is out of range", "timestamp", &transformArg{unit: 0}, `253402300800`, ``, ReasonOutOfRange},
		{"timestamp last second of 9999", "timestamp", &transformArg{unit: 0}, `253402300799`, `"9999-12-31T23:59:59Z"`, ""},
		{"timestamp huge exponent is out of range", "timestamp", &transformArg{unit: 0}, `1e300`, ``, ReasonOutOfRange},
		{"timestamp finer than a nanosecond", "timestamp", &transformArg{unit: 9}, `1.5`, ``, ReasonInvalidFormat},
		{"timestamp of a digit string with letters", "timestamp", &transformArg{unit: 0}, `"17000x"`, ``, ReasonInvalidFormat},
		{"split on comma", "split", nil, `"a,b,c"`, `["a","b","c"]`, ""},
		{"split on separator", "split", &transformArg{str: " | "}, `"a | b"`, `["a","b"]`, ""},
		{"split of empty string", "split", nil, `""`, `[]`, ""},
		{"split of number is a type mismatch", "split", nil, `1`, ``, ReasonTypeMismatch},
		{"join array", "join", &transformArg{str: ";"}, `["a",1,true]`, `"a;1;true"`, ""},
		{"join array of objects is a type mismatch", "join", nil, `[{}]`, ``, ReasonTypeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, _, ok := lookupTransform(tt.transform)
			if !ok {
				t.Fatalf("no transform %q", tt.transform)
			}
			v, err := fastjson.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var m Mapper
			out, reason, detail := def.fn(&m, m.fromValue(v), tt.arg)
			if reason != tt.reason {
				t.Fatalf("reason = %q (%s), want %q", reason, detail, tt.reason)
			}
			if reason != "" {
				if detail == "" {
					t.Error("a failure must carry a detail")
				}
				return
			}
			m.writeValue(out)
			if got := string(m.out); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestChainedTransforms(t *testing.T) {
	var m Mapper
	v := fastjson.MustParse(`" A, B ,C "`)
	val := m.fromValue(v)
	for _, name := range []string{"trim", "lowercase", "split", "trim", "uppercase", "join"} {
		def, _, _ := lookupTransform(name)
		var reason Reason
		var detail string
		val, reason, detail = def.fn(&m, val, nil)
		if reason != "" {
			t.Fatalf("%s: %s %s", name, reason, detail)
		}
	}
	m.writeValue(val)
	if got, want := string(m.out), `"A,B,C"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// intInputs are the forms the int transform reads: a JSON integer (kept
// as written), a numeric string, and numbers with a point or an exponent.
var intInputs = []string{`42`, `"42"`, `4.000`, `1.5e1`, `"9223372036854775807.0"`}

// The int transform allocates nothing once the Mapper is warm.
func TestIntTransformAllocatesNothing(t *testing.T) {
	def, _, _ := lookupTransform("int")
	for _, in := range intInputs {
		var m Mapper
		val := m.fromValue(fastjson.MustParse(in))
		val.s = strings.Clone(val.s) // not in the scratch the transform writes
		allocs := testing.AllocsPerRun(100, func() {
			m.scratch = m.scratch[:0]
			if _, reason, detail := def.fn(&m, val, nil); reason != "" {
				t.Fatalf("%s: %s %s", in, reason, detail)
			}
		})
		if allocs != 0 {
			t.Errorf("int of %s: %v allocations, want 0", in, allocs)
		}
	}
}

func BenchmarkTransformInt(b *testing.B) {
	def, _, _ := lookupTransform("int")
	for _, in := range intInputs {
		b.Run(in, func(b *testing.B) {
			var m Mapper
			val := m.fromValue(fastjson.MustParse(in))
			val.s = strings.Clone(val.s) // not in the scratch the transform writes
			b.ReportAllocs()
			for b.Loop() {
				m.scratch = m.scratch[:0]
				def.fn(&m, val, nil)
			}
		})
	}
}

package mapper

import (
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestCmpDecimal(t *testing.T) {
	tests := []struct {
		a, b string
		want int
		ok   bool
	}{
		{"10000", "9999.99999999999999999", 1, true},
		{"12.30", "12.3", 0, true},
		{"-0", "0", 0, true},
		{"-0.5", "0.5", -1, true},
		{"007", "7", 0, true},
		{"1e3", "1000", 0, true},
		{"1.5E-1", "0.15", 0, true},
		{"-12.5", "-12.49", -1, true},
		{"abc", "1", 0, false},
		{"1e999999999", "1", 0, false}, // a huge exponent is not read
		{"1e-3", "0.001", 0, true},
		{"0.000", "-0e5", 0, true},
		{"12e1", "119.99", 1, true},
		{"", "0", 0, false},
		{".", "0", 0, false},
		{"1.2.3", "1", 0, false},
		{"-0", "0", 0, true},
		{"999999999999999999", "1000000000000000000", -1, true}, // 18 digits against 19
		{"-3", "-12", 1, true},
		{"-", "0", 0, false},
	}
	for _, tt := range tests {
		got, ok := cmpDecimal(tt.a, tt.b)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("cmpDecimal(%q, %q) = %d, %v; want %d, %v", tt.a, tt.b, got, ok, tt.want, tt.ok)
		}
	}
}

// cmpDecimal agrees with math/big on random decimals of every shape.
func TestCmpDecimalAgreesWithBigRat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	number := func() string {
		s := digits(1 + r.IntN(25))
		if r.IntN(2) == 0 {
			s += "." + digits(1+r.IntN(25))
		}
		if r.IntN(3) == 0 {
			s = "-" + s
		}
		return s
	}
	for range 20000 {
		a, b := number(), number()
		switch r.IntN(6) {
		case 0:
			b = a + "0" // same value when a has a fraction
		case 1:
			b += "e" + strconv.Itoa(r.IntN(61)-30)
		}
		got, ok := cmpDecimal(a, b)
		ra, _ := new(big.Rat).SetString(a)
		rb, _ := new(big.Rat).SetString(b)
		if !ok || got != ra.Cmp(rb) {
			t.Fatalf("cmpDecimal(%s, %s) = %d, %v; math/big says %d", a, b, got, ok, ra.Cmp(rb))
		}
	}
}

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		in    string
		lits  []string
		parts []string
	}{
		{"{a} {b.c}", []string{"", " ", ""}, []string{"a", "b.c"}},
		{"{{x}} {a?}!", []string{"{x} ", "!"}, []string{"a?"}},
		{"{$root.a}-{$parent.b}", []string{"", "-", ""}, []string{"$root.a", "$parent.b"}},
		{"{id}{': ' description?}", []string{"", "", ""}, []string{"id", "': 'description?"}},
		{"{ 'it''s ' a ' !' }", []string{"", ""}, []string{"'it's 'a' !'"}},
		{"{a?', '}{b}", []string{"", "", ""}, []string{"a?', '", "b"}},
	}
	for _, tt := range tests {
		tpl, err := parseTemplate(tt.in, parseSrcPath)
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		var parts []string
		for _, p := range tpl.parts {
			s := p.path.text()
			if p.before != "" {
				s = "'" + p.before + "'" + s
			}
			if p.optional {
				s += "?"
			}
			if p.after != "" {
				s += "'" + p.after + "'"
			}
			parts = append(parts, s)
		}
		if strings.Join(tpl.lits, "|") != strings.Join(tt.lits, "|") || strings.Join(parts, "|") != strings.Join(tt.parts, "|") {
			t.Errorf("%q: lits %q parts %q; want %q %q", tt.in, tpl.lits, parts, tt.lits, tt.parts)
		}
	}
}

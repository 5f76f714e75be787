package mapper

import (
	"regexp"
	"testing"
)

func TestBytePatternIsBuiltOnlyWhenExact(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		loop    bool
	}{
		{`^-?[0-9]+(\.[0-9]{1,2})?$`, true},
		{`^[A-Z]{3}$`, true},
		{`^[^/]+/[^/]+$`, true},
		{`^ORD-[0-9]{9}$`, true},
		{`^.*$`, true},
		{`^[0-9]+[0-9]$`, false}, // the greedy loop would eat the last digit
		{`^[a-z]*(ab)?$`, false}, // the group starts with a class the star takes
		{`^[A-Z]{3}`, false},     // not anchored at the end
		{`[A-Z]{3}$`, false},     // not anchored at the start
		{`^(?i)abc$`, false},     // case folding
		{`^(a|b)$`, false},       // alternation
		{`^a+(b+c)?$`, true},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			if got := compilePattern(regexp.MustCompile(tc.pattern)) != nil; got != tc.loop {
				t.Fatalf("byte loop built = %v, want %v", got, tc.loop)
			}
		})
	}
}

var patternProbes = []string{
	"", "0", "12", "-", "-1", "1.", "1.2", "1.23", "1.234", "-0.50", "a1", "1a", "ABC", "AB", "ABCD", "abc",
	"a/b", "/b", "a/", "a//b", "a/b/c", "ÄÖ/ü", "ORD-000000001", "ORD-00000001", "ord-000000001",
	"\xff", "a\nb", "ab", "aab", "aabc", "aac", "abcc", "Ab", "\xff/\xfe", "12\n",
}

func TestBytePatternMatchesAsTheRegexpDoes(t *testing.T) {
	for _, p := range []string{`^-?[0-9]+(\.[0-9]{1,2})?$`, `^[A-Z]{3}$`, `^[^/]+/[^/]+$`, `^ORD-[0-9]{9}$`, `^.*$`, `^a+(b+c)?$`} {
		re := regexp.MustCompile(p)
		loop := compilePattern(re)
		for _, s := range patternProbes {
			if got, want := loop.match([]byte(s)), re.MatchString(s); got != want {
				t.Errorf("%s on %q: byte loop %v, regexp %v", p, s, got, want)
			}
		}
	}
}

func FuzzBytePatternMatchesAsTheRegexpDoes(f *testing.F) {
	for _, s := range patternProbes {
		f.Add(s)
	}
	var pairs []struct {
		re   *regexp.Regexp
		loop *bytePattern
	}
	for _, p := range []string{`^-?[0-9]+(\.[0-9]{1,2})?$`, `^[A-Z]{3}$`, `^[^/]+/[^/]+$`, `^ORD-[0-9]{9}$`, `^a+(b+c)?$`} {
		re := regexp.MustCompile(p)
		pairs = append(pairs, struct {
			re   *regexp.Regexp
			loop *bytePattern
		}{re, compilePattern(re)})
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range pairs {
			if got, want := p.loop.match([]byte(s)), p.re.MatchString(s); got != want {
				t.Fatalf("%s on %q: byte loop %v, regexp %v", p.re, s, got, want)
			}
		}
	})
}

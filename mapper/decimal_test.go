package mapper

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestAppendMinorToDecimal(t *testing.T) {
	tests := []struct {
		name, in string
		places   int
		want     string
		reason   Reason
	}{
		{"USD cents", "1099", 2, "10.99", ""},
		{"JPY has no places", "500", 0, "500", ""},
		{"KWD fils", "1234", 3, "1.234", ""},
		{"a small amount gets a leading zero", "5", 2, "0.05", ""},
		{"places are kept", "1000", 2, "10.00", ""},
		{"zero", "0", 2, "0.00", ""},
		{"negative zero is zero", "-0", 2, "0.00", ""},
		{"a negative amount", "-250", 2, "-2.50", ""},
		{"30 digits stay exact", "123456789012345678901234567890", 2, "1234567890123456789012345678.90", ""},
		{"leading zeros go", "007", 1, "0.7", ""},
		{"a whole number with an exponent", "1.5e3", 2, "15.00", ""},
		{"a whole number written with a point", "12.0", 1, "1.2", ""},
		{"a fraction is not minor units", "10.5", 2, "", ReasonInvalidFormat},
		{"text is not a number", "ten", 2, "", ReasonInvalidFormat},
		{"a huge exponent is refused", "1e100000", 2, "", ReasonInvalidFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, detail := appendMinorToDecimal(nil, tt.in, tt.places)
			if reason != tt.reason || string(got) != tt.want {
				t.Errorf("appendMinorToDecimal(%q, %d) = %q, %q (%s); want %q, %q", tt.in, tt.places, got, reason, detail, tt.want, tt.reason)
			}
		})
	}
}

// minor_to_decimal is the inverse of decimal_to_minor, on random amounts.
func TestMinorToDecimalInvertsDecimalToMinor(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		n := r.Int64N(1<<62) - 1<<61
		places := r.IntN(19)
		text := strconv.FormatInt(n, 10)
		dec, reason, _ := appendMinorToDecimal(nil, text, places)
		if reason != "" {
			t.Fatalf("%s with %d: %s", text, places, reason)
		}
		back, reason, _ := decimalToMinor(string(dec), places, false)
		if reason != "" || back != n {
			t.Fatalf("%s with %d gave %s, back %d (%s)", text, places, dec, back, reason)
		}
	}
}

// decimalIsInt decides as math/big does (jsonschema/v5's integer type).
func TestDecimalIsIntAgreesWithBigRat(t *testing.T) {
	for _, s := range []string{"1", "1.0", "1e3", "1.5e1", "1.25e1", "1.0000000000000001", "0.1e1", "-0", "0.000",
		"12345678901234567890.000", "1e-1", "100e-2", "123e-2", "0.1000000000000000001"} {
		r, _ := new(big.Rat).SetString(s)
		got, ok := decimalIsInt(s)
		if !ok || got != r.IsInt() {
			t.Errorf("decimalIsInt(%q) = %v, %v; math/big says %v", s, got, ok, r.IsInt())
		}
	}
}

func TestRatDecimal(t *testing.T) {
	for _, s := range []string{"0.1", "100", "-2.5", "0.0001", "1e-20", "123.456"} {
		r, _ := new(big.Rat).SetString(s)
		text, ok := ratDecimal(r)
		c, cok := cmpDecimal(text, s)
		if !ok || !cok || c != 0 {
			t.Errorf("ratDecimal(%s) = %q, %v", s, text, ok)
		}
	}
}

func TestDecimalMultipleOf(t *testing.T) {
	div, _ := new(big.Rat).SetString("0.01")
	for s, want := range map[string]bool{"10.99": true, "10.999": false, "1e2": true, "0.1000000000000000001": false} {
		if got := decimalMultipleOf(s, div); got != want {
			t.Errorf("decimalMultipleOf(%s, 0.01) = %v", s, got)
		}
	}
}

// The int transform reads whole numbers exactly: no float64 rounds a
// fraction away or a large number into range.
func TestDecimalToInt(t *testing.T) {
	tests := []struct {
		name, in string
		want     int64
		reason   Reason
	}{
		{"a plain integer", "42", 42, ""},
		{"a negative integer", "-42", -42, ""},
		{"a point with zeros", "4.000", 4, ""},
		{"an exponent", "1e3", 1000, ""},
		{"a capital exponent", "1E3", 1000, ""},
		{"an exponent that makes a fraction whole", "1.5e1", 15, ""},
		{"a negative exponent that leaves it whole", "1500e-2", 15, ""},
		{"a plus sign", "+7", 7, ""},
		{"negative zero is zero", "-0", 0, ""},
		{"negative zero with a point", "-0.0", 0, ""},
		{"zero with a huge exponent", "0e100000", 0, ""},
		{"a point and nothing after", "5.", 5, ""},
		{"the largest int64", "9223372036854775807", math.MaxInt64, ""},
		{"the smallest int64", "-9223372036854775808", math.MinInt64, ""},
		{"the largest int64 with a point", "9223372036854775807.000", math.MaxInt64, ""},
		{"20 digits written as an exponent", "9.223372036854775807e18", math.MaxInt64, ""},
		{"a fraction", "4.5", 0, ReasonInvalidFormat},
		{"a fraction float64 cannot see", "1.0000000000000001", 0, ReasonInvalidFormat},
		{"a long fraction far down", "12345678901234567.000000000000000000001", 0, ReasonInvalidFormat},
		{"an exponent that leaves a fraction", "1.55e1", 0, ReasonInvalidFormat},
		{"a tiny number", "1e-400", 0, ReasonInvalidFormat},
		{"a tiny number past any exponent bound", "1e-100000", 0, ReasonInvalidFormat},
		{"negative fraction", "-0.5", 0, ReasonInvalidFormat},
		{"one past int64", "9223372036854775808", 0, ReasonOutOfRange},
		{"one below int64", "-9223372036854775809", 0, ReasonOutOfRange},
		{"two to the 63 as float64 reads it", "9.223372036854775808e18", 0, ReasonOutOfRange},
		{"a 30-digit integer", "123456789012345678901234567890", 0, ReasonOutOfRange},
		{"a huge exponent", "1e100000", 0, ReasonOutOfRange},
		{"a huge number with a fraction is a fraction", "99999999999999999999.5", 0, ReasonInvalidFormat},
		{"words", "four", 0, ReasonInvalidFormat},
		{"a hexadecimal float", "0x1p4", 0, ReasonInvalidFormat},
		{"infinity", "Inf", 0, ReasonInvalidFormat},
		{"a lone minus", "-", 0, ReasonInvalidFormat},
		{"empty", "", 0, ReasonInvalidFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, detail := decimalToInt(tt.in)
			if reason != tt.reason || got != tt.want {
				t.Errorf("decimalToInt(%q) = %d, %q (%s); want %d, %q", tt.in, got, reason, detail, tt.want, tt.reason)
			}
			if reason != "" && detail == "" {
				t.Error("a failure must carry a detail")
			}
		})
	}
}

// decimalToInt agrees with big.Rat on random integers and near-integers
// written every way JSON allows.
func TestDecimalToIntAgreesWithBigRat(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	lo, hi := big.NewRat(math.MinInt64, 1), big.NewRat(math.MaxInt64, 1)
	for range 5000 {
		n := r.Int64() >> r.UintN(64)
		if r.IntN(2) == 0 {
			n = -n
		}
		text := strconv.FormatInt(n, 10)
		switch r.IntN(4) {
		case 1: // a point with zeros, or a fraction far down
			text += "." + strings.Repeat("0", r.IntN(30))
			if r.IntN(2) == 0 {
				text += "1"
			}
		case 2: // an exponent
			text += "e" + strconv.Itoa(r.IntN(8)-4)
		case 3: // out of range
			text += strings.Repeat("0", 1+r.IntN(3))
		}
		want, _ := new(big.Rat).SetString(text)
		got, reason, _ := decimalToInt(text)
		switch {
		case !want.IsInt():
			if reason != ReasonInvalidFormat {
				t.Fatalf("%s: got %d %q, want invalid_format", text, got, reason)
			}
		case want.Cmp(lo) < 0 || want.Cmp(hi) > 0:
			if reason != ReasonOutOfRange {
				t.Fatalf("%s: got %d %q, want out_of_range", text, got, reason)
			}
		case reason != "" || big.NewRat(got, 1).Cmp(want) != 0:
			t.Fatalf("%s: got %d %q, want %s", text, got, reason, want.RatString())
		}
	}
}

// minorText is an amount near the common shape: digits, a point, more
// digits, with a sign, a letter or a point in odd places now and then.
func minorText(r *rand.Rand) string {
	const alphabet = "0123456789-+.e"
	var b []byte
	if r.IntN(4) == 0 {
		b = append(b, '-')
	}
	for n := r.IntN(21); n > 0; n-- {
		b = append(b, byte('0'+r.IntN(10)))
	}
	if r.IntN(3) > 0 {
		b = append(b, '.')
		for n := r.IntN(6); n > 0; n-- {
			b = append(b, byte('0'+r.IntN(10)))
		}
	}
	if r.IntN(5) == 0 && len(b) > 0 {
		b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// The common amount's quick reading gives what taking it apart gives, and
// takes most of them.
func TestPlainMinorAgreesWithParsedMinor(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 7))
	taken := 0
	const n = 200000
	for range n {
		text, places := minorText(r), r.IntN(7)
		if plainMinorDisagrees(t, text, places) {
			taken++
		}
	}
	if taken < n/4 {
		t.Errorf("the quick reading took %d of %d amounts", taken, n)
	}
	for _, tc := range []struct {
		text   string
		places int
		want   int64
	}{
		{"244.98", 2, 24498}, {"-0.00", 2, 0}, {"007.5", 2, 750}, {"12", 0, 12}, {"12", 3, 12000},
		{"999999999999999999", 0, 999999999999999999}, {"9999999999999999.99", 2, 999999999999999999},
	} {
		if got, ok := plainMinor(tc.text, tc.places); !ok || got != tc.want {
			t.Errorf("plainMinor(%q, %d) = %d, %v; want %d", tc.text, tc.places, got, ok, tc.want)
		}
		plainMinorDisagrees(t, tc.text, tc.places)
	}
	for _, tc := range []struct {
		text   string
		places int
	}{{"12.345", 2}, {"5.", 2}, {".5", 2}, {"+1.00", 2}, {"1e2", 2}, {"-", 2}, {"", 2}, {"9999999999999999999", 0}, {"99999999999999999.99", 2}} {
		if got, ok := plainMinor(tc.text, tc.places); ok {
			t.Errorf("plainMinor(%q, %d) = %d, took what it should leave", tc.text, tc.places, got)
		}
		plainMinorDisagrees(t, tc.text, tc.places)
	}
}

// plainMinorDisagrees fails t when plainMinor takes text and gives other
// than parsedMinor; it reports whether plainMinor took it.
func plainMinorDisagrees(t *testing.T, text string, places int) bool {
	t.Helper()
	got, ok := plainMinor(text, places)
	if !ok {
		return false
	}
	want, reason, _ := parsedMinor(text, places, false)
	if reason != "" || got != want {
		t.Fatalf("%q with %d places: quick %d, taken apart %d (%s)", text, places, got, want, reason)
	}
	return true
}

func FuzzPlainMinorAgreesWithParsedMinor(f *testing.F) {
	for _, s := range []string{"244.98", "-0.00", "007.5", "12", "9999999999999999.99", "5.", "1e2"} {
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, text string, places int) {
		if places < 0 || places > 30 {
			return
		}
		plainMinorDisagrees(t, text, places)
	})
}

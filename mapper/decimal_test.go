package mapper

import (
	"math/big"
	"math/rand/v2"
	"strconv"
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

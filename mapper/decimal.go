package mapper

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// This file is the engine's one owner of exact decimal numbers: conditions
// (gt, is, in), transforms (decimal_to_minor, minor_to_decimal), Unix
// times and the input schema's compiled checks (integer, enum, const,
// bounds, multipleOf) all read numbers through it. A number is read from
// its text as written ("-12.30", "1.5e3"), never through float64, and the
// common operations allocate nothing.

// decimal is a decimal number's text taken apart: the value is
// ±0.intPart frac × 10^(len(intPart)+exp).
type decimal struct {
	neg           bool
	intPart, frac string // the digits before and after the point
	exp           int
}

// numText holds the text of the number being read, reused from one
// number to the next so that reading it allocates nothing once warm.
type numText []byte

// of is the text of the number v as written; it lives until the next call.
func (b *numText) of(v *fastjson.Value) string {
	*b = v.MarshalTo((*b)[:0])
	return b2s(*b)
}

// compareMaxExp is the largest exponent cmpDecimal and decimalIsInt read;
// numbers beyond it are not ok (JSON Schema's reference validator, and any
// domain, has no use for 1e10001).
const compareMaxExp = 10000

// parseDecimal takes a decimal number ("-12.30", "1.5e3") apart. It is not
// ok when the text is not a decimal number, has an exponent and !allowExp,
// or has one beyond ±maxExp (tooFar then says so).
func parseDecimal(text string, allowExp bool, maxExp int) (d decimal, ok, tooFar bool) {
	s := text
	if s != "" && (s[0] == '-' || s[0] == '+') {
		d.neg = s[0] == '-'
		s = s[1:]
	}
	mant := s
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if !allowExp || err != nil {
			return d, false, false
		}
		if e > maxExp || e < -maxExp {
			return d, false, true
		}
		mant, d.exp = s[:i], e
	}
	d.intPart = mant
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		d.intPart, d.frac = mant[:i], mant[i+1:]
	}
	if d.intPart == "" && d.frac == "" {
		return d, false, false
	}
	for _, part := range [2]string{d.intPart, d.frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return d, false, false
			}
		}
	}
	return d, true, false
}

// n is the number of digits of intPart+frac.
func (d *decimal) n() int { return len(d.intPart) + len(d.frac) }

// digit is the i-th digit of intPart+frac.
func (d *decimal) digit(i int) byte {
	if i < len(d.intPart) {
		return d.intPart[i]
	}
	return d.frac[i-len(d.intPart)]
}

// isDecimalText reports whether s is plain decimal text: digits with at
// most one point inside and an optional leading minus, no exponent.
func isDecimalText(s string) bool {
	if s == "" {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		case c == '-' && i == 0 && len(s) > 1:
		default:
			return false
		}
	}
	return true
}

// cmpDecimal compares two numbers written as text ("-12.30", "1.5e3")
// exactly, digit by digit, with no allocation; ok is false when either is
// not a number (or has an exponent beyond ±compareMaxExp).
func cmpDecimal(a, b string) (int, bool) {
	if x, ok := smallInt(a); ok {
		if y, ok := smallInt(b); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
	}
	da, ok, _ := parseDecimal(a, true, compareMaxExp)
	if !ok {
		return 0, false
	}
	db, ok, _ := parseDecimal(b, true, compareMaxExp)
	if !ok {
		return 0, false
	}
	na, nb := normDigits(da), normDigits(db)
	sa, sb := na.sign(da.neg), nb.sign(db.neg)
	switch {
	case sa != sb:
		if sa < sb {
			return -1, true
		}
		return 1, true
	case sa == 0:
		return 0, true
	}
	c := na.cmpAbs(nb)
	if sa < 0 {
		c = -c
	}
	return c, true
}

// smallInt reads text made of an optional minus and at most 18 decimal
// digits (the common case: counts, quantities, bounds), which an int64
// holds exactly; anything else is not ok and goes the long way.
func smallInt(s string) (int64, bool) {
	neg := s != "" && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var x int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		x = x*10 + int64(c-'0')
	}
	if neg {
		x = -x
	}
	return x, true
}

// decimalIsInt reports whether the number written as text is a whole
// number (1.0 and 1e3 are, 1.0000000000000001 is not), exactly and with
// no allocation; ok is false when the text is not a number.
func decimalIsInt(text string) (isInt, ok bool) {
	if !hasFractionOrExp(text) { // digits alone: the common case
		return text != "" && text != "-", true
	}
	d, ok, _ := parseDecimal(text, true, 1<<40)
	if !ok {
		return false, false
	}
	n := normDigits(d)
	return n.lo == n.hi || n.hi-n.lo <= n.point, true
}

// hasFractionOrExp reports whether a number's text has a point or an
// exponent (a byte loop: numbers are short, IndexAny's set is not worth it).
func hasFractionOrExp(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			return true
		}
	}
	return false
}

// digits is a decimal's significant digits: d.intPart+d.frac from lo to
// hi (no leading or trailing zeros), with point digits before the point.
type digits struct {
	d      decimal
	lo, hi int
	point  int
}

func normDigits(d decimal) digits {
	n := digits{d: d, hi: d.n(), point: len(d.intPart) + d.exp}
	for n.lo < n.hi && n.d.digit(n.lo) == '0' {
		n.lo++
		n.point--
	}
	for n.hi > n.lo && n.d.digit(n.hi-1) == '0' {
		n.hi--
	}
	return n
}

func (n digits) sign(neg bool) int {
	switch {
	case n.lo == n.hi:
		return 0
	case neg:
		return -1
	}
	return 1
}

// cmpAbs compares two non-zero magnitudes.
func (n digits) cmpAbs(o digits) int {
	if n.point != o.point {
		if n.point < o.point {
			return -1
		}
		return 1
	}
	i, j := n.lo, o.lo
	for ; i < n.hi && j < o.hi; i, j = i+1, j+1 {
		if a, b := n.d.digit(i), o.d.digit(j); a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	switch {
	case i < n.hi:
		return 1
	case j < o.hi:
		return -1
	}
	return 0
}

// decimalToMinor turns a decimal amount ("12.30") into integer minor units
// with the given number of decimal places (1230), exactly.
func decimalToMinor(text string, places int, allowExp bool) (int64, Reason, string) {
	if n, ok := plainMinor(text, places); ok {
		return n, "", ""
	}
	return parsedMinor(text, places, allowExp)
}

// parsedMinor is decimalToMinor of any text, taken apart by parseDecimal.
func parsedMinor(text string, places int, allowExp bool) (int64, Reason, string) {
	d, ok, _ := parseDecimal(text, allowExp, 30)
	if !ok {
		return 0, ReasonInvalidFormat, quoteShort(text) + " is not a decimal amount"
	}
	n, fraction, tooLarge := d.int64Shifted(places)
	switch {
	case fraction:
		return 0, ReasonInvalidFormat, quoteShort(text) + " has more than " + strconv.Itoa(places) + " decimal places"
	case tooLarge:
		return 0, ReasonOutOfRange, quoteShort(text) + " is too large"
	}
	return n, "", ""
}

// plainMinor is decimalToMinor of the common amount: an optional minus,
// digits, and a point with at most places digits after it, all told few
// enough that the minor units fit in 18 digits. ok is false for any other
// text (decimalToMinor then takes it apart).
func plainMinor(text string, places int) (int64, bool) {
	s := text
	neg := s != "" && s[0] == '-'
	if neg {
		s = s[1:]
	}
	var u uint64
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		u = u*10 + uint64(s[i]-'0')
		i++
	}
	if i == 0 {
		return 0, false
	}
	digits, frac := i, 0
	if i < len(s) {
		if s[i] != '.' {
			return 0, false
		}
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			u = u*10 + uint64(s[i]-'0')
			frac++
		}
		if i < len(s) || frac == 0 || frac > places {
			return 0, false
		}
	}
	if digits+places > 18 { // digits+frac digits, times 10^(places-frac)
		return 0, false
	}
	for ; frac < places; frac++ {
		u *= 10
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

// decimalToInt reads a number written as text ("42", "4.0", "1e3",
// "1.5e1", "-0") as a 64-bit integer, exactly: a fraction, however far
// down ("1.0000000000000001"), is invalid_format, and a whole number
// beyond int64 is out_of_range, never rounded or wrapped.
func decimalToInt(text string) (int64, Reason, string) {
	if n, ok := smallInt(text); ok {
		return n, "", ""
	}
	// Any exponent: 1e-100000 is a fraction and 0e100000 zero, read in
	// time linear in the digits.
	d, ok, _ := parseDecimal(text, true, 1<<40)
	if !ok {
		return 0, ReasonInvalidFormat, quoteShort(text) + " is not an integer"
	}
	n, fraction, tooLarge := d.int64Shifted(0)
	switch {
	case fraction:
		return 0, ReasonInvalidFormat, quoteShort(text) + " is not a whole number"
	case tooLarge:
		return 0, ReasonOutOfRange, quoteShort(text) + " does not fit a 64-bit integer"
	}
	return n, "", ""
}

// int64Shifted is d × 10^places as an int64: fraction when a non-zero
// digit is left after the point, tooLarge when it does not fit (from
// math.MinInt64 to math.MaxInt64).
func (d *decimal) int64Shifted(places int) (n int64, fraction, tooLarge bool) {
	limit := uint64(math.MaxInt64)
	if d.neg {
		limit++ // -9223372036854775808
	}
	// The digits before point are whole units.
	point := len(d.intPart) + d.exp + places
	var u uint64
	for i := 0; i < d.n(); i++ {
		c := uint64(d.digit(i) - '0')
		if i >= point {
			if c != 0 {
				return 0, true, false
			}
			continue
		}
		if u > (limit-c)/10 {
			tooLarge = true // a fraction further on still wins
			continue
		}
		u = u*10 + c
	}
	if tooLarge {
		return 0, false, true
	}
	for i := d.n(); i < point && u != 0; i++ {
		if u > limit/10 {
			return 0, false, true
		}
		u *= 10
	}
	if d.neg {
		return int64(-u), false, false // u ≤ 1<<63: -u wraps to math.MinInt64 exactly there
	}
	return int64(u), false, false
}

// maxMinorDigits bounds the digits of an amount in minor units that
// minor_to_decimal reads: far beyond any money (a 30-digit amount is
// fine), short of unbounded work.
const maxMinorDigits = 400

// appendMinorToDecimal appends the decimal amount of a whole number of
// minor units with places decimal places: "1099" with 2 is "10.99", "5"
// with 2 "0.05", "500" with 0 "500". It is exact at any size; the amount
// keeps places decimal places ("1000" with 2 is "10.00").
func appendMinorToDecimal(dst []byte, text string, places int) ([]byte, Reason, string) {
	d, ok, _ := parseDecimal(text, true, maxMinorDigits)
	if !ok || d.n() > maxMinorDigits {
		return dst, ReasonInvalidFormat, quoteShort(text) + " is not a whole number of minor units"
	}
	// The whole number's digits: intPart+frac with the point moved exp
	// places right; any digit after it must be zero.
	whole := len(d.intPart) + d.exp
	for i := max(whole, 0); i < d.n(); i++ {
		if d.digit(i) != '0' {
			return dst, ReasonInvalidFormat, quoteShort(text) + " is not a whole number of minor units"
		}
	}
	if whole > maxMinorDigits {
		return dst, ReasonOutOfRange, quoteShort(text) + " is too large"
	}
	digitAt := func(i int) byte { // the i-th digit of the whole number
		if i < d.n() {
			return d.digit(i)
		}
		return '0'
	}
	first := 0
	for first < whole && digitAt(first) == '0' {
		first++
	}
	if first == whole { // zero
		dst = append(dst, '0')
		if places > 0 {
			dst = append(dst, '.')
			for range places {
				dst = append(dst, '0')
			}
		}
		return dst, "", ""
	}
	if d.neg {
		dst = append(dst, '-')
	}
	// The significant whole number is digitAt(first..whole).
	if l := whole - first; l > places {
		for i := first; i < whole; i++ {
			if i == whole-places {
				dst = append(dst, '.')
			}
			dst = append(dst, digitAt(i))
		}
	} else {
		dst = append(dst, "0."...)
		for range places - l {
			dst = append(dst, '0')
		}
		for i := first; i < whole; i++ {
			dst = append(dst, digitAt(i))
		}
	}
	return dst, "", ""
}

// ratDecimal writes an exact rational as decimal text, when it has a
// finite decimal expansion (every bound a JSON schema can write has one).
func ratDecimal(r *big.Rat) (string, bool) {
	if r.IsInt() {
		return r.Num().String(), true
	}
	den := new(big.Int).Set(r.Denom())
	ten, zero, rem := big.NewInt(10), big.NewInt(0), new(big.Int)
	places := 0
	for p := big.NewInt(1); places <= compareMaxExp; places++ {
		if rem.Mod(p, den).Cmp(zero) == 0 {
			return r.FloatString(places), true
		}
		p.Mul(p, ten)
	}
	return "", false
}

// decimalRat reads a number written as text as an exact rational (for the
// rare keyword that needs division: multipleOf).
func decimalRat(text string) (*big.Rat, bool) {
	if _, ok, _ := parseDecimal(text, true, compareMaxExp); !ok {
		return nil, false
	}
	return new(big.Rat).SetString(text)
}

// decimalMultipleOf reports whether the number written as text is a whole
// multiple of div, exactly, as JSON Schema's multipleOf means.
func decimalMultipleOf(text string, div *big.Rat) bool {
	r, ok := decimalRat(text)
	if !ok || div.Sign() == 0 {
		return false
	}
	return r.Quo(r, div).IsInt()
}

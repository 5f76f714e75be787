package mapper

import (
	"strconv"
	"time"
)

// The range of times RFC 3339 can write: years 0000 to 9999.
const (
	minRFC3339 = -62167219200 // 0000-01-01T00:00:00Z
	maxRFC3339 = 253402300799 // 9999-12-31T23:59:59Z
)

// When a rule gives no unit, a Unix time is read as seconds below 1e11 and
// as milliseconds from there, and the guess must land in 1970–2099;
// anything else is out_of_range, with a hint to give the unit.
const (
	guessMsFrom = 1e11
	guessMin    = 0          // 1970-01-01T00:00:00Z
	guessMax    = 4102444800 // 2100-01-01T00:00:00Z
)

// timestampUnits are the units a timestamp transform takes, as powers of
// ten of units per second.
var timestampUnits = map[string]int{"s": 0, "ms": 3, "us": 6, "ns": 9}

var timestampUnitNames = []string{"s", "ms", "us", "ns"}

func unitName(exp int) string {
	for _, n := range timestampUnitNames {
		if timestampUnits[n] == exp {
			return n
		}
	}
	return "s"
}

// tfTimestamp normalises RFC 3339 text and Unix times (a number or a
// numeric string) to RFC 3339 in UTC. Unix times are read exactly, in the
// rule's unit ({timestamp: {unit: ms}}) or, with none, by the documented
// magnitude guess. Other text layouts are accepted only when the rule lists
// them; they are read as UTC unless they carry a zone. A time outside RFC
// 3339's years 0000–9999 is out_of_range.
func tfTimestamp(m *Mapper, in tv, arg *transformArg) (tv, Reason, string) {
	var t time.Time
	switch in.k {
	case kNumber:
		var reason Reason
		var detail string
		t, reason, detail = unixTime(in.s, arg)
		if reason != "" {
			return tv{}, reason, detail
		}
	case kString:
		s := in.s
		if canonicalUTC(s) {
			// Already what the transform would write.
			return in, "", ""
		}
		var err error
		t, err = time.Parse(time.RFC3339Nano, s)
		if err != nil {
			ok := false
			if isDecimalText(s) {
				var reason Reason
				var detail string
				if t, reason, detail = unixTime(s, arg); reason != "" {
					return tv{}, reason, detail
				}
				ok = true
			}
			if !ok && arg != nil {
				for _, layout := range arg.layouts {
					if lt, err := time.Parse(layout, s); err == nil {
						t, ok = lt, true
						break
					}
				}
			}
			if !ok {
				return tv{}, ReasonInvalidFormat, quoteShort(s) + " is not an RFC 3339 timestamp or Unix time"
			}
		}
	default:
		return mismatch("timestamp string or Unix time", in)
	}
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return tv{}, ReasonOutOfRange, "the time is in year " + strconv.Itoa(y) + ", outside RFC 3339's 0000–9999"
	}
	start := len(m.scratch)
	m.scratch = t.AppendFormat(m.scratch, time.RFC3339Nano)
	return tv{k: kString, s: b2s(m.scratch[start:])}, "", ""
}

// unixTime reads a Unix time exactly, in arg's unit or by the magnitude
// guess (see guessMsFrom).
func unixTime(text string, arg *transformArg) (time.Time, Reason, string) {
	unit := -1
	if arg != nil {
		unit = arg.unit
	}
	guessed := unit < 0
	if guessed {
		unit = 0
	}
	sec, nsec, reason, detail := decimalTime(text, unit)
	if reason == "" && guessed && (sec >= guessMsFrom || sec <= -guessMsFrom) {
		unit = 3
		sec, nsec, reason, detail = decimalTime(text, unit)
	}
	if reason != "" {
		return time.Time{}, reason, detail
	}
	if guessed && (sec < guessMin || sec >= guessMax) {
		return time.Time{}, ReasonOutOfRange, quoteShort(text) + " read as Unix " + unitName(unit) +
			" is outside 1970–2099, the range a Unix time without a unit may have: give the unit ({timestamp: {unit: s|ms|us|ns}})"
	}
	if sec < minRFC3339 || sec > maxRFC3339 {
		return time.Time{}, ReasonOutOfRange, quoteShort(text) + " in Unix " + unitName(unit) + " is outside RFC 3339's years 0000–9999"
	}
	return time.Unix(sec, nsec), "", ""
}

// decimalTime reads a decimal number (JSON number syntax, or a numeric
// string) of units with 10^unit units per second into whole seconds and
// nanoseconds, exactly, with no floating point: the decimal point is moved
// in the text. It allocates nothing.
func decimalTime(text string, unit int) (sec, nsec int64, reason Reason, detail string) {
	d, ok, tooFar := parseDecimal(text, true, 40)
	switch {
	case tooFar:
		return 0, 0, ReasonOutOfRange, quoteShort(text) + " is too far from 1970 to be a Unix time"
	case !ok:
		return 0, 0, ReasonInvalidFormat, quoteShort(text) + " is not a Unix time"
	}
	neg, digit, n := d.neg, d.digit, d.n()
	// The value in nanoseconds is the digits with the decimal point after
	// `point` of them.
	point := len(d.intPart) + d.exp + 9 - unit
	for i := max(point, 0); i < n; i++ {
		if digit(i) != '0' {
			return 0, 0, ReasonInvalidFormat, quoteShort(text) + " is finer than a nanosecond"
		}
	}
	first := 0
	for first < min(point, n) && digit(first) == '0' {
		first++
	}
	if point-first > 9+15 { // 10^15 seconds or more: far past year 9999
		return 0, 0, ReasonOutOfRange, quoteShort(text) + " is too far from 1970 to be a Unix time"
	}
	for i := first; i < point; i++ {
		d := int64(0)
		if i < n {
			d = int64(digit(i) - '0')
		}
		if point-i > 9 {
			sec = sec*10 + d
		} else {
			nsec = nsec*10 + d
		}
	}
	if neg {
		sec, nsec = -sec, -nsec
		if nsec < 0 {
			sec--
			nsec += 1e9
		}
	}
	return sec, nsec, "", ""
}

// canonicalUTC reports whether s is a valid time written exactly as the
// transform writes it, "2006-01-02T15:04:05Z" in UTC with no fraction: a
// real date of years 0000–9999, hours to 23, minutes and seconds to 59.
// time.Parse reads such text to the time AppendFormat writes back as s.
func canonicalUTC(s string) bool {
	if len(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return false
	}
	var v [6]int
	for i, at := range [6]int{0, 5, 8, 11, 14, 17} {
		n := 2
		if i == 0 {
			n = 4
		}
		for _, c := range []byte(s[at : at+n]) {
			if c < '0' || c > '9' {
				return false
			}
			v[i] = v[i]*10 + int(c-'0')
		}
	}
	year, month, day := v[0], v[1], v[2]
	if month < 1 || month > 12 || day < 1 || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

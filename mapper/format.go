package mapper

// The compiled checks call jsonschema/v5's format checks, so that they
// agree with the validator. Its date-time and date checks parse the date
// with time.Parse, which walks a layout for every value; a timestamp is in
// most records, so formatCheck gives those two a byte loop for the common
// shape (every digit in its place) that decides exactly as jsonschema/v5
// does, and hands any other shape to jsonschema/v5's own check.

// formatCheck is the check of the format named: f (jsonschema/v5's), or
// for date-time and date a check that agrees with f on every value.
func formatCheck(name string, f func(any) bool) func(any) bool {
	switch name {
	case "date-time":
		return plainOr(plainDateTime, f)
	case "date":
		return plainOr(plainDate, f)
	}
	return f
}

// plainOr is a format check that lets plain decide a string when it can,
// and f every other value.
func plainOr(plain func(string) (ok, decided bool), f func(any) bool) func(any) bool {
	return func(v any) bool {
		if s, isString := v.(string); isString {
			if ok, decided := plain(s); decided {
				return ok
			}
		}
		return f(v)
	}
}

// plainDateTime decides RFC 3339's date-time for s as jsonschema/v5 does
// (a full-date, 'T' or 't', a full-time) when the date and every two-digit
// field of the time are all digits; decided is false for any other s.
func plainDateTime(s string) (ok, decided bool) {
	if len(s) < 20 { // yyyy-mm-ddThh:mm:ssZ
		return false, true
	}
	if s[10] != 'T' && s[10] != 't' {
		return false, true
	}
	dateOK, decided := plainDate(s[:10])
	if !decided {
		return false, false
	}
	timeOK, decided := plainTime(s[11:])
	if !decided {
		return false, false
	}
	return dateOK && timeOK, true
}

// plainDate decides what time.Parse("2006-01-02", s) == nil says for an s
// of the shape dddd-dd-dd (d a decimal digit); decided is false for any
// other s.
func plainDate(s string) (ok, decided bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false, false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9} {
		if !isDigit(s[i]) {
			return false, false
		}
	}
	year := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	month := int(s[5]-'0')*10 + int(s[6]-'0')
	day := int(s[8]-'0')*10 + int(s[9]-'0')
	if month < 1 || month > 12 {
		return false, true
	}
	return day >= 1 && day <= daysIn(month, year), true
}

// daysIn is the number of days of month in year, by the proleptic
// Gregorian calendar (as package time counts them).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// plainTime decides RFC 3339's full-time for str as jsonschema/v5 does
// when each of its two-digit fields (hour, minute, second, and the
// offset's hour and minute) is two digits; decided is false when one is
// not (strconv.Atoi, which jsonschema/v5 reads them with, takes a sign).
func plainTime(str string) (ok, decided bool) {
	// hh:mm:ss
	if len(str) < 9 || str[2] != ':' || str[5] != ':' {
		return false, true
	}
	h, okH := twoDigits(str[0:2])
	m, okM := twoDigits(str[3:5])
	s, okS := twoDigits(str[6:8])
	if !okH || !okM || !okS {
		return false, false
	}
	if h > 23 || m > 59 || s > 60 {
		return false, true
	}
	str = str[8:]
	// secfrac: a dot and at least one digit
	if str[0] == '.' {
		str = str[1:]
		n := 0
		for n < len(str) && isDigit(str[n]) {
			n++
		}
		if n == 0 {
			return false, true
		}
		str = str[n:]
	}
	if len(str) == 0 {
		return false, true
	}
	if str[0] == 'z' || str[0] == 'Z' {
		if len(str) != 1 {
			return false, true
		}
	} else {
		// time-numoffset: +hh:mm or -hh:mm
		if len(str) != 6 || str[3] != ':' {
			return false, true
		}
		var sign int
		switch str[0] {
		case '+':
			sign = -1
		case '-':
			sign = +1
		default:
			return false, true
		}
		zh, okZH := twoDigits(str[1:3])
		zm, okZM := twoDigits(str[4:6])
		if !okZH || !okZM {
			return false, false
		}
		if zh > 23 || zm > 59 {
			return false, true
		}
		hm := (h*60 + m) + sign*(zh*60+zm)
		if hm < 0 {
			hm += 24 * 60
		}
		h, m = hm/60, hm%60
	}
	// A leap second is only at 23:59 UTC.
	if s == 60 && (h != 23 || m != 59) {
		return false, true
	}
	return true, true
}

// twoDigits reads a two-digit decimal; false when s is not two digits.
func twoDigits(s string) (int, bool) {
	if !isDigit(s[0]) || !isDigit(s[1]) {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

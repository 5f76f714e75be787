package mapper

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// The date-time and date checks agree with jsonschema/v5's on every value;
// the common shape is decided without it.
func TestFormatCheckAgreesWithJSONSchema(t *testing.T) {
	tests := []struct {
		format, value string
		want          bool
		decided       bool // decided by the byte loop, not handed on
	}{
		{"date-time", "2025-05-04T21:55:15Z", true, true},
		{"date-time", "2025-05-04t21:55:15z", true, true},
		{"date-time", "2025-05-04T21:55:15.123456789+05:30", true, true},
		{"date-time", "2025-05-04T21:55:15.Z", false, true},
		{"date-time", "2025-05-04T21:55:15", false, true},
		{"date-time", "2025-05-04 21:55:15Z", false, true},
		{"date-time", "2024-02-29T00:00:00Z", true, true},
		{"date-time", "2023-02-29T00:00:00Z", false, true},
		{"date-time", "1900-02-29T00:00:00Z", false, true},
		{"date-time", "2000-02-29T00:00:00Z", true, true},
		{"date-time", "0000-02-29T00:00:00Z", true, true},
		{"date-time", "2025-04-31T00:00:00Z", false, true},
		{"date-time", "2025-13-01T00:00:00Z", false, true},
		{"date-time", "2025-00-01T00:00:00Z", false, true},
		{"date-time", "2025-01-00T00:00:00Z", false, true},
		{"date-time", "2025-01-01T24:00:00Z", false, true},
		{"date-time", "2025-01-01T23:60:00Z", false, true},
		{"date-time", "2016-12-31T23:59:60Z", true, true},
		{"date-time", "2016-12-31T12:59:60Z", false, true},
		{"date-time", "2016-12-31T15:59:60-08:00", true, true},
		{"date-time", "2016-12-31T23:59:60+01:00", false, true},
		{"date-time", "2016-12-31T00:59:60+01:00", true, true},
		{"date-time", "2025-01-01T00:00:00+24:00", false, true},
		{"date-time", "2025-01-01T00:00:00+01:60", false, true},
		{"date-time", "2025-01-01T00:00:00*01:00", false, true},
		{"date-time", "2025-01-01T00:00:00+0100", false, true},
		{"date-time", "2025-01-01T00:00:00ZZ", false, true},
		// strconv.Atoi takes a sign: these go to jsonschema/v5.
		{"date-time", "2025-01-01T+1:00:00Z", true, false},
		{"date-time", "2025-01-01T00:00:00-+1:00", true, false},
		{"date-time", "2025-01-01T00:00:00+-1:00", false, false},
		{"date-time", "+025-01-01T00:00:00Z", false, false},
		{"date-time", "2025/01/01T00:00:00Z", false, false},
		{"date-time", "yesterday, at noon UTC", false, true},
		{"date", "2024-02-29", true, true},
		{"date", "2023-02-29", false, true},
		{"date", "2024-2-29", false, false},
		{"date", "2024-02-29T00:00:00Z", false, false},
		{"date", "", false, false},
		{"time", "21:55:15Z", true, false},
	}
	for _, tc := range tests {
		lib := jsonschema.Formats[tc.format]
		check := formatCheck(tc.format, lib)
		if got, lw := check(tc.value), lib(tc.value); got != tc.want || lw != tc.want {
			t.Errorf("%s %q: check %v, jsonschema/v5 %v, want %v", tc.format, tc.value, got, lw, tc.want)
		}
		var decided bool
		switch tc.format {
		case "date-time":
			_, decided = plainDateTime(tc.value)
		case "date":
			_, decided = plainDate(tc.value)
		}
		if decided != tc.decided {
			t.Errorf("%s %q: decided by the byte loop %v, want %v", tc.format, tc.value, decided, tc.decided)
		}
	}
	// A value that is not a string is jsonschema/v5's to judge (it passes).
	for _, name := range []string{"date-time", "date"} {
		if !formatCheck(name, jsonschema.Formats[name])(json.Number("20250504")) {
			t.Errorf("%s: a number failed", name)
		}
	}
}

// timestampish makes strings near the date-time shape: a valid timestamp
// with some bytes replaced, dropped or added from the characters that
// matter to the grammar.
func timestampish(r *rand.Rand) string {
	const alphabet = "0123456789-:.TtZz+ x9"
	b := []byte(
		// every field somewhere in or just out of its range
		string(rune('0'+r.IntN(10))) + string(rune('0'+r.IntN(10))) + string(rune('0'+r.IntN(10))) + string(rune('0'+r.IntN(10))) +
			"-" + string(rune('0'+r.IntN(2))) + string(rune('0'+r.IntN(10))) +
			"-" + string(rune('0'+r.IntN(4))) + string(rune('0'+r.IntN(10))) +
			"T" + string(rune('0'+r.IntN(3))) + string(rune('0'+r.IntN(10))) +
			":" + string(rune('0'+r.IntN(7))) + string(rune('0'+r.IntN(10))) +
			":" + string(rune('0'+r.IntN(7))) + string(rune('0'+r.IntN(10))))
	switch r.IntN(4) {
	case 0:
		b = append(b, 'Z')
	case 1:
		b = append(b, '.')
		for n := r.IntN(4); n > 0; n-- {
			b = append(b, byte('0'+r.IntN(10)))
		}
		b = append(b, 'z')
	default:
		b = append(b, "+-"[r.IntN(2)], byte('0'+r.IntN(3)), byte('0'+r.IntN(10)), ':', byte('0'+r.IntN(7)), byte('0'+r.IntN(10)))
	}
	for n := r.IntN(3); n > 0; n-- {
		i := r.IntN(len(b) + 1)
		c := alphabet[r.IntN(len(alphabet))]
		switch r.IntN(3) {
		case 0:
			if i < len(b) {
				b[i] = c
			}
		case 1:
			if i < len(b) {
				b = append(b[:i], b[i+1:]...)
			}
		default:
			b = append(b[:i], append([]byte{c}, b[i:]...)...)
		}
	}
	return string(b)
}

// Over many near-timestamps, the checks say what jsonschema/v5 says, and
// most of them are decided by the byte loop.
func TestFormatCheckAgreesOnNearTimestamps(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 2026))
	lib := map[string]func(any) bool{"date-time": jsonschema.Formats["date-time"], "date": jsonschema.Formats["date"]}
	checks := map[string]func(any) bool{"date-time": formatCheck("date-time", lib["date-time"]), "date": formatCheck("date", lib["date"])}
	decided, valid := 0, 0
	const n = 100000
	for range n {
		s := timestampish(r)
		if got, want := checks["date-time"](s), lib["date-time"](s); got != want {
			t.Fatalf("date-time %q: %v, jsonschema/v5 says %v", s, got, want)
		}
		if len(s) >= 10 {
			if got, want := checks["date"](s[:10]), lib["date"](s[:10]); got != want {
				t.Fatalf("date %q: %v, jsonschema/v5 says %v", s[:10], got, want)
			}
		}
		if ok, d := plainDateTime(s); d {
			decided++
			if ok {
				valid++
			}
		}
	}
	if decided < n/2 || valid == 0 || valid == decided {
		t.Errorf("the byte loop decided %d of %d values, %d of them valid: the generator misses the common shape", decided, n, valid)
	}
}

func FuzzFormatCheckAgreesWithJSONSchema(f *testing.F) {
	for _, s := range []string{
		"2025-05-04T21:55:15Z", "2016-12-31T15:59:60-08:00", "2024-02-29", "2025-01-01T+1:00:00Z",
		"2025-05-04T21:55:15.5+05:30", "0000-01-01t00:00:00z",
	} {
		f.Add(s)
	}
	dateTime, date := jsonschema.Formats["date-time"], jsonschema.Formats["date"]
	checkDateTime, checkDate := formatCheck("date-time", dateTime), formatCheck("date", date)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := checkDateTime(s), dateTime(s); got != want {
			t.Errorf("date-time %q: %v, jsonschema/v5 says %v", s, got, want)
		}
		if got, want := checkDate(s), date(s); got != want {
			t.Errorf("date %q: %v, jsonschema/v5 says %v", s, got, want)
		}
	})
}

func BenchmarkFormatDateTime(b *testing.B) {
	lib := jsonschema.Formats["date-time"]
	for _, bc := range []struct {
		name  string
		check func(any) bool
	}{{"jsonschema", lib}, {"compiled", formatCheck("date-time", lib)}} {
		b.Run(bc.name, func(b *testing.B) {
			var v any = "2025-05-04T21:55:15Z"
			b.ReportAllocs()
			for b.Loop() {
				if !bc.check(v) {
					b.Fatal("rejected a valid date-time")
				}
			}
		})
	}
}

package mapper

import (
	"testing"
	"time"
)

// canonicalUTCAgrees reports whether canonicalUTC(s) agrees with time.Parse
// and AppendFormat: whatever it passes they read and write back unchanged
// (within the years RFC 3339 can write), and it passes every such text of
// 20 bytes (the form without a fraction, the one it knows).
func canonicalUTCAgrees(s string) bool {
	t, err := time.Parse(time.RFC3339Nano, s)
	same := err == nil && t.UTC().Format(time.RFC3339Nano) == s
	if y := t.UTC().Year(); same && (y < 0 || y > 9999) {
		same = false
	}
	if canonicalUTC(s) {
		return same
	}
	return !same || len(s) != 20
}

func TestCanonicalUTCIsWhatTheTransformWrites(t *testing.T) {
	for _, s := range []string{
		"2024-05-01T12:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
		"2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z",
		"2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-01-00T00:00:00Z",
		"2024-05-01T24:00:00Z", "2024-05-01T23:60:00Z", "2024-05-01T23:59:60Z",
		"2024-05-01t12:00:00Z", "2024-05-01T12:00:00z", "2024-05-01T12:00:00+00:00", "2024-05-01T12:00:00.5Z",
		"2024-05-01 12:00:00Z", "+024-05-01T12:00:00Z", "2024-5-01T12:00:00Z", "2024-05-01T12:00:0Z", "yesterday",
	} {
		if !canonicalUTCAgrees(s) {
			t.Errorf("canonicalUTC(%q) = %v, against time.Parse and AppendFormat", s, canonicalUTC(s))
		}
	}
}

func FuzzCanonicalUTCIsWhatTheTransformWrites(f *testing.F) {
	for _, s := range []string{"2024-05-01T12:00:00Z", "2024-02-29T23:59:59Z", "0000-01-01T00:00:00Z", "2024-13-45T99:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !canonicalUTCAgrees(s) {
			t.Fatalf("canonicalUTC(%q) = %v", s, canonicalUTC(s))
		}
	})
}

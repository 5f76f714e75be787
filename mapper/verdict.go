package mapper

import "bytes"

// Verdict says how the result of one record under one rule set compares
// with its result under another. Shadow and canary runs of candidate rules
// and replay report the same verdicts.
type Verdict string

// The verdicts, from the point of view of the second (newer) rule set.
const (
	// VerdictSame: same outcome, same failure categories and, when the record
	// is delivered, the same output bytes.
	VerdictSame Verdict = "same"
	// VerdictNowMapped: rejected before, delivered (mapped or degraded) now.
	VerdictNowMapped Verdict = "now_mapped"
	// VerdictNewlyFailing: delivered before, rejected now.
	VerdictNewlyFailing Verdict = "newly_failing"
	// VerdictFailingDifferently: the outcome's side (delivered or rejected)
	// is the same but the set of failure categories differs.
	VerdictFailingDifferently Verdict = "failing_differently"
	// VerdictOutputChanged: delivered both times with the same failure
	// categories, but the domain record differs.
	VerdictOutputChanged Verdict = "output_changed"
)

// Verdicts returns every verdict in a fixed order, for tables and tags.
func Verdicts() []Verdict {
	return []Verdict{VerdictSame, VerdictNowMapped, VerdictNewlyFailing, VerdictFailingDifferently, VerdictOutputChanged}
}

// Compare says what the change from before to after did to one record.
// Neither result is modified; it allocates nothing.
func Compare(before, after *Result) Verdict {
	bd, ad := before.Outcome.Delivered(), after.Outcome.Delivered()
	switch {
	case !bd && ad:
		return VerdictNowMapped
	case bd && !ad:
		return VerdictNewlyFailing
	}
	if !sameCategories(before.Failures, after.Failures) {
		return VerdictFailingDifferently
	}
	if ad && !bytes.Equal(before.Output, after.Output) {
		return VerdictOutputChanged
	}
	return VerdictSame
}

// sameCategories reports whether a and b hold the same set of failure
// categories, whatever their order and details. A record lists each
// (reason, field) once, so comparing counts and membership is enough.
func sameCategories(a, b []Failure) bool {
	if len(a) != len(b) {
		return false
	}
	for _, fa := range a {
		found := false
		for _, fb := range b {
			if fa.Reason == fb.Reason && fa.Field == fb.Field {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

package mapper

import "testing"

func TestCompare(t *testing.T) {
	missing := Failure{Reason: ReasonMissingField, Field: "id", Detail: "required field is absent"}
	enum := Failure{Reason: ReasonUnknownEnum, Field: "status", Detail: `value "x" is not in the enum table`}
	defaulted := Failure{Reason: ReasonDefaulted, Field: "currency", Detail: "absent or null; default used"}
	mapped := func(out string, fs ...Failure) *Result {
		o := OutcomeMapped
		if len(fs) > 0 {
			o = OutcomeDegraded
		}
		return &Result{Outcome: o, Output: []byte(out), Failures: fs}
	}
	rejected := func(fs ...Failure) *Result {
		return &Result{Outcome: OutcomeRejected, Output: []byte(`{}`), Failures: fs}
	}
	tests := []struct {
		name          string
		before, after *Result
		want          Verdict
	}{
		{"identical clean records are the same", mapped(`{"a":1}`), mapped(`{"a":1}`), VerdictSame},
		{"the same rejection is the same whatever the detail", rejected(missing), rejected(Failure{Reason: ReasonMissingField, Field: "id", Detail: "other"}), VerdictSame},
		{"failure order does not matter", rejected(missing, enum), rejected(enum, missing), VerdictSame},
		{"a rejected record delivered now is now mapped", rejected(enum), mapped(`{"a":1}`), VerdictNowMapped},
		{"a rejected record delivered degraded now is now mapped", rejected(enum), mapped(`{"a":1}`, defaulted), VerdictNowMapped},
		{"a delivered record rejected now is newly failing", mapped(`{"a":1}`), rejected(enum), VerdictNewlyFailing},
		{"a degraded record rejected now is newly failing", mapped(`{"a":1}`, defaulted), rejected(enum), VerdictNewlyFailing},
		{"another rejection is failing differently", rejected(enum), rejected(missing), VerdictFailingDifferently},
		{"an added rejection is failing differently", rejected(enum), rejected(enum, missing), VerdictFailingDifferently},
		{"clean to degraded is failing differently", mapped(`{"a":1}`), mapped(`{"a":1}`, defaulted), VerdictFailingDifferently},
		{"a different domain record is output changed", mapped(`{"a":1}`), mapped(`{"a":2}`), VerdictOutputChanged},
		{"the partial output of rejected records is not compared", &Result{Outcome: OutcomeRejected, Output: []byte(`{"a":1}`), Failures: []Failure{enum}}, rejected(enum), VerdictSame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Compare(tt.before, tt.after); got != tt.want {
				t.Errorf("Compare() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCompareAllocatesNothing(t *testing.T) {
	a := &Result{Outcome: OutcomeMapped, Output: []byte(`{"a":1}`)}
	b := &Result{Outcome: OutcomeRejected, Failures: []Failure{{Reason: ReasonMissingField, Field: "id"}}}
	if n := testing.AllocsPerRun(100, func() { Compare(a, b); Compare(a, a); Compare(b, b) }); n != 0 {
		t.Errorf("Compare allocates %v times per run, want 0", n)
	}
}

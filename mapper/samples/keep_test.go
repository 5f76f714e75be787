package samples

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

func TestKeepStoresACategoryOfItsOwnWithTheCandidateResult(t *testing.T) {
	src := testSource(t)
	dir := t.TempDir()
	st, err := Open(Config{Dir: dir, Rand: seeded(1), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	payload := orderPayload(" Ana@Example.COM ", "Ana Silva", "+351 912 345 678", "OPEN")
	live := src.Map(payload)
	if live.Outcome != mapper.OutcomeMapped {
		t.Fatalf("test payload is %s", live.Outcome)
	}
	cand := &mapper.Result{Outcome: mapper.OutcomeRejected, Output: []byte("{}"), Failures: []mapper.Failure{
		{Reason: mapper.ReasonInvalidFormat, Field: "customer.email", Detail: `"ana@example.com" is not allowed`},
		{Reason: mapper.ReasonUnknownEnum, Field: "state", Detail: `"OPEN" is not one of PAID`},
	}}
	origin := &mapper.Origin{Topic: "shop.orders", Partition: 2, Offset: 41, Key: []byte("k41")}
	for range 3 {
		st.Keep("candidate:newly_failing", origin, src, payload, &live, 5, cand)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	ss, err := Read(dir, "shop-orders", "candidate:newly_failing")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 3 {
		t.Fatalf("kept %d samples, want 3", len(ss))
	}
	s := ss[0]
	if s.Category != "candidate:newly_failing" || s.Outcome != mapper.OutcomeMapped || s.RulesVersion != 4 || s.Offset != 41 {
		t.Errorf("sample %+v: want the live result (v4, mapped) in its category", s)
	}
	if s.Candidate == nil || s.Candidate.RulesVersion != 5 || s.Candidate.Outcome != mapper.OutcomeRejected || len(s.Candidate.Failures) != 2 {
		t.Fatalf("candidate result %+v", s.Candidate)
	}
	if d := s.Candidate.Failures[0].Detail; strings.Contains(d, "ana@example.com") {
		t.Errorf("candidate failure detail on a redacted field kept: %q", d)
	}
	if d := s.Candidate.Failures[1].Detail; d != `"OPEN" is not one of PAID` {
		t.Errorf("a detail of a field that is not redacted was changed: %q", d)
	}
	for _, secret := range []string{"Ana", "Silva", "912"} {
		if bytes.Contains(s.Payload, []byte(secret)) {
			t.Errorf("payload keeps %q: %s", secret, s.Payload)
		}
	}
	counts, err := Counts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c := counts["shop-orders"]; c.Records != 0 {
		t.Errorf("kept candidate records counted among the source's records: %+v", c)
	}
}

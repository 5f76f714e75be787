package alerts_test

import (
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
)

func TestNoticeIsSentOncePerKindSourceAndVersions(t *testing.T) {
	s := newSentryServer(t, "ok")
	stats := &statsRecorder{}
	a := newAlerter(t, alerts.Config{DSN: s.dsn, Stats: stats})
	n := alerts.Notice{
		Kind: alerts.NoticeCandidateNewlyFailing, Source: "orders", RulesVersion: 1, CandidateVersion: 2,
		Message: "orders: candidate rules v2 reject records the live rules v1 deliver",
		Failures: []mapper.Failure{
			{Reason: mapper.ReasonUnknownEnum, Field: "currency", Detail: `"BRL" is not one of EUR, USD`},
			{Reason: mapper.ReasonInvalidFormat, Field: "customer.email", Detail: `"alice.secret@example.com" is not an email`},
		},
		Src: loadShop(t), Topic: "partner.orders.raw", Partition: 1, Offset: 7,
	}
	for range 50 {
		a.Notify(n)
	}
	other := n
	other.CandidateVersion = 3
	if !a.Notify(other) {
		t.Error("a notice of another candidate version was not queued")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	evs := s.received()
	if len(evs) != 2 {
		t.Fatalf("got %d events, want one per candidate version (2)", len(evs))
	}
	ev := evs[0]
	if want := "candidate_newly_failing orders 1 2"; strings.Join(ev.Fingerprint, " ") != want {
		t.Errorf("fingerprint %q, want %q", ev.Fingerprint, want)
	}
	if ev.Tags["candidate_version"] != "2" || ev.Tags["kind"] != alerts.NoticeCandidateNewlyFailing || ev.Tags["topic"] != "partner.orders.raw" {
		t.Errorf("tags %v", ev.Tags)
	}
	if strings.Contains(string(ev.Raw), secret) {
		t.Errorf("a redacted value left the process: %s", string(ev.Raw))
	}
	if !strings.Contains(string(ev.Raw), `\"BRL\" is not one of EUR, USD`) && !strings.Contains(string(ev.Raw), `"BRL" is not one of EUR, USD`) {
		t.Errorf("the detail of a field that is not redacted is missing: %s", string(ev.Raw))
	}
	if got := stats.count("orders/candidate_newly_failing/sent"); got != 2 {
		t.Errorf("stats counted %d sent notices, want 2", got)
	}
}

package alerts_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
)

// loadShop loads testdata/rules/shop.yaml: source "shop", version 3, with
// customer.email redacted.
func loadShop(t testing.TB) *mapper.Source {
	t.Helper()
	e, err := mapper.Load("testdata/rules", "testdata/schemas", mapper.Options{})
	if err != nil {
		t.Fatalf("load testdata rules: %v", err)
	}
	s := e.Source("shop")
	if s == nil {
		t.Fatal("testdata rules have no source shop")
	}
	return s
}

const secret = "alice.secret@example.com"

func TestEventOfARealSourceCarriesTheCategoryAndNoSecret(t *testing.T) {
	src := loadShop(t)
	s := newSentryServer(t, "ok")
	a := newAlerter(t, alerts.Config{DSN: s.dsn})

	var m mapper.Mapper
	var res mapper.Result
	// 10,000 records of one defect (an unknown status), all carrying a
	// customer email that must never leave the process.
	for i := range 10000 {
		payload := []byte(fmt.Sprintf(`{"order_id":"o-%d","customer":{"email":%q},"state":"LOST"}`, i, secret))
		m.Map(src, payload, &res)
		origin := &mapper.Origin{Topic: "shop.orders", Partition: 3, Offset: 1000 + int64(i), Key: []byte("o-" + fmt.Sprint(i)), Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
		a.Observe(origin, src, payload, &res, time.Millisecond)
	}
	// A second defect at the redacted path itself.
	bad := []byte(fmt.Sprintf(`{"order_id":"x","customer":{"email":[%q]},"state":"PAID"}`, secret))
	m.Map(src, bad, &res)
	a.Observe(&mapper.Origin{Topic: "shop.orders"}, src, bad, &res, time.Millisecond)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	evs := s.received()
	var prints []string
	for _, ev := range evs {
		prints = append(prints, strings.Join(ev.Fingerprint, "|"))
		if bytes.Contains(ev.Raw, []byte(secret)) || bytes.Contains(ev.Raw, []byte("alice")) {
			t.Errorf("event %q carries the redacted email:\n%s", ev.Fingerprint, ev.Raw)
		}
	}
	if want := []string{"shop|unknown_enum|state|3", "shop|type_mismatch|customer.email|3"}; !slices.Equal(prints, want) {
		t.Fatalf("events = %q, want %q (one per category, not one per record)", prints, want)
	}

	ev := evs[0]
	for k, want := range map[string]string{"source": "shop", "reason": "unknown_enum", "field": "state", "topic": "shop.orders", "rules_version": "3", "outcome": "rejected"} {
		if ev.Tags[k] != want {
			t.Errorf("tag %s = %q, want %q", k, ev.Tags[k], want)
		}
	}
	for k, want := range map[string]string{"topic": "shop.orders", "partition": "3", "offset": "1000", "key": "o-0", "time": "2026-05-01T12:00:00Z"} {
		if got := ev.context("record", k); got != want {
			t.Errorf("record context %s = %s, want %s", k, got, want)
		}
	}
	if got := ev.context("failure", "detail"); !strings.Contains(got, "LOST") {
		t.Errorf("failure detail = %s, want the engine's detail naming the unknown value", got)
	}
	if got, want := ev.context("failure", "samples"), "mapper samples show --source shop --category unknown_enum:state"; got != want {
		t.Errorf("samples hint = %s, want %s", got, want)
	}
	if len(ev.Attachments) != 1 {
		t.Fatalf("got %d attachments, want the redacted payload", len(ev.Attachments))
	}
	att := ev.Attachments[0]
	if att.Header["filename"] != alerts.AttachmentName || att.Header["content_type"] != "application/json" {
		t.Errorf("attachment header = %v", att.Header)
	}
	first := []byte(fmt.Sprintf(`{"order_id":"o-0","customer":{"email":%q},"state":"LOST"}`, secret))
	if want := src.Redact(first); !bytes.Equal(att.Payload, want) {
		t.Errorf("attachment = %s, want the source's redaction of the first record %s", att.Payload, want)
	}

	// The failure at the redacted path keeps its category but not its detail.
	wantDetail := src.SafeDetail(mapper.Failure{Reason: mapper.ReasonTypeMismatch, Field: "customer.email", Detail: secret})
	if got := evs[1].context("failure", "detail"); got != wantDetail || strings.Contains(got, secret) {
		t.Errorf("detail of a failure at a redacted path = %s, want the source's value-free %s", got, wantDetail)
	}
	if c := a.Counts(); c.Sent != 2 || c.Suppressed != 9999 {
		t.Errorf("counts = %+v, want 2 sent, 9999 suppressed", c)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/observe"
	"github.com/mapperhq/mapper/mapper/samples"
)

// A candidate that redacts more than the live rules: what it redacts is
// masked in the kept sample too, whichever rules the sample is filed under.
func TestCandidateSamplesAreRedactedWithBothRuleSets(t *testing.T) {
	tmp := t.TempDir()
	liveDir, candDir := filepath.Join(tmp, "live"), filepath.Join(tmp, "cand")
	writeOrdersRules(t, liveDir, "partner.orders.raw", "live")
	writeOrdersRules(t, candDir, "partner.orders.raw", "candidate")
	const full = "redact: [customer.email, customer.name, customer.address, meta.ip]"
	data, err := os.ReadFile(filepath.Join(liveDir, "orders.yaml"))
	if err != nil || !bytes.Contains(data, []byte(full)) {
		t.Fatalf("rules/orders.yaml no longer has %q (%v)", full, err)
	}
	if err := os.WriteFile(filepath.Join(liveDir, "orders.yaml"), bytes.Replace(data, []byte(full), []byte("redact: [customer.email]"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func(dir string) *mapper.Source {
		e, err := mapper.Load(dir, "../../schemas", mapper.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return e.Source("orders")
	}
	live, cand := load(liveDir), load(candDir)
	// The first shipped order fixture the candidate newly fails (currency BRL).
	var payload []byte
	var lr, cr mapper.Result
	for _, m := range orderFixtures(t) {
		lr, cr = live.Map(m.Value), cand.Map(m.Value)
		if mapper.Compare(&lr, &cr) == mapper.VerdictNewlyFailing {
			payload = m.Value
			break
		}
	}
	if payload == nil {
		t.Fatal("no fixture is newly failing under the candidate")
	}
	var secrets struct {
		Customer struct {
			Email, Name string
			Address     struct{ City string }
		}
	}
	if err := json.Unmarshal(payload, &secrets); err != nil || secrets.Customer.Name == "" || secrets.Customer.Address.City == "" {
		t.Fatalf("fixture without a customer name and city: %s", payload)
	}
	dir := filepath.Join(tmp, "samples")
	st, err := samples.Open(samples.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ev := &observe.ReleaseEvents{Samples: st}
	ev.Compared(&mapper.Origin{Topic: "partner.orders.raw"}, payload, live, &lr, cand, &cr, mapper.VerdictNewlyFailing)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	ss, err := samples.Read(dir, "orders", "candidate:newly_failing")
	if err != nil || len(ss) != 1 {
		t.Fatalf("read %d samples: %v", len(ss), err)
	}
	line := string(ss[0].Payload)
	for _, secret := range []string{secrets.Customer.Email, secrets.Customer.Name, secrets.Customer.Address.City} {
		if strings.Contains(line, secret) {
			t.Errorf("kept sample carries %q: %s", secret, line)
		}
	}
	if !strings.Contains(line, `"BRL"`) || ss[0].Candidate == nil || ss[0].Candidate.RulesVersion != 2 {
		t.Errorf("sample lost what explains it: %s candidate %+v", line, ss[0].Candidate)
	}
}

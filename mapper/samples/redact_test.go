package samples

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/mapperhq/mapper/mapper"
)

func testSource(t testing.TB) *mapper.Source {
	t.Helper()
	e, err := mapper.Load(filepath.Join("testdata", "rules"), filepath.Join("testdata", "schemas"), mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := e.Source("shop-orders")
	if src == nil {
		t.Fatal("testdata/rules: no source shop-orders")
	}
	return src
}

func orderPayload(email, name, phone, state string) []byte {
	b, _ := json.Marshal(map[string]any{
		"order_id": "A1",
		"state":    state,
		"customer": map[string]any{"email": email, "name": name, "phones": []string{phone}},
	})
	return b
}

// sampleLine is the line the store writes for a record of src.
func sampleLine(t testing.TB, src *mapper.Source, payload []byte) []byte {
	t.Helper()
	s := &Store{cfg: Config{MaxSampleBytes: DefaultMaxSampleBytes}}
	res := src.Map(payload)
	it := &item{src: src, source: src.Name(), version: src.Version(), payload: payload, res: res, topic: "shop.orders"}
	cat := CleanCategory
	if len(res.Failures) > 0 {
		cat = res.Failures[0].Category().String()
	}
	line, err := s.encode(it, cat)
	if err != nil {
		t.Fatal(err)
	}
	return line
}

// maskable reports whether masking s (letters to x/X, digits to 0) changes
// it; if not, its masked form is itself and "absent" cannot be checked.
func maskable(s string) bool {
	for _, r := range s {
		if (unicode.IsLetter(r) && r != 'x' && r != 'X') || (unicode.IsDigit(r) && r != '0') {
			return true
		}
	}
	return false
}

func FuzzRedactedSampleNeverHoldsTheValue(f *testing.F) {
	f.Add("ann.smith@example.com", "Ann Smith", "+1 555 0100", "OPEN")
	f.Add("  BOB@EXAMPLE.ORG ", "Bob \"the\" Builder", "555-0199", "REFUNDED")
	f.Add("not-an-email", "Zoë Ångström", "☎ 12345", "PAID")
	f.Add("", "\u2028line\nbreak", "0000", "")
	src := testSource(f)
	f.Fuzz(func(t *testing.T, email, name, phone, state string) {
		if line := sampleLine(t, src, orderPayload(email, name, phone, state)); !json.Valid(line) {
			t.Fatalf("sample line is not JSON: %s", line)
		}
		neutral := sampleLine(t, src, orderPayload("q@q.q", "Q", "1", state))
		// One redacted field at a time holds the value, so that a match can
		// only come from that field.
		payloads := map[string][]byte{
			email: orderPayload(email, "Q", "1", state),
			name:  orderPayload("q@q.q", name, "1", state),
			phone: orderPayload("q@q.q", "Q", phone, state),
		}
		for secret, payload := range payloads {
			line := sampleLine(t, src, payload)
			for _, s := range []string{secret, strings.TrimSpace(secret), strings.ToLower(strings.TrimSpace(secret))} {
				if len(s) < 4 || !maskable(s) || bytes.Contains(neutral, []byte(s)) {
					continue // too short, or text the line holds anyway
				}
				esc, _ := json.Marshal(s)
				esc = esc[1 : len(esc)-1]
				if bytes.Contains(line, []byte(s)) || bytes.Contains(line, esc) {
					t.Fatalf("redacted value %q found in the sample line:\n%s", s, line)
				}
			}
		}
	})
}

func TestStoredFilesHoldNoRedactedValue(t *testing.T) {
	src := testSource(t)
	dir := t.TempDir()
	s := openTest(t, Config{Dir: dir})
	secrets := []string{"carol.secret@example.com", "Carol Secretname", "+44 7700 900123"}
	for _, state := range []string{"OPEN", "BOGUS"} {
		p := orderPayload(secrets[0], secrets[1], secrets[2], state)
		res := src.Map(p)
		s.Observe(&mapper.Origin{Topic: "shop.orders"}, src, p, &res, 0)
	}
	bad := []byte(`{"order_id":"A2","customer":{"email":"carol.secret@example.com","name":"Carol Secretname"},"state":"OPEN"`) // truncated: not JSON
	res := src.Map(bad)
	s.Observe(&mapper.Origin{Topic: "shop.orders"}, src, bad, &res, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		for _, secret := range secrets {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the redacted value %q", p, secret)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Fatalf("only %d files written; want the clean, unknown_enum and malformed samples and the index", n)
	}
}

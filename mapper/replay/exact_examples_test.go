package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

func loadOrdersWith(t testing.TB, rules, schemas string) *mapper.Source {
	t.Helper()
	e, err := mapper.Load(filepath.Join("testdata", rules), filepath.Join("testdata", schemas), mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e.Source("orders")
}

func TestExactExamplesPerVerdict(t *testing.T) {
	// v3 accepts on-hold (now mapped) and drops refunded (newly failing),
	// on a schema that accepts numeric amounts (now mapped too).
	v1 := loadOrdersWith(t, "orders-v1", "orders-schemas")
	v3 := loadOrdersWith(t, "orders-v3-mixed", "orders-schemas-v2")
	run := func(workers int) *ExactReport {
		rep, err := Exact(context.Background(), v1, v3, openCapture(t), ExactOptions{Show: 2, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := run(1)
	perVerdict := map[mapper.Verdict]int{}
	for _, ex := range rep.Examples {
		perVerdict[ex.Verdict]++
		if ex.Before.RulesVersion != 1 || ex.After.RulesVersion != 3 || !strings.Contains(ex.Diff, "--- rules v1\n+++ rules v3\n") {
			t.Errorf("example %+v", ex)
		}
		if ex.Before.Outcome == ex.After.Outcome && ex.Verdict != mapper.VerdictFailingDifferently && ex.Verdict != mapper.VerdictOutputChanged {
			t.Errorf("a %s example with outcome %s on both sides", ex.Verdict, ex.Before.Outcome)
		}
	}
	for _, v := range []mapper.Verdict{mapper.VerdictNowMapped, mapper.VerdictNewlyFailing, mapper.VerdictFailingDifferently} {
		if perVerdict[v] != 2 {
			t.Errorf("%d examples of %s, want 2 (--show 2)", perVerdict[v], v)
		}
	}
	if perVerdict[mapper.VerdictSame] != 0 {
		t.Error("an example of an unchanged record")
	}
	t.Run("the same capture shows the same examples on any number of workers", func(t *testing.T) {
		other := run(4)
		a, _ := json.Marshal(rep.Examples)
		b, _ := json.Marshal(other.Examples)
		if !bytes.Equal(a, b) {
			t.Errorf("examples differ between 1 and 4 workers:\n%s\n%s", a, b)
		}
	})
	t.Run("Locate names the line of each example", func(t *testing.T) {
		lines := bytes.Split(readCapture(t), []byte("\n"))
		for i, l := range lines {
			rep.Locate(fmt.Sprintf("capture:%d", i+1), l)
		}
		for _, ex := range rep.Examples {
			var n int
			if _, err := fmt.Sscanf(ex.Ref, "capture:%d", &n); err != nil {
				t.Fatalf("example not located: %q", ex.Ref)
			}
			res := v1.Map(lines[n-1])
			if res.Outcome != ex.Before.Outcome {
				t.Errorf("%s maps to %s with v1; the example says %s", ex.Ref, res.Outcome, ex.Before.Outcome)
			}
		}
	})
	t.Run("a value the baseline redacts stays masked though the candidate does not redact it", func(t *testing.T) {
		for _, ex := range rep.Examples {
			for _, o := range []json.RawMessage{ex.Before.Output, ex.After.Output} {
				var out struct{ Email string }
				if json.Unmarshal(o, &out) == nil && out.Email != "" && strings.Trim(out.Email, "x.@0-_+") != "" {
					t.Errorf("%s: email %q is not masked", ex.Ref, out.Email)
				}
			}
		}
	})
}

func readCapture(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := b.ReadFrom(openCapture(t)); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// probeAlphabet has no x, X or 0 (what masking writes) and no upper case
// (the rules lowercase the e-mail).
const probeAlphabet = "abcdefghijkmnopqrstuvwyz123456789"

// hostileOrder is an order with the probe at a path that one of the two
// rule sets redacts (customer.email: v1 only; customer.name, meta.ip:
// both), in expected and drifted shapes, sometimes malformed, with a status
// and amount that make the two rule sets disagree.
func hostileOrder(r *rand.Rand, probe string) []byte {
	secret := func() any {
		switch r.IntN(5) {
		case 0:
			return probe + "@example.org"
		case 1:
			return " Jane " + strings.ToUpper(probe[:1]) + probe[1:] + " <" + probe + "@example.org> "
		case 2:
			return map[string]any{"value": probe}
		case 3:
			return []any{probe, map[string]any{"deep": probe}}
		default:
			return probe
		}
	}
	customer := map[string]any{"email": "ok@example.org"}
	switch r.IntN(4) {
	case 0, 1:
		customer["email"] = secret()
	case 2:
		customer["name"] = secret()
	default:
		customer["address"] = secret()
	}
	doc := map[string]any{
		"order_id": fmt.Sprintf("O-%d", r.IntN(1000)),
		"customer": customer,
		"items":    []any{map[string]any{"sku": "S", "qty": 1, "price": "1.00"}},
		"amount":   []any{"12.50", 12.5, nil}[r.IntN(3)],
		"currency": "EUR",
		"status":   []string{"paid", "on-hold", "refunded", "lost"}[r.IntN(4)],
		"created":  "2024-05-01T12:00:00Z",
		"meta":     map[string]any{"ip": probe},
	}
	if r.IntN(6) == 0 {
		doc["customer"] = "Jane <" + probe + "@example.org>"
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	switch r.IntN(8) {
	case 0: // a raw control character next to the probe
		b = bytes.Replace(b, []byte(probe), []byte(probe+"\x01"), 1)
	case 1: // an unknown escape
		b = bytes.Replace(b, []byte(probe), []byte(probe+`\q`), 1)
	case 2: // invalid UTF-8
		b = bytes.Replace(b, []byte(probe), []byte(probe+"\xff"), 1)
	}
	return b
}

// TestExactExamplesNeverShowAValueEitherRuleSetRedacts is the privacy
// property of exact replay's examples: whichever rule set redacts a path,
// no example, as text or JSON, holds its value.
func TestExactExamplesNeverShowAValueEitherRuleSetRedacts(t *testing.T) {
	v1 := loadOrdersWith(t, "orders-v1", "orders-schemas")
	v3 := loadOrdersWith(t, "orders-v3-mixed", "orders-schemas-v2")
	r := rand.New(rand.NewPCG(17, 2026))
	rounds := 60
	if testing.Short() {
		rounds = 10
	}
	shown := 0
	for round := range rounds {
		var capture bytes.Buffer
		var probes []string
		for range 40 {
			p := make([]byte, 10)
			for i := range p {
				p[i] = probeAlphabet[r.IntN(len(probeAlphabet))]
			}
			probes = append(probes, string(p))
			capture.Write(hostileOrder(r, string(p)))
			capture.WriteByte('\n')
		}
		base, cand := v1, v3
		if round%2 == 1 {
			base, cand = v3, v1 // the candidate redacts what the baseline does not
		}
		rep, err := Exact(context.Background(), base, cand, bytes.NewReader(capture.Bytes()), ExactOptions{Show: 40, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		shown += len(rep.Examples)
		var text, js bytes.Buffer
		if err := rep.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		if err := rep.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		for _, p := range probes {
			probe := p[:8]
			for where, b := range map[string][]byte{"text": text.Bytes(), "JSON": js.Bytes()} {
				if bytes.Contains(bytes.ToLower(b), []byte(probe)) {
					t.Fatalf("round %d: probe %s leaked into the %s report:\n%s", round, probe, where, b)
				}
			}
		}
	}
	if shown < rounds*10 {
		t.Fatalf("only %d examples shown in %d rounds: the property was hardly exercised", shown, rounds)
	}
}

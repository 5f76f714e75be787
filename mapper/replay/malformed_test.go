package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// malformedOrders are orders whose customer.name (a redacted path) makes
// the payload malformed: masking the name leaves valid JSON behind for the
// first two.
var malformedOrders = []struct{ name, payload string }{
	{"raw control character 0x01", "{\"order_id\":\"M-1\",\"customer\":{\"email\":\"a@b.example\",\"name\":\"Ann\x01Lee\"},\"items\":[{\"sku\":\"S\",\"qty\":1,\"price\":\"1.00\"}],\"amount\":\"1.00\",\"currency\":\"EUR\",\"status\":\"paid\",\"created\":\"2024-05-01T12:00:00Z\"}"},
	{"unknown escape \\q", `{"order_id":"M-2","customer":{"email":"a@b.example","name":"Ann\qLee"},"items":[{"sku":"S","qty":1,"price":"1.00"}],"amount":"1.00","currency":"EUR","status":"paid","created":"2024-05-01T12:00:00Z"}`},
	{"invalid UTF-8", "{\"order_id\":\"M-3\",\"customer\":{\"email\":\"a@b.example\",\"name\":\"Ann\xffLee\"},\"items\":[{\"sku\":\"S\",\"qty\":1,\"price\":\"1.00\"}],\"amount\":\"1.00\",\"currency\":\"EUR\",\"status\":\"paid\",\"created\":\"2024-05-01T12:00:00Z\"}"},
}

// keepMalformed keeps the malformed orders as samples with the v1 rules,
// as mapper samples add does.
func keepMalformed(t *testing.T) []samples.Sample {
	t.Helper()
	v1 := loadOrders(t, "orders-v1")
	dir := t.TempDir()
	st, err := samples.Open(samples.Config{Dir: dir, Rand: seeded(5)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range malformedOrders {
		res := v1.Map([]byte(o.payload))
		if res.Outcome != mapper.OutcomeRejected || len(res.Failures) != 1 || res.Failures[0].Reason != mapper.ReasonMalformedPayload {
			t.Fatalf("%s: the original maps to %+v, want malformed_payload", o.name, res)
		}
		st.Add(v1, nil, []byte(o.payload), &res, o.name)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	in, err := samples.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != len(malformedOrders) {
		t.Fatalf("%d samples kept, want %d", len(in), len(malformedOrders))
	}
	return in
}

func TestMalformedOriginalReplaysAsMalformedUnderBothRuleSets(t *testing.T) {
	in := keepMalformed(t)
	validMasked := 0
	for _, s := range in {
		if s.Malformed == "" {
			t.Errorf("%s: the sample does not record that its original was malformed", s.Imported)
		}
		if len(s.Output) > 0 {
			t.Errorf("%s: the sample keeps the output of its masked bytes: %s", s.Imported, s.Output)
		}
		if len(s.Payload) > 0 && json.Valid(s.Payload) {
			validMasked++
		}
		var text bytes.Buffer
		if err := samples.WriteText(&text, 1, &s); err != nil || !strings.Contains(text.String(), "the original payload was malformed") {
			t.Errorf("samples show does not say the original was malformed (%v):\n%s", err, text.String())
		}
	}
	if validMasked < 2 {
		t.Fatalf("masking left %d valid JSON payloads; the test needs the ones masking repairs", validMasked)
	}
	// Samples written before the field existed still carry the reason in
	// their failures.
	older := make([]samples.Sample, len(in))
	copy(older, in)
	for i := range older {
		older[i].Malformed = ""
	}
	for _, tc := range []struct{ name, rules string }{
		{"the rules the samples were kept with", "orders-v1"},
		{"the candidate", "orders-v2-on-hold"},
	} {
		eng, err := mapper.Load(filepath.Join("testdata", tc.rules), filepath.Join("testdata", "orders-schemas"), mapper.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for name, ss := range map[string][]samples.Sample{"samples": in, "samples kept before the malformed field": older} {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				var reasons []string
				rep, err := Run(context.Background(), eng, ss, Options{Show: 5, Each: func(i int, v Verdict, after *mapper.Result) {
					if v != Same || after.Outcome != mapper.OutcomeRejected || len(after.Failures) != 1 {
						t.Errorf("%s: %s, %+v; want same, malformed_payload", ss[i].Imported, v, after)
					}
					for _, f := range after.Failures {
						reasons = append(reasons, string(f.Reason))
					}
				}})
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Join(reasons, ","); got != "malformed_payload,malformed_payload,malformed_payload" {
					t.Errorf("reasons after: %s", got)
				}
				row := findRow(t, rep, "malformed_payload")
				if row.StillFailing != 3 || row.NowMapped+row.FailingDifferently+row.NewlyFailing != 0 || len(row.Examples) != 0 {
					t.Errorf("row %+v, want 3 the same", row)
				}
			})
		}
	}
}

func TestExactReplayOfMalformedOriginalsIsMalformedUnderBothRuleSets(t *testing.T) {
	var capture strings.Builder
	for _, o := range malformedOrders {
		capture.WriteString(o.payload + "\n")
	}
	v1, v2 := loadOrders(t, "orders-v1"), loadOrders(t, "orders-v2-on-hold")
	rep, err := Exact(context.Background(), v1, v2, strings.NewReader(capture.String()), ExactOptions{Show: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 {
		t.Fatalf("rows %+v, want malformed_payload alone", rep.Rows)
	}
	row := rep.Rows[0]
	if row.Category != "malformed_payload" || row.Before != 3 || row.After != 3 || row.Verdicts[mapper.VerdictSame] != 3 || rep.Verdicts[mapper.VerdictSame] != 3 {
		t.Errorf("row %+v, verdicts %v; want malformed_payload 3 → 3, all the same", row, rep.Verdicts)
	}
	if len(rep.Examples) != 0 {
		t.Errorf("examples of unchanged records: %+v", rep.Examples)
	}
}

func TestExactReplayOfALinePastTheLimitIsMalformedUnderBoth(t *testing.T) {
	v1, v2 := loadOrders(t, "orders-v1"), loadOrders(t, "orders-v2-on-hold")
	capture := `{"order_id":"big","pad":"` + strings.Repeat("a", 2<<20) + "\"}\n" + malformedOrders[0].payload + "\n"
	rep, err := Exact(context.Background(), v1, v2, strings.NewReader(capture), ExactOptions{Show: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 2 || len(rep.Rows) != 1 || rep.Rows[0].Category != "malformed_payload" || rep.Verdicts[mapper.VerdictSame] != 2 {
		t.Fatalf("records %d, rows %+v, verdicts %v; want 2 malformed_payload records, the same under both", rep.Records, rep.Rows, rep.Verdicts)
	}
}

package suggest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aymanbagabas/go-udiff"
	"github.com/mapperhq/mapper/mapper"
)

// salesRules is a block-style rule file with comments and alignment that
// edits must keep.
const salesRules = `# Sales, block style: edits keep this comment,
# the alignment below and the block enum.
source: sales
version: 1
topics: [sales]
output_schema: sales.v1.json
fields:
  id:
    from: id          # the partner's id
    required: true
  note:
    from: note
    required: true
  channel:
    from: channel
    required: true
  region:
    from: region
    required: true
  state:
    from: state
    required: true
    enum:
      open:  OPEN
      paid:  PAID
objective: { mapped_ratio: 0.9 }
`

const salesSchema = `{
  "type": "object",
  "required": ["id", "state"],
  "properties": {
    "id": {"type": "string"},
    "note": {"type": "string"},
    "channel": {"type": ["string", "null"]},
    "region": {"type": "string", "default": "EU"},
    "state": {"enum": ["OPEN", "PAID", "SHIPPED"]}
  }
}
`

func TestEditsForAbsentFieldsAndBlockStyleKeepTheFile(t *testing.T) {
	rules, schemas := writeSales(t)
	clean := func(i int) string {
		return fmt.Sprintf(`{"id":"S%d","type":"sale","note":"n%d","channel":"web","region":"US","state":"open"}`, i, i)
	}
	var payloads [][]byte
	for i := range 6 {
		payloads = append(payloads, []byte(clean(i)))
	}
	failing := [][]byte{
		[]byte(`{"id":"R1","type":"refund","channel":"web","region":"US","state":"open"}`),              // no note: refunds never carry one
		[]byte(`{"id":"R2","type":"refund","channel":"shop","region":"US","state":"paid"}`),             // no note
		[]byte(`{"id":"S7","type":"sale","note":"x","channel":null,"region":"US","state":"open"}`),      // a null channel
		[]byte(`{"id":"S8","type":"sale","note":"x","channel":"web","state":"open"}`),                   // no region
		[]byte(`{"id":"S9","type":"sale","note":"x","channel":"web","region":"US","state":"Paid"}`),     // a state in other case
		[]byte(`{"id":"S10","type":"sale","note":"x","channel":"web","region":"US","state":"settled"}`), // a state with no inferable output
	}
	in, _ := keepWithSource(t, rules, schemas, "sales", append(payloads, failing...))
	in.Schemas = os.DirFS(schemas)
	ss, err := Propose(in)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]Kind{}
	for _, s := range ss {
		kinds[s.Category] = s.Kind
	}
	want := map[string]Kind{
		"missing_field:note":   KindWhen,
		"null_field:channel":   KindNullable,
		"missing_field:region": KindDefault,
		"unknown_enum:state":   KindEnumValue,
	}
	for cat, k := range want {
		if kinds[cat] != k {
			t.Errorf("%s: %s, want %s (all: %v)", cat, kinds[cat], k, kinds)
		}
	}
	text, err := Apply([]byte(salesRules), ss, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Only the edited lines and the version line differ; the placeholder
	// says REVIEW on its own line.
	var diff []string
	for _, l := range strings.Split(udiff.Unified("a", "b", salesRules, string(text)), "\n") {
		if (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-")) && !strings.HasPrefix(l, "+++") && !strings.HasPrefix(l, "---") {
			diff = append(diff, l)
		}
	}
	wantDiff := []string{
		"-version: 1",
		"+version: 2",
		"+    when: {path: type, not: [refund]}",
		"+    nullable: true",
		"+    default: \"EU\"",
		"+      Paid: PAID",
		"+      settled: OPEN  # REVIEW: placeholder output (see the candidate's SUGGESTIONS.txt)",
	}
	if strings.Join(diff, "\n") != strings.Join(wantDiff, "\n") {
		t.Errorf("changed lines:\n%s\nwant:\n%s\nfile:\n%s", strings.Join(diff, "\n"), strings.Join(wantDiff, "\n"), text)
	}
	if err := os.WriteFile(filepath.Join(rules, "sales.yaml"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatalf("the candidate does not load: %v\n%s", err, text)
	}
	for _, p := range failing {
		if res := eng.Source("sales").Map(p); !res.Outcome.Delivered() {
			t.Errorf("%s: %s %v with the candidate", p, res.Outcome, res.Failures)
		}
	}
}

// TestAFallbackThatDisagreesIsNeverProposed: a path present in every
// failing record is refused when any kept record carries both it and the
// old path with different values; with one agreeing record it is a move.
func TestAFallbackThatDisagreesIsNeverProposed(t *testing.T) {
	rules, schemas := writeSales(t)
	rec := func(id, region, shipRegion string) []byte {
		doc := fmt.Sprintf(`{"id":%q,"type":"sale","note":"n","channel":"web","state":"open","shipping":{"region":%q}`, id, shipRegion)
		if region != "" {
			doc += fmt.Sprintf(`,"region":%q`, region)
		}
		return []byte(doc + "}")
	}
	for _, tc := range []struct {
		name string
		both [][]byte
		want Kind
	}{
		{"equal where both are present: moved", [][]byte{rec("A", "US", "US"), rec("B", "EU", "EU")}, KindMovedField},
		{"one record disagrees: refused", [][]byte{rec("A", "US", "US"), rec("B", "EU", "US")}, KindNoFix},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failing := [][]byte{rec("F1", "", "US"), rec("F2", "", "EU")}
			in, _ := keepWithSource(t, rules, schemas, "sales", append(tc.both, failing...))
			ss, err := Propose(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range ss {
				if s.Category != "missing_field:region" {
					continue
				}
				if s.Kind != tc.want {
					t.Errorf("%s: %s", s.Kind, s.Edit)
				}
				if s.Kind == KindMovedField && !strings.Contains(s.Edit, "[region, shipping.region]") {
					t.Errorf("edit %q does not read shipping.region after region", s.Edit)
				}
				return
			}
			t.Fatalf("no line for missing_field:region in %+v", ss)
		})
	}
}

// writeSales writes the sales rules and schema and returns their
// directories.
func writeSales(t *testing.T) (rules, schemas string) {
	t.Helper()
	dir := t.TempDir()
	rules, schemas = filepath.Join(dir, "rules"), filepath.Join(dir, "schemas")
	for p, body := range map[string]string{filepath.Join(rules, "sales.yaml"): salesRules, filepath.Join(schemas, "sales.v1.json"): salesSchema} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return rules, schemas
}

// TestPlaceholderFollowsWhatCoOccurs: a new state whose records look like
// the paid ones (same channel and region) gets PAID as its placeholder,
// one whose records look like the open ones OPEN, ranked in the review.
func TestPlaceholderFollowsWhatCoOccurs(t *testing.T) {
	rules, schemas := writeSales(t)
	rec := func(id, state, channel, region string) []byte {
		return fmt.Appendf(nil, `{"id":%q,"type":"sale","note":"n","channel":%q,"region":%q,"state":%q}`, id, channel, region, state)
	}
	for _, tc := range []struct{ channel, region, want string }{{"shop", "EU", "PAID"}, {"web", "US", "OPEN"}} {
		t.Run(tc.want, func(t *testing.T) {
			var ps [][]byte
			for i := range 4 {
				ps = append(ps, rec(fmt.Sprint("o", i), "open", "web", "US"), rec(fmt.Sprint("p", i), "paid", "shop", "EU"))
			}
			ps = append(ps, rec("s1", "settled", tc.channel, tc.region), rec("s2", "settled", tc.channel, tc.region))
			in, _ := keepWithSource(t, rules, schemas, "sales", ps)
			ss, err := Propose(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range ss {
				if s.Kind != KindEnumValue {
					continue
				}
				if !strings.Contains(s.Edit, "settled → "+tc.want+" (PLACEHOLDER)") {
					t.Errorf("edit %q: want settled → %s", s.Edit, tc.want)
				}
				if r := strings.Join(s.Review, "\n"); !strings.Contains(r, "by what co-occurs in its records: "+tc.want) || !strings.Contains(r, "stands out") {
					t.Errorf("review %q does not rank %s first", r, tc.want)
				}
				return
			}
			t.Fatalf("no enum_value suggestion: %+v", ss)
		})
	}
}

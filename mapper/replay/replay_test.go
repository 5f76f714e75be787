package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	goldenfile "github.com/mapperhq/mapper/internal/golden"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

var update = flag.Bool("update", false, "update golden files")

func TestClassify(t *testing.T) {
	fail := func(o mapper.Outcome, fs ...mapper.Failure) *mapper.Result {
		return &mapper.Result{Outcome: o, Failures: fs}
	}
	enum := mapper.Failure{Reason: mapper.ReasonUnknownEnum, Field: "state"}
	missing := mapper.Failure{Reason: mapper.ReasonMissingField, Field: "id"}
	defaulted := mapper.Failure{Reason: mapper.ReasonDefaulted, Field: "currency"}
	tests := []struct {
		name     string
		category string
		before   mapper.Outcome
		after    *mapper.Result
		want     Verdict
	}{
		{"rejected record that maps now is fixed", "unknown_enum:state", mapper.OutcomeRejected, fail(mapper.OutcomeMapped), NowMapped},
		{"rejected record now degraded without its category is fixed", "unknown_enum:state", mapper.OutcomeRejected, fail(mapper.OutcomeDegraded, defaulted), NowMapped},
		{"same category still failing", "unknown_enum:state", mapper.OutcomeRejected, fail(mapper.OutcomeRejected, missing, enum), Same},
		{"other reason only is failing differently", "unknown_enum:state", mapper.OutcomeRejected, fail(mapper.OutcomeRejected, missing), Different},
		{"clean record still mapped", samples.CleanCategory, mapper.OutcomeMapped, fail(mapper.OutcomeMapped), NowMapped},
		{"clean record now rejected is a regression", samples.CleanCategory, mapper.OutcomeMapped, fail(mapper.OutcomeRejected, missing), Regressed},
		{"clean record now degraded fails differently", samples.CleanCategory, mapper.OutcomeMapped, fail(mapper.OutcomeDegraded, defaulted), Different},
		{"degraded record now rejected is a regression", "defaulted:currency", mapper.OutcomeDegraded, fail(mapper.OutcomeRejected, defaulted, missing), Regressed},
		{"degraded record still degraded the same way", "defaulted:currency", mapper.OutcomeDegraded, fail(mapper.OutcomeDegraded, defaulted), Same},
		{"category without field", "malformed_payload", mapper.OutcomeRejected, fail(mapper.OutcomeRejected, mapper.Failure{Reason: mapper.ReasonMalformedPayload}), Same},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.category, tt.before, tt.after); got != tt.want {
				t.Errorf("Classify(%q, %s, %+v) = %s, want %s", tt.category, tt.before, tt.after, got, tt.want)
			}
		})
	}
}

func loadEngine(t testing.TB, rules string) *mapper.Engine {
	t.Helper()
	e, err := mapper.Load(filepath.Join("testdata", rules), filepath.Join("testdata", "schemas"), mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Source("shop-orders") == nil {
		t.Fatalf("rules %s: no source shop-orders", rules)
	}
	return e
}

func seeded(n uint64) rand.Source {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], n)
	return rand.NewChaCha8(seed)
}

// captureSamples maps testdata/payloads.jsonl with the v1 rules, as the
// worker would, into a sample store, and returns its directory.
func captureSamples(t testing.TB) string {
	t.Helper()
	e := loadEngine(t, "rules-v1")
	dir := t.TempDir()
	st, err := samples.Open(samples.Config{
		Dir: dir, Rand: seeded(1),
		Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("testdata", "payloads.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src := e.Source("shop-orders")
	var m mapper.Mapper
	var res mapper.Result
	sc := bufio.NewScanner(f)
	for off := int64(0); sc.Scan(); off++ {
		m.Map(src, sc.Bytes(), &res)
		st.Observe(&mapper.Origin{Topic: "shop.orders", Offset: off, Key: []byte("k")}, src, sc.Bytes(), &res, 0)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readSamples reads a samples directory's samples and counts.
func readSamples(t testing.TB, dir string) ([]samples.Sample, map[string]samples.SourceCounts) {
	t.Helper()
	in, err := samples.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := samples.Counts(dir)
	if err != nil {
		t.Fatal(err)
	}
	return in, counts
}

func TestReplayGolden(t *testing.T) {
	in, counts := readSamples(t, captureSamples(t))
	tests := []struct {
		name      string
		rules     string
		regressed bool
		check     func(t *testing.T, r *Report)
	}{
		{"no change", "rules-v1", false, func(t *testing.T, r *Report) {
			for _, row := range r.Rows {
				if row.Changed() {
					t.Errorf("unchanged rules changed %+v", row)
				}
			}
		}},
		{"accepting a new enum value fixes its category", "rules-v2-fixed", false, func(t *testing.T, r *Report) {
			row := findRow(t, r, "unknown_enum:state")
			if row.NowMapped != row.Samples || row.Samples == 0 {
				t.Errorf("unknown_enum:state: %+v, want every sample now mapped", row)
			}
			if s := r.Sources[0]; s.MappedAfter <= s.MappedBefore {
				t.Errorf("mapped ratio %.3f → %.3f, want a rise", s.MappedBefore, s.MappedAfter)
			}
		}},
		{"renaming the id source field regresses clean records", "rules-v3-broken", true, func(t *testing.T, r *Report) {
			row := findRow(t, r, samples.CleanCategory)
			if row.NewlyFailing != row.Samples || row.Samples == 0 {
				t.Errorf("clean: %+v, want every sample newly failing", row)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Run(context.Background(), loadEngine(t, tt.rules), in, Options{Show: 1, Counts: counts})
			if err != nil {
				t.Fatal(err)
			}
			if r.Regressed() != tt.regressed {
				t.Errorf("Regressed() = %v, want %v", r.Regressed(), tt.regressed)
			}
			tt.check(t, r)
			var text, js bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.rules+".txt", text.Bytes())
			golden(t, tt.rules+".json", js.Bytes())
		})
	}
}

func findRow(t *testing.T, r *Report, category string) Row {
	t.Helper()
	for _, row := range r.Rows {
		if row.Category == category {
			return row
		}
	}
	t.Fatalf("no row for %s in %+v", category, r.Rows)
	return Row{}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name), got, *update)
}

func TestReplayOneSource(t *testing.T) {
	in := []samples.Sample{
		{Source: "a", Category: "malformed_payload", Outcome: mapper.OutcomeRejected, PayloadBase64: []byte("x")},
		{Source: "b", Category: "malformed_payload", Outcome: mapper.OutcomeRejected, PayloadBase64: []byte("x")},
		{Source: "", Category: "unknown_source", Outcome: mapper.OutcomeRejected, PayloadOmitted: "no source"},
	}
	e := loadEngine(t, "rules-v1")
	r, err := Run(context.Background(), e, in, Options{Source: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Samples != 1 || len(r.Rows) != 1 || r.Rows[0].Source != "b" {
		t.Fatalf("replay of source b = %+v", r)
	}
	r, err = Run(context.Background(), e, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if row := r.Rows[0]; row.Source != "" || row.Skipped != 1 {
		t.Errorf("sample without payload: %+v, want skipped", row)
	}
}

func BenchmarkReplay(b *testing.B) {
	dir := captureSamples(b)
	base, err := samples.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	in := make([]samples.Sample, 0, 100_000)
	for len(in) < 100_000 {
		in = append(in, base...)
	}
	in = in[:100_000]
	e := loadEngine(b, "rules-v2-fixed")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), e, in, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "samples/s")
}

package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/batch"
	"github.com/mapperhq/mapper/mapper/samples"
)

const ordersCapture = "orders-2000.jsonl"

func loadOrders(t testing.TB, rules string) *mapper.Source {
	t.Helper()
	e, err := mapper.Load(filepath.Join("testdata", rules), filepath.Join("testdata", "orders-schemas"), mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e.Source("orders")
}

func openCapture(t testing.TB) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", ordersCapture))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// summarise maps the capture with src the way mapper map --lines --summary
// does.
func summarise(t *testing.T, src *mapper.Source) batch.Summary {
	t.Helper()
	var sum batch.Summary
	if err := batch.Run(context.Background(), src, openCapture(t), batch.Options{Summary: &sum}); err != nil {
		t.Fatal(err)
	}
	return sum
}

// onHoldRecords counts the capture's records whose status is on-hold,
// reading the payloads with encoding/json, apart from the engine.
func onHoldRecords(t *testing.T) int {
	t.Helper()
	n := 0
	sc := bufio.NewScanner(openCapture(t))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var o struct{ Status any }
		if json.Unmarshal(sc.Bytes(), &o) == nil && o.Status == "on-hold" {
			n++
		}
	}
	return n
}

func TestExactReplayCountsWhatMappingBothVersionsGives(t *testing.T) {
	v1, v2 := loadOrders(t, "orders-v1"), loadOrders(t, "orders-v2-on-hold")
	rep, err := Exact(context.Background(), v1, v2, openCapture(t), ExactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before, after := summarise(t, v1), summarise(t, v2)
	delivered := func(s batch.Summary) int {
		return s.Outcomes[mapper.OutcomeMapped] + s.Outcomes[mapper.OutcomeDegraded]
	}
	onHold := onHoldRecords(t)
	if onHold == 0 {
		t.Fatal("the capture has no on-hold record; the test needs some")
	}
	if rep.Records != before.Total || rep.DeliveredBefore != delivered(before) || rep.DeliveredAfter != delivered(after) {
		t.Errorf("exact replay: %d records, delivered %d → %d; mapping the file with each version: %d records, %d → %d",
			rep.Records, rep.DeliveredBefore, rep.DeliveredAfter, before.Total, delivered(before), delivered(after))
	}
	if got := rep.Verdicts[mapper.VerdictNowMapped]; got != onHold {
		t.Errorf("now mapped %d, want the %d on-hold records", got, onHold)
	}
	if rep.Regressed() {
		t.Errorf("accepting on-hold regressed %d records", rep.Verdicts[mapper.VerdictNewlyFailing])
	}
	if rep.Rows[0].Category != "unknown_enum:status" || rep.Rows[0].Verdicts[mapper.VerdictNowMapped] != onHold {
		t.Errorf("first row by impact is %+v, want unknown_enum:status with %d now mapped", rep.Rows[0], onHold)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	golden(t, "exact-orders-on-hold.txt", text.Bytes())

	t.Run("sort by name keeps the old order", func(t *testing.T) {
		rep.SortRows(SortName)
		for i := 1; i < len(rep.Rows)-1; i++ {
			if rep.Rows[i-1].Category > rep.Rows[i].Category {
				t.Fatalf("rows not by name: %s before %s", rep.Rows[i-1].Category, rep.Rows[i].Category)
			}
		}
		if rep.Rows[len(rep.Rows)-1].Category != samples.CleanCategory {
			t.Fatalf("clean is not last")
		}
	})
}

// importCapture keeps samples and value profiles of the capture as
// mapper samples add does, with the v1 rules.
func importCapture(t testing.TB) string {
	t.Helper()
	src := loadOrders(t, "orders-v1")
	dir := t.TempDir()
	st, err := samples.Open(samples.Config{Dir: dir, Rand: seeded(7)})
	if err != nil {
		t.Fatal(err)
	}
	vals, err := samples.OpenValues(samples.ValuesConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(openCapture(t))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var m mapper.Mapper
	var res mapper.Result
	for n := 1; sc.Scan(); n++ {
		m.Map(src, sc.Bytes(), &res)
		st.Add(src, nil, sc.Bytes(), &res, ordersCapture)
		vals.Observe(nil, src, sc.Bytes(), &res, 0)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := vals.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSampleReplayIntervalContainsTheExactCount(t *testing.T) {
	dir := importCapture(t)
	in, counts := readSamples(t, dir)
	v1, v2 := loadOrders(t, "orders-v1"), loadOrders(t, "orders-v2-on-hold")
	exact, err := Exact(context.Background(), v1, v2, openCapture(t), ExactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := mapper.Load(filepath.Join("testdata", "orders-v2-on-hold"), filepath.Join("testdata", "orders-schemas"), mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	profiles := func(source, category string) (samples.ValueProfile, bool) {
		p, ok, err := samples.ReadValues(dir, source, category)
		if err != nil {
			t.Fatal(err)
		}
		return p, ok
	}
	nowMapped := exact.Verdicts[mapper.VerdictNowMapped]
	width := map[string]float64{}
	for _, tc := range []struct {
		name     string
		profiles func(string, string) (samples.ValueProfile, bool)
		method   string
	}{
		{"from the samples alone", nil, "wilson"},
		{"with the value profile", profiles, "value profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Run(context.Background(), eng, in, Options{Counts: counts, Profiles: tc.profiles})
			if err != nil {
				t.Fatal(err)
			}
			row := findRow(t, rep, "unknown_enum:status")
			p := row.Projection
			if p == nil || p.NowMapped == nil || p.NowMapped.Method != tc.method {
				t.Fatalf("projection %+v, want method %s", p, tc.method)
			}
			if float64(nowMapped) < p.NowMapped.Lo || float64(nowMapped) > p.NowMapped.Hi {
				t.Errorf("exact count %d outside the projected interval [%.1f, %.1f]", nowMapped, p.NowMapped.Lo, p.NowMapped.Hi)
			}
			width[tc.method] = p.NowMapped.Hi - p.NowMapped.Lo
			s := rep.Sources[0]
			if s.MappedBefore != exact.MappedBefore() {
				t.Errorf("mapped ratio before %.4f, exact %.4f", s.MappedBefore, exact.MappedBefore())
			}
			if a := exact.MappedAfter(); a < s.MappedAfterLo-1e-9 || a > s.MappedAfterHi+1e-9 {
				t.Errorf("exact mapped ratio after %.4f outside [%.4f, %.4f]", a, s.MappedAfterLo, s.MappedAfterHi)
			}
			if rep.Rows[0].Category != "unknown_enum:status" {
				t.Errorf("first row by impact is %s", rep.Rows[0].Category)
			}
			var text bytes.Buffer
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), IntervalName) {
				t.Errorf("report does not name its interval:\n%s", text.String())
			}
		})
	}
	// The profile knows how many records carry on-hold: its interval is
	// narrower than the one the samples alone give.
	if width["value profile"] >= width["wilson"] {
		t.Errorf("value profile interval %.0f records wide, samples alone %.0f", width["value profile"], width["wilson"])
	}
}

// TestProjectionCountsRecordsThatFailTwice: a record with the fixed value
// that also fails another way stays rejected; the projection's interval
// still holds the exact count.
func TestProjectionCountsRecordsThatFailTwice(t *testing.T) {
	v1 := loadOrders(t, "orders-v1")
	var lines []string
	for i := range 60 {
		status := "paid"
		switch {
		case i%3 == 0:
			status = "on-hold"
		case i%3 == 1:
			status = "Chargeback"
		}
		amount := `"12.50"`
		if i%9 == 0 {
			amount = "null" // fails twice: status and amount
		}
		lines = append(lines, fmt.Sprintf(`{"order_id":"O-%d","customer":{"email":"a@b.example"},"items":[{"sku":"S","qty":1,"price":"12.50"}],"amount":%s,"currency":"EUR","status":%q,"created":"2024-05-01T12:00:00Z"}`, i, amount, status))
	}
	capture := strings.Join(lines, "\n") + "\n"
	dir := t.TempDir()
	st, err := samples.Open(samples.Config{Dir: dir, PerCategory: 5, Rand: seeded(3)})
	if err != nil {
		t.Fatal(err)
	}
	vals, err := samples.OpenValues(samples.ValuesConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		res := v1.Map([]byte(l))
		st.Add(v1, nil, []byte(l), &res, "twice")
		vals.Observe(nil, v1, []byte(l), &res, 0)
	}
	if err := errors.Join(st.Close(), vals.Close()); err != nil {
		t.Fatal(err)
	}
	in, counts := readSamples(t, dir)
	eng, err := mapper.Load(filepath.Join("testdata", "orders-v2-on-hold"), filepath.Join("testdata", "orders-schemas"), mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	exact, err := Exact(context.Background(), v1, eng.Source("orders"), strings.NewReader(capture), ExactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), eng, in, Options{Counts: counts, Profiles: func(s, c string) (samples.ValueProfile, bool) {
		p, ok, _ := samples.ReadValues(dir, s, c)
		return p, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := findRow(t, rep, "unknown_enum:status").Projection
	got := float64(exact.Verdicts[mapper.VerdictNowMapped])
	if p == nil || p.NowMapped == nil || got < p.NowMapped.Lo || got > p.NowMapped.Hi {
		t.Fatalf("exact %v now mapped, projection %+v", got, p.NowMapped)
	}
}

func TestWilson(t *testing.T) {
	tests := []struct {
		name   string
		k, n   int
		lo, hi float64
	}{
		// Reference values: Wilson score interval, z = 1.96.
		{"2 of 20", 2, 20, 0.0279, 0.3010},
		{"none of 20", 0, 20, 0, 0.1611},
		{"all of 20", 20, 20, 0.8389, 1},
		{"no trial is uninformative", 0, 0, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := Wilson(tc.k, tc.n, z95)
			if d := lo - tc.lo; d > 1e-3 || d < -1e-3 {
				t.Errorf("lo %.4f, want %.4f", lo, tc.lo)
			}
			if d := hi - tc.hi; d > 1e-3 || d < -1e-3 {
				t.Errorf("hi %.4f, want %.4f", hi, tc.hi)
			}
		})
	}
}

func BenchmarkExact(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", ordersCapture))
	if err != nil {
		b.Fatal(err)
	}
	v1, v2 := loadOrders(b, "orders-v1"), loadOrders(b, "orders-v2-on-hold")
	lines := bytes.Count(data, []byte("\n"))
	b.Run("exact", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Exact(context.Background(), v1, v2, bytes.NewReader(data), ExactOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*lines)/b.Elapsed().Seconds(), "records/s")
	})
	// A change that touches a third of the records, with and without
	// examples: what --show costs.
	v3 := loadOrdersWith(b, "orders-v3-mixed", "orders-schemas-v2")
	for _, show := range []int{0, 5} {
		b.Run(fmt.Sprintf("exact-v1-v3-show-%d", show), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Exact(context.Background(), v1, v3, bytes.NewReader(data), ExactOptions{Show: show}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*lines)/b.Elapsed().Seconds(), "records/s")
		})
	}
	b.Run("map-one-version", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var sum batch.Summary
			if err := batch.Run(context.Background(), v1, bytes.NewReader(data), batch.Options{Summary: &sum}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*lines)/b.Elapsed().Seconds(), "records/s")
	})
}

func TestExactBoundsItsCategories(t *testing.T) {
	v1 := loadOrders(t, "orders-v1")
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, `{"order_id":"O-%d","status":"s-%d"}`+"\n", i, i)
	}
	rep, err := Exact(context.Background(), v1, v1, strings.NewReader(b.String()), ExactOptions{MaxCategories: 3, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) > 4 {
		t.Fatalf("%d rows, want at most 3 and %q", len(rep.Rows), OtherCategories)
	}
	found := false
	for _, r := range rep.Rows {
		found = found || r.Category == OtherCategories
	}
	if !found || rep.Records != 50 {
		t.Fatalf("rows %+v, records %d", rep.Rows, rep.Records)
	}
}

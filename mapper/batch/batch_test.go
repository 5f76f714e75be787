package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/batch"
)

func orders(tb testing.TB) *mapper.Source {
	tb.Helper()
	eng, err := mapper.Load("../../rules", "../../schemas", mapper.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return eng.Source("orders")
}

func TestRunKeepsInputOrder(t *testing.T) {
	src := orders(t)
	var in bytes.Buffer
	var want []string
	for i := 0; i < 5000; i++ {
		var p string
		switch i % 3 {
		case 0:
			p = `{"order_id":"` + strings.Repeat("x", i%7+1) + `"}`
		case 1:
			p = `not json`
		default:
			p = `{"order_id":"A","customer":{"email":"a@b.c"},"items":[{"sku":"s","qty":1,"price":"1.00"}],"amount":"1.00","currency":"EUR","status":"paid","created":` + itoa(1600000000+i) + `}`
		}
		in.WriteString(p + "\n")
		if i%10 == 0 {
			in.WriteString("\n") // blank lines are skipped
		}
		r := src.Map([]byte(p))
		want = append(want, string(r.AppendJSON(nil)))
	}
	var out bytes.Buffer
	var sum batch.Summary
	if err := batch.Run(context.Background(), src, &in, batch.Options{Workers: 4, ChunkLines: 7, Out: &out, Summary: &sum}); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
		if !json.Valid([]byte(got[i])) {
			t.Fatalf("line %d is not JSON", i+1)
		}
	}
	if sum.Total != 5000 || sum.Outcomes[mapper.OutcomeMapped] != 1666 || sum.Categories[mapper.Category{Reason: mapper.ReasonMalformedPayload}] != 1667 {
		t.Errorf("summary %+v", sum)
	}
}

func TestRunHandlesLongLinesAndNoTrailingNewline(t *testing.T) {
	src := orders(t)
	long := `{"order_id":"` + strings.Repeat("y", 3<<20) + `"}`
	in := strings.NewReader(long + "\n" + `{"order_id":"z"}`)
	var sum batch.Summary
	if err := batch.Run(context.Background(), src, in, batch.Options{Summary: &sum}); err != nil {
		t.Fatal(err)
	}
	if sum.Total != 2 || sum.Categories[mapper.Category{Reason: mapper.ReasonMalformedPayload}] != 1 {
		t.Errorf("summary %+v", sum)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestRunReportsWriteErrors(t *testing.T) {
	src := orders(t)
	in := strings.NewReader(strings.Repeat("{}\n", 10000))
	err := batch.Run(context.Background(), src, in, batch.Options{Out: failingWriter{}})
	if err == nil || !strings.Contains(err.Error(), "closed pipe") {
		t.Fatalf("err = %v", err)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// BenchmarkOrdersWorkload maps 200,000 order lines (the committed fixture
// lines repeated: ~70% clean, every defect kind among the rest) the way
// `mapper map --source orders --lines --summary` does, on every core.
func BenchmarkOrdersWorkload(b *testing.B) {
	src := orders(b)
	fixture, err := os.ReadFile("../../fixtures/orders/generated.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Count(fixture, []byte("\n"))
	const n = 200_000
	var data []byte
	for got := 0; got < n; got += lines {
		data = append(data, fixture...)
	}
	total := (n + lines - 1) / lines * lines
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var sum batch.Summary
		if err := batch.Run(context.Background(), src, bytes.NewReader(data), batch.Options{Summary: &sum}); err != nil {
			b.Fatal(err)
		}
		if sum.Total != total {
			b.Fatalf("%d records, want %d", sum.Total, total)
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(0, "ns/op")
}

func TestProgressCountsEveryLine(t *testing.T) {
	eng, err := mapper.Load("../../rules", "../../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&in, `{"order_id":"ORD-%d"}`+"\n", i)
	}
	var got int
	err = batch.Run(context.Background(), eng.Source("orders"), strings.NewReader(in.String()), batch.Options{ChunkLines: 64, Progress: func(n int) { got += n }})
	if err != nil || got != 2000 {
		t.Errorf("progress told of %d lines (err %v), want 2000", got, err)
	}
}

// repeatReader yields n copies of b, then EOF, holding nothing more.
type repeatReader struct {
	b []byte
	n int
	i int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := copy(p, r.b[r.i:])
	r.i += k
	if r.i == len(r.b) {
		r.i = 0
		r.n--
	}
	return k, nil
}

// TestLineOverTheLimitIsSkippedUnheld feeds a 64 MiB line between two
// small ones: it becomes malformed_payload, the others are mapped in order,
// and the run allocates far less than the line's size.
func TestLineOverTheLimitIsSkippedUnheld(t *testing.T) {
	src := orders(t)
	const big = 64 << 20
	in := io.MultiReader(
		strings.NewReader("not json\n{\"order_id\":\""),
		&repeatReader{b: bytes.Repeat([]byte("x"), 1<<16), n: big >> 16},
		strings.NewReader("\"}\n{}\n"),
	)
	var out bytes.Buffer
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := batch.Run(context.Background(), src, in, batch.Options{Out: &out, MaxLineBytes: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d results, want 3:\n%.500s", len(lines), out.String())
	}
	var res struct {
		Outcome  string
		Failures []struct{ Reason, Detail string }
	}
	if err := json.Unmarshal([]byte(lines[1]), &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "rejected" || len(res.Failures) != 1 || res.Failures[0].Reason != "malformed_payload" ||
		!strings.Contains(res.Failures[0].Detail, "line of 67108879 bytes is over the limit of 1048576") {
		t.Errorf("the long line's result is %s, want malformed_payload over the limit", lines[1])
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("mapping allocated %d MiB for a %d MiB line: it was held", alloc>>20, big>>20)
	}
}

// TestSummaryCapsCategories counts failures of more distinct fields than
// the cap: the first ones keep their category, the rest are other.
func TestSummaryCapsCategories(t *testing.T) {
	s := batch.Summary{MaxCategories: 10}
	for i := range 50 {
		r := mapper.Result{Outcome: mapper.OutcomeRejected, Failures: []mapper.Failure{{Reason: mapper.ReasonMissingField, Field: "f" + itoa(i)}}}
		s.Add(&r)
	}
	if len(s.Categories) != 11 || s.Categories[batch.OtherCategory] != 40 || s.Total != 50 {
		t.Errorf("%d categories, %d other, total %d; want 10 kept + other with 40", len(s.Categories), s.Categories[batch.OtherCategory], s.Total)
	}
	var merged batch.Summary
	merged.MaxCategories = 5
	merged.Merge(&s)
	if len(merged.Categories) != 6 || merged.Categories[batch.OtherCategory] != 45 {
		t.Errorf("merged: %d categories, %d other; want 5 kept + other with 45", len(merged.Categories), merged.Categories[batch.OtherCategory])
	}
}

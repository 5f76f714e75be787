package drift_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/drift"
)

// benchPayloads is the GitHub feed as the demo sends it: current payloads
// and older-release ones (absent required properties), one drifted copy
// with a new enum value.
func benchPayloads(b *testing.B) [][]byte {
	return [][]byte{
		fixture(b, "issues.opened.payload.json"),
		fixture(b, "issues.labeled.payload.json"),
		fixture(b, "pull_request.opened.payload.json"),
		fixture(b, "issues.opened.older-release.payload.json"),
		fixture(b, "pull_request.opened.older-release.payload.json"),
		drifted(b, func(is map[string]any) { is["state"] = "archived" }),
	}
}

// openForBench opens an Observer that does not flush while b runs,
// closed when b ends.
func openForBench(b *testing.B) *drift.Observer {
	o, err := drift.Open(drift.Config{FlushInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { o.Close() })
	return o
}

// BenchmarkObserve measures the record path with and without the drift
// observer: "engine" maps only, "engine+drift" maps and observes, and
// "observe" is the observer alone on results mapped beforehand. The ratio
// engine+drift / engine is the observer's per-record cost.
func BenchmarkObserve(b *testing.B) {
	eng := loadEngine(b)
	src := eng.Source(github)
	payloads := benchPayloads(b)
	b.Run("engine", func(b *testing.B) {
		var m mapper.Mapper
		var res mapper.Result
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			m.Map(src, payloads[i%len(payloads)], &res)
		}
	})
	b.Run("engine+drift", func(b *testing.B) {
		o, err := drift.Open(drift.Config{FlushInterval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		defer o.Close()
		var m mapper.Mapper
		var res mapper.Result
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p := payloads[i%len(payloads)]
			m.Map(src, p, &res)
			o.Observe(nil, src, p, &res, 0)
		}
	})
	b.Run("observe", func(b *testing.B) {
		o, err := drift.Open(drift.Config{FlushInterval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		defer o.Close()
		results := make([]mapper.Result, len(payloads))
		for i, p := range payloads {
			results[i] = src.Map(p)
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			j := i % len(payloads)
			o.Observe(nil, src, payloads[j], &results[j], 0)
		}
	})
	// Clean records (most of a feed), from every core: observe-tally as
	// the worker observes them (one Tally a goroutine, flushed once per
	// batch of 500 records), observe-shared through Observe.
	for _, tally := range []bool{true, false} {
		name := "observe-shared"
		if tally {
			name = "observe-tally"
		}
		b.Run(name, func(b *testing.B) {
			o := openForBench(b)
			res := src.Map(payloads[0])
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				tl := o.NewTally()
				for i := 0; pb.Next(); i++ {
					if !tally {
						o.Observe(nil, src, payloads[0], &res, 0)
						continue
					}
					tl.Observe(nil, src, payloads[0], &res, 0)
					if i%500 == 499 {
						tl.Flush()
					}
				}
				tl.Flush()
			})
		})
	}
	b.Run("observe-clean", func(b *testing.B) {
		o := openForBench(b)
		res := src.Map(payloads[0])
		b.ReportAllocs()
		for b.Loop() {
			o.Observe(nil, src, payloads[0], &res, 0)
		}
	})
}

func TestObserveDoesNotAllocateOnceFieldsAreKnown(t *testing.T) {
	eng := loadEngine(t)
	src := eng.Source(github)
	o, err := drift.Open(drift.Config{FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for name, p := range map[string][]byte{
		"absent required properties": fixture(t, "issues.opened.older-release.payload.json"),
		"a new enum value":           drifted(t, func(is map[string]any) { is["state"] = "archived" }),
	} {
		res := src.Map(p)
		o.Observe(nil, src, p, &res, 0)
		if allocs := testing.AllocsPerRun(200, func() { o.Observe(nil, src, p, &res, 0) }); allocs != 0 {
			t.Errorf("%s: Observe allocates %.1f times per record", name, allocs)
		}
		tl := o.NewTally()
		tl.Observe(nil, src, p, &res, 0)
		if allocs := testing.AllocsPerRun(200, func() { tl.Observe(nil, src, p, &res, 0); tl.Flush() }); allocs != 0 {
			t.Errorf("%s: Tally.Observe and Flush allocate %.1f times per record", name, allocs)
		}
	}
}

// ordersResults maps the orders fixture (the generator's lines: about 30%
// defective, one defect each) with the orders source.
func ordersResults(b *testing.B) (*mapper.Source, [][]byte, []mapper.Result) {
	src := loadEngine(b).Source("orders")
	raw, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "orders", "generated.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	var payloads [][]byte
	var results []mapper.Result
	for line := range bytes.Lines(raw) {
		p := bytes.TrimSuffix(line, []byte("\n"))
		payloads = append(payloads, p)
		results = append(results, src.Map(p))
	}
	return src, payloads, results
}

// BenchmarkTally measures Tally.Observe as the worker's mapping goroutines
// call it, on results mapped beforehand, flushed once per job of 250
// records: "orders" is the orders fixture (one defect in about 30% of the
// records), "github" the GitHub feed of benchPayloads (every record but
// the current payloads drifts).
func BenchmarkTally(b *testing.B) {
	githubResults := func(b *testing.B) (*mapper.Source, [][]byte, []mapper.Result) {
		src := loadEngine(b).Source(github)
		payloads := benchPayloads(b)
		results := make([]mapper.Result, len(payloads))
		for i, p := range payloads {
			results[i] = src.Map(p)
		}
		return src, payloads, results
	}
	for _, w := range []struct {
		name string
		load func(*testing.B) (*mapper.Source, [][]byte, []mapper.Result)
	}{{"orders", ordersResults}, {"github", githubResults}} {
		b.Run(w.name, func(b *testing.B) {
			src, payloads, results := w.load(b)
			o := openForBench(b)
			tl := o.NewTally()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				j := i % len(payloads)
				tl.Observe(nil, src, payloads[j], &results[j], 0)
				if i%250 == 249 {
					tl.Flush()
				}
			}
			tl.Flush()
		})
	}
}

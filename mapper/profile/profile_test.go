package profile

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestSketch(t *testing.T) {
	t.Run("counts are exact while distinct values fit", func(t *testing.T) {
		s := New(4)
		for i, v := range []string{"on-hold", "PAID_OUT", "on-hold", "unknown", "on-hold", "PAID_OUT"} {
			s.Add([]byte(v))
			_ = i
		}
		got := s.Top()
		want := []Entry{{Value: "on-hold", Count: 3}, {Value: "PAID_OUT", Count: 2}, {Value: "unknown", Count: 1}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		if s.Total() != 6 {
			t.Fatalf("total %d, want 6", s.Total())
		}
	})
	t.Run("heavy hitters survive a long tail and bound their error", func(t *testing.T) {
		s := New(16)
		r := rand.New(rand.NewPCG(1, 2))
		truth := map[string]uint64{}
		for i := 0; i < 100000; i++ {
			var v string
			switch x := r.IntN(100); {
			case x < 30:
				v = "heavy-a"
			case x < 50:
				v = "heavy-b"
			default:
				v = fmt.Sprintf("tail-%d", r.IntN(5000))
			}
			truth[v]++
			s.Add([]byte(v))
		}
		top := s.Top()
		if top[0].Value != "heavy-a" || top[1].Value != "heavy-b" {
			t.Fatalf("top two are %v, %v", top[0], top[1])
		}
		for _, e := range top {
			tc := truth[e.Value]
			if tc > e.Count || e.Count-e.Error > tc {
				t.Errorf("%s: true count %d outside [%d, %d]", e.Value, tc, e.Count-e.Error, e.Count)
			}
		}
		if len(top) != 16 {
			t.Fatalf("tracks %d values, want 16", len(top))
		}
	})
	t.Run("long values are cut and marked", func(t *testing.T) {
		s := New(2)
		long := make([]byte, MaxValueBytes+10)
		for i := range long {
			long[i] = 'x'
		}
		s.Add(long)
		e := s.Top()[0]
		if len(e.Value) != MaxValueBytes || !e.Truncated {
			t.Fatalf("got %d bytes truncated=%v", len(e.Value), e.Truncated)
		}
	})
	t.Run("merge restores a saved profile", func(t *testing.T) {
		a := New(4)
		for _, v := range []string{"x", "y", "x"} {
			a.Add([]byte(v))
		}
		b := New(4)
		b.Merge(a.Top(), a.Total())
		b.Add([]byte("x"))
		if got := b.Top()[0]; got.Value != "x" || got.Count != 3 || b.Total() != 4 {
			t.Fatalf("got %v total %d", got, b.Total())
		}
	})
}

// TestSketchTableStaysConsistent churns through many evictions and checks
// that every tracked value is still found by its own lookup.
func TestSketchTableStaysConsistent(t *testing.T) {
	s := New(8)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 50000; i++ {
		s.Add([]byte(fmt.Sprintf("v%d", r.IntN(40))))
		if i%997 == 0 {
			for j := range s.slots {
				sl := &s.slots[j]
				if _, got := s.find(sl.hash, sl.buf[:sl.n], sl.truncated); got != j {
					t.Fatalf("after %d adds slot %d (%q) found at %d", i, j, sl.buf[:sl.n], got)
				}
			}
		}
	}
}

func TestAddDoesNotAllocate(t *testing.T) {
	s := New(8)
	vals := make([][]byte, 64)
	for i := range vals {
		vals[i] = []byte(fmt.Sprintf("value-%d", i))
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		s.Add(vals[i%len(vals)])
		i++
	})
	if allocs != 0 {
		t.Fatalf("Add allocates %.1f times per call", allocs)
	}
}

func BenchmarkSketchAdd(b *testing.B) {
	vals := make([][]byte, 256)
	for i := range vals {
		vals[i] = []byte(fmt.Sprintf("\"status-%d\"", i%40))
	}
	b.Run("hits", func(b *testing.B) {
		s := New(DefaultCapacity)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s.Add(vals[i%len(vals)])
		}
	})
	b.Run("churn", func(b *testing.B) {
		s := New(DefaultCapacity)
		for i := range vals {
			vals[i] = []byte(fmt.Sprintf("\"sku-%d\"", i))
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s.Add(vals[i%len(vals)])
		}
	})
}

// zipfStream returns n values drawn from a Zipf distribution over 2,000
// distinct values, seeded.
func zipfStream(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, seed+1))
	z := rand.NewZipf(r, 1.3, 1, 1999)
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("v%d", z.Uint64())
	}
	return out
}

func summaryOf(s *Sketch) Summary {
	return Summary{Entries: s.Top(), Total: s.Total(), Capacity: s.Capacity()}
}

func TestCombine(t *testing.T) {
	t.Run("parts that never evicted combine exactly", func(t *testing.T) {
		a, b := New(4), New(4)
		for _, v := range []string{"x", "y", "x"} {
			a.Add([]byte(v))
		}
		for _, v := range []string{"y", "z", "y"} {
			b.Add([]byte(v))
		}
		got := Combine(4, summaryOf(a), summaryOf(b))
		want := []Entry{{Value: "y", Count: 3}, {Value: "x", Count: 2}, {Value: "z", Count: 1}}
		if fmt.Sprint(got.Entries) != fmt.Sprint(want) || got.Total != 6 || got.Capacity != 4 {
			t.Fatalf("got %v total %d capacity %d, want %v total 6", got.Entries, got.Total, got.Capacity, want)
		}
	})
	t.Run("a full part lends its smallest count to values it does not list", func(t *testing.T) {
		a := Summary{Capacity: 2, Total: 10, Entries: []Entry{{Value: "x", Count: 7}, {Value: "y", Count: 3, Error: 1}}}
		b := Summary{Capacity: 2, Total: 1, Entries: []Entry{{Value: "z", Count: 1}}}
		// z: 1 in b, and up to 3 in a (a's smallest count): 4 ± 3; y: 3
		// in a, none in b (not full: exact).
		got := Combine(3, a, b)
		want := []Entry{{Value: "x", Count: 7}, {Value: "z", Count: 4, Error: 3}, {Value: "y", Count: 3, Error: 1}}
		if fmt.Sprint(got.Entries) != fmt.Sprint(want) || got.Total != 11 {
			t.Fatalf("got %v total %d, want %v total 11", got.Entries, got.Total, want)
		}
	})
	t.Run("three workers' sketches keep the bound of one sketch", func(t *testing.T) {
		const k = 16
		truth := map[string]uint64{}
		var parts []Summary
		var n uint64
		for w := range 3 {
			s := New(k)
			// Workers see the stream in different proportions.
			for _, v := range zipfStream(uint64(10+w), 20000*(w+1)) {
				s.Add([]byte(v))
				truth[v]++
				n++
			}
			parts = append(parts, summaryOf(s))
		}
		got := Combine(k, parts...)
		if got.Total != n || len(got.Entries) != k {
			t.Fatalf("total %d with %d values, want %d with %d", got.Total, len(got.Entries), n, k)
		}
		for _, e := range got.Entries {
			tc := truth[e.Value]
			if tc > e.Count || e.Count-e.Error > tc {
				t.Errorf("%s: true count %d outside [%d, %d]", e.Value, tc, e.Count-e.Error, e.Count)
			}
			if e.Error > n/k {
				t.Errorf("%s: error %d over Total/k = %d", e.Value, e.Error, n/k)
			}
		}
		// Every value counted more than Total/k times is kept.
		kept := map[string]bool{}
		for _, e := range got.Entries {
			kept[e.Value] = true
		}
		for v, c := range truth {
			if c > n/k && !kept[v] {
				t.Errorf("%s counted %d times (> %d) was dropped", v, c, n/k)
			}
		}
		if got.Entries[0].Value != "v0" {
			t.Errorf("most counted value %v, want v0", got.Entries[0])
		}
	})
	t.Run("the parts are not changed", func(t *testing.T) {
		a := Summary{Capacity: 1, Total: 5, Entries: []Entry{{Value: "x", Count: 5}}}
		b := Summary{Capacity: 1, Total: 2, Entries: []Entry{{Value: "y", Count: 2}}}
		Combine(1, a, b)
		if a.Entries[0].Count != 5 || b.Entries[0].Count != 2 {
			t.Fatalf("parts changed: %v %v", a, b)
		}
	})
}

func BenchmarkCombine(b *testing.B) {
	var parts []Summary
	for w := range 3 {
		s := New(DefaultCapacity)
		for _, v := range zipfStream(uint64(w), 10000) {
			s.Add([]byte(v))
		}
		parts = append(parts, summaryOf(s))
	}
	b.ReportAllocs()
	for b.Loop() {
		Combine(DefaultCapacity, parts...)
	}
}

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

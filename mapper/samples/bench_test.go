package samples

import (
	"fmt"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
)

// benchPayloads is a stream of records like production's: 95% clean, 5%
// failing in one of a few categories.
func benchPayloads() [][]byte {
	var ps [][]byte
	for i := 0; i < 1000; i++ {
		state := "PAID"
		if i%20 == 0 {
			state = []string{"REFUNDED", "VOID", "HELD"}[i/20%3]
		}
		ps = append(ps, orderPayload(fmt.Sprintf("user%d@example.com", i), "Some Name", "555-0100", state))
	}
	return ps
}

// BenchmarkHotPath measures the mapping goroutine's cost per record with
// and without the store observing: the ratio of the two is the store's
// share of the record path.
func BenchmarkHotPath(b *testing.B) {
	src := testSource(b)
	ps := benchPayloads()
	for _, on := range []bool{false, true} {
		name := "sampling=off"
		if on {
			name = "sampling=on"
		}
		b.Run(name, func(b *testing.B) {
			var st *Store
			if on {
				var err error
				st, err = Open(Config{Dir: b.TempDir(), Rand: seeded(1), FlushInterval: 50 * time.Millisecond})
				if err != nil {
					b.Fatal(err)
				}
			}
			var m mapper.Mapper
			var res mapper.Result
			origin := &mapper.Origin{Topic: "shop.orders"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := ps[i%len(ps)]
				m.Map(src, p, &res)
				if st != nil {
					origin.Offset = int64(i)
					st.Observe(origin, src, p, &res, 0)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			if st != nil {
				if err := st.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkObserve is the store's cost alone per record, from concurrent
// mapping goroutines.
func BenchmarkObserve(b *testing.B) {
	src := testSource(b)
	ps := benchPayloads()
	results := make([]mapper.Result, len(ps))
	for i, p := range ps {
		results[i] = src.Map(p)
	}
	st, err := Open(Config{Dir: b.TempDir(), Rand: seeded(1), FlushInterval: 50 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		origin := &mapper.Origin{Topic: "shop.orders"}
		i := 0
		for pb.Next() {
			j := i % len(ps)
			st.Observe(origin, src, ps[j], &results[j], 0)
			i++
		}
	})
	b.StopTimer()
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
}

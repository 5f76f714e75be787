package release_test

import (
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/release"
)

// BenchmarkMap measures the per-record map step over the partner orders:
// the engine alone, and the controller with the live rules only, a shadow
// candidate, a 5% canary and the breaker on. The shadow maps every record
// twice; its cost is the ratio of records/s to "live".
func BenchmarkMap(b *testing.B) {
	live, cand := load(b, "live"), load(b, "candidate")
	ps := payloads(b)
	origins := make([]*mapper.Origin, len(ps))
	for i := range ps {
		origins[i] = origin(i)
	}
	b.Run("engine", func(b *testing.B) {
		src := live.Source("orders")
		var m mapper.Mapper
		var res mapper.Result
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			m.Map(src, ps[i%len(ps)], &res)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	for _, bc := range []struct {
		name string
		cfg  release.Config
	}{
		{"live", release.Config{Live: live}},
		{"shadow", release.Config{Live: live, Candidate: cand}},
		{"canary5", release.Config{Live: live, Candidate: cand, Mode: release.ModeCanary, CanaryShare: 0.05, CanaryMaxDrop: 1}},
		{"breaker", release.Config{Live: live, MaxRejectRatio: 0.9}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := release.New(bc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			var s release.Scratch
			var res mapper.Result
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				j := i % len(ps)
				if _, held := c.Map(&s, origins[j], ps[j], &res); held != nil {
					b.Fatal("a record was held")
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

package metrics_test

import (
	"slices"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/metrics"
)

func TestCandidateCountersOnTheWire(t *testing.T) {
	a := listenUDP(t)
	c := newClient(t, metrics.Config{Addr: a.addr})
	for range 4 {
		c.CandidateRecord("orders", 1, 2, mapper.VerdictNowMapped)
	}
	c.CandidateRecord("orders", 1, 2, mapper.VerdictNewlyFailing)
	c.CandidateRecord("orders", 1, 3, mapper.VerdictNewlyFailing)
	c.CandidateRollback("orders", 3)
	c.BreakerTrip("orders", 3)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ds := a.settle()
	for _, tt := range []struct {
		name   string
		metric string
		tags   []string
		want   float64
	}{
		{"verdicts counted per candidate version", "mapper.candidate.records", []string{"source:orders", "rules_version:1", "candidate_version:2", "verdict:now_mapped"}, 4},
		{"each verdict its own count", "mapper.candidate.records", []string{"source:orders", "rules_version:1", "candidate_version:2", "verdict:newly_failing"}, 1},
		{"another candidate version apart", "mapper.candidate.records", []string{"source:orders", "rules_version:1", "candidate_version:3", "verdict:newly_failing"}, 1},
		{"rollbacks by candidate version", "mapper.candidate.rollbacks", []string{"source:orders", "candidate_version:3"}, 1},
		{"breaker trips by rules version", "mapper.breaker.trips", []string{"source:orders", "rules_version:3"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := only(ds, tt.metric, tt.tags...)
			if err != nil {
				t.Fatal(err)
			}
			if d.Type != "c" || !slices.Equal(d.Values, []float64{tt.want}) {
				t.Errorf("got %q, want a count of %v", d.Raw, tt.want)
			}
		})
	}
}

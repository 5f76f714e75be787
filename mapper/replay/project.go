package replay

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// IntervalName names the interval replay puts on projections drawn from
// samples.
const IntervalName = "Wilson score 95%"

// z95 is the standard normal quantile of a two-sided 95% interval.
const z95 = 1.959963984540054

// Wilson returns the Wilson score interval of a proportion with k
// successes out of n trials at the given z (1.96 for 95%). n = 0 gives
// [0, 1].
func Wilson(k, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	p := float64(k) / float64(n)
	nf := float64(n)
	z2 := z * z
	den := 1 + z2/nf
	mid := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, mid-half), math.Min(1, mid+half)
}

// Estimate is a projected count of records with its interval.
type Estimate struct {
	Count float64 `json:"count"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	// Method is how it was projected: "wilson" (the share of the
	// category's samples fixed, Wilson score 95%, times the records seen) or
	// "value profile" (every profiled value replayed in the category's
	// samples and weighed by its count; the interval is a Wilson score 95%
	// interval on the share of samples each value fixes, widened by the
	// profile's count error and, for values the profile did not track, the
	// samples' own interval).
	Method string `json:"method"`
}

// Projection is what a change is projected to do to all the records of a
// category, from its samples (and value profile) and its records seen.
type Projection struct {
	Seen uint64 `json:"seen"`
	// NowMapped is the records delivered without the category's failure
	// (the replay's now mapped: rejected before and delivered now, or
	// degraded by it before and clean of it now); nil for categories whose
	// records were delivered (clean, degraded reasons). NewlyFailing is nil
	// for those whose reason rejects: the change cannot do that to them.
	NowMapped    *Estimate `json:"now_mapped,omitempty"`
	NewlyFailing *Estimate `json:"newly_failing,omitempty"`
}

// wilsonEstimate projects k of n samples onto seen records. The samples
// are records of the category themselves, so the interval never goes below
// k nor above seen-(n-k); when every record was replayed it is exact.
func wilsonEstimate(k, n int, seen float64) *Estimate {
	lo, hi := Wilson(k, n, z95)
	c := 0.0
	if n > 0 {
		c = seen * float64(k) / float64(n)
	}
	if float64(n) >= seen {
		return &Estimate{Count: c, Lo: c, Hi: c, Method: "wilson"}
	}
	return &Estimate{Count: c, Lo: math.Max(seen*lo, float64(k)), Hi: math.Min(seen*hi, seen-float64(n-k)), Method: "wilson"}
}

// profiledReasons are the categories whose fix depends on the failing
// value alone, so that replaying each profiled value projects it exactly.
func profiledReason(r mapper.Reason) bool {
	switch r {
	case mapper.ReasonUnknownEnum, mapper.ReasonInvalidFormat, mapper.ReasonTypeMismatch, mapper.ReasonOutOfRange:
		return true
	}
	return false
}

// maxSubstitutions is how many samples each profiled value is replayed in.
const maxSubstitutions = 50

// profileEstimate projects the records of a category now mapped by putting
// every profiled value into the category's samples in place of their own
// and mapping them with src: a value's records count as fixed in the share
// of samples it fixes (a record may fail another way too), with a Wilson
// score 95% interval on that share and the profile's count error. ok is
// false when the profile cannot stand for the category (a field inside
// arrays, counts that disagree with seen, no sample whose payload can take
// the value) or is not needed (every record of the category was replayed).
func profileEstimate(src *mapper.Source, field string, prof samples.ValueProfile, seen uint64, rows []*samples.Sample, fixedSamples, replayed int) (*Estimate, bool) {
	if src == nil || field == "" || strings.Contains(field, "[]") || prof.Total != seen || seen == 0 || uint64(replayed) >= seen {
		return nil, false
	}
	var docs []map[string]any
	for _, s := range rows {
		if len(docs) == maxSubstitutions {
			break
		}
		p, ok := s.PayloadBytes()
		if !ok {
			continue
		}
		var doc map[string]any
		dec := json.NewDecoder(bytes.NewReader(p))
		dec.UseNumber()
		if dec.Decode(&doc) == nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		return nil, false
	}
	var m mapper.Mapper
	var res mapper.Result
	est := &Estimate{Method: "value profile"}
	var tracked uint64
	fixed := make([]int, len(prof.Values))
	best := 0
	for i, v := range prof.Values {
		if v.Truncated {
			return nil, false
		}
		tracked += v.Count
		for _, doc := range docs {
			b, ok := withValue(doc, field, json.RawMessage(v.Value))
			if !ok {
				return nil, false
			}
			m.Map(src, b, &res)
			if res.Outcome.Delivered() {
				fixed[i]++
			}
		}
		best = max(best, fixed[i])
	}
	for i, v := range prof.Values {
		if best > 0 && fixed[i] == 0 {
			// Samples that another value fixes fail with this one: the
			// value itself is still refused, none of its records map.
			continue
		}
		lo, hi := Wilson(fixed[i], len(docs), z95)
		est.Count += float64(v.Count) * float64(fixed[i]) / float64(len(docs))
		est.Lo += float64(v.Count-v.Error) * lo
		est.Hi += float64(v.Count) * hi
	}
	if tracked < seen {
		rest := wilsonEstimate(fixedSamples, replayed, float64(seen-tracked))
		est.Count += rest.Count
		est.Lo += rest.Lo
		est.Hi += rest.Hi
		est.Method = "value profile + wilson"
	}
	return est, true
}

// withValue returns doc as JSON with the value at the dotted field set to
// v (doc itself is restored before returning).
func withValue(doc map[string]any, field string, v json.RawMessage) ([]byte, bool) {
	keys := strings.Split(field, ".")
	cur := doc
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil, false
		}
		cur = next
	}
	last := keys[len(keys)-1]
	old, had := cur[last]
	cur[last] = v
	b, err := json.Marshal(doc)
	if had {
		cur[last] = old
	} else {
		delete(cur, last)
	}
	return b, err == nil
}

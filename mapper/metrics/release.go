package metrics

import (
	"strconv"

	"github.com/mapperhq/mapper/mapper"
)

// Metric names of rule changes tested in production.
const (
	// MetricCandidateRecords counts records mapped by live and candidate
	// rules, tagged source, rules_version, candidate_version and verdict.
	MetricCandidateRecords = "candidate.records"
	// MetricCandidateRollbacks counts canary rollbacks, tagged source and
	// candidate_version.
	MetricCandidateRollbacks = "candidate.rollbacks"
	// MetricBreakerTrips counts sources paused by the reject-ratio breaker,
	// tagged source and rules_version.
	MetricBreakerTrips = "breaker.trips"
)

type candKey struct {
	source     string
	live, cand int
	verdict    mapper.Verdict
}

// CandidateRecord counts one record compared between the live rules
// (version rulesVersion) and a candidate (candidateVersion) as
// mapper.candidate.records. Tag sets are cached: verdicts are five, versions
// one pair per loaded rule set.
func (c *Client) CandidateRecord(source string, rulesVersion, candidateVersion int, v mapper.Verdict) {
	if c == nil {
		return
	}
	k := candKey{source: source, live: rulesVersion, cand: candidateVersion, verdict: v}
	c.mu.RLock()
	tags, ok := c.candTags[k]
	c.mu.RUnlock()
	if !ok {
		tags = []string{
			"source:" + sourceTag(source),
			"rules_version:" + strconv.Itoa(rulesVersion),
			"candidate_version:" + strconv.Itoa(candidateVersion),
			"verdict:" + tagValue(string(v)),
		}
		c.mu.Lock()
		if len(c.candTags) < maxCandTagSets {
			c.candTags[k] = tags
		}
		c.mu.Unlock()
	}
	_ = c.sd.Count(MetricCandidateRecords, 1, tags, 1)
}

// maxCandTagSets bounds the cached candidate tag sets (reloads bring new
// versions); past it tags are built per call.
const maxCandTagSets = 1024

// CandidateRollback counts one canary rollback as mapper.candidate.rollbacks.
func (c *Client) CandidateRollback(source string, candidateVersion int) {
	if c == nil {
		return
	}
	_ = c.sd.Count(MetricCandidateRollbacks, 1, []string{"source:" + sourceTag(source), "candidate_version:" + strconv.Itoa(candidateVersion)}, 1)
}

// BreakerTrip counts one source paused by the reject-ratio breaker as
// mapper.breaker.trips.
func (c *Client) BreakerTrip(source string, rulesVersion int) {
	if c == nil {
		return
	}
	_ = c.sd.Count(MetricBreakerTrips, 1, []string{"source:" + sourceTag(source), "rules_version:" + strconv.Itoa(rulesVersion)}, 1)
}

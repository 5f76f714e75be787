package release

import (
	"cmp"
	"slices"
	"time"

	"github.com/mapperhq/mapper/mapper"
)

// Status is what the status page shows of the rule sets.
type Status struct {
	// Rules are the live rules' versions by source.
	Rules map[string]int `json:"rules"`
	// Candidate is nil when no candidate is loaded.
	Candidate *CandidateStatus `json:"candidate,omitempty"`
	// Reloads is how many times the rules were swapped since start.
	Reloads int64 `json:"reloads"`
	// LoadedAt is when the running rules were loaded.
	LoadedAt time.Time `json:"loaded_at"`
	// Paused lists the sources the breaker paused.
	Paused []Trip `json:"paused,omitempty"`
}

// CandidateStatus is the state of the candidate rule set.
type CandidateStatus struct {
	Mode Mode `json:"mode"`
	// Versions are the candidate's versions by source.
	Versions map[string]int `json:"versions"`
	// Verdicts count the compared records by verdict, all sources together.
	Verdicts map[mapper.Verdict]int64 `json:"verdicts"`
	// RolledBack is true when the canary of some source was rolled back.
	RolledBack bool `json:"rolled_back"`
	// Sources break the counts down by source.
	Sources []CandidateSource `json:"sources"`
}

// CandidateSource is the candidate's state for one source.
type CandidateSource struct {
	Source           string                   `json:"source"`
	RulesVersion     int                      `json:"rules_version"`
	CandidateVersion int                      `json:"candidate_version"`
	Verdicts         map[mapper.Verdict]int64 `json:"verdicts"`
	// LiveRecords and CanaryRecords count the records delivered with the
	// live rules and with the candidate's (canary mode only).
	LiveRecords   int64     `json:"live_records,omitempty"`
	CanaryRecords int64     `json:"canary_records,omitempty"`
	RolledBack    *Rollback `json:"rolled_back,omitempty"`
}

// Status returns a snapshot of the rule sets and the candidate's counts.
func (c *Controller) Status() Status {
	g := c.gen.Load()
	st := Status{Rules: versionList(g.live), Reloads: g.n, LoadedAt: g.loadedAt, Paused: c.Paused()}
	if g.cand == nil {
		return st
	}
	cs := &CandidateStatus{Mode: c.cfg.Mode, Versions: versionList(g.cand), Verdicts: map[mapper.Verdict]int64{}, Sources: []CandidateSource{}}
	for _, v := range mapper.Verdicts() {
		cs.Verdicts[v] = 0
	}
	for _, s := range g.sources {
		if s.cmp == nil {
			continue
		}
		row := CandidateSource{Source: s.name, RulesVersion: s.liveVersion, CandidateVersion: s.candVersion,
			Verdicts: map[mapper.Verdict]int64{}, RolledBack: s.cmp.rollback.Load()}
		if c.cfg.Mode == ModeCanary {
			row.LiveRecords, row.CanaryRecords = s.cmp.canary[0].Load(), s.cmp.canary[1].Load()
		}
		for i, v := range mapper.Verdicts() {
			n := s.cmp.verdicts[i].Load()
			row.Verdicts[v] = n
			cs.Verdicts[v] += n
		}
		if row.RolledBack != nil {
			cs.RolledBack = true
		}
		cs.Sources = append(cs.Sources, row)
	}
	slices.SortFunc(cs.Sources, func(a, b CandidateSource) int { return cmp.Compare(a.Source, b.Source) })
	st.Candidate = cs
	return st
}

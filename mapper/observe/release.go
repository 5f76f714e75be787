package observe

import (
	"fmt"
	"slices"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/metrics"
	"github.com/mapperhq/mapper/mapper/release"
	"github.com/mapperhq/mapper/mapper/samples"
)

// ReleaseEvents sends what the release controller does (release.Events)
// to metrics, Sentry and the sample store; any of them may be nil.
type ReleaseEvents struct {
	Metrics *metrics.Client
	Alerts  *alerts.Alerter
	Samples *samples.Store
}

func sourceName(a, b *mapper.Source) string {
	if a != nil {
		return a.Name()
	}
	if b != nil {
		return b.Name()
	}
	return ""
}

func sourceVersion(s *mapper.Source) int {
	if s == nil {
		return 0
	}
	return s.Version()
}

// Compared counts the verdict, keeps records whose verdict is not "same"
// as samples in the category "candidate:<verdict>" (redacted with both rule
// sets' paths), and sends one Sentry notice for a candidate's first newly
// failing record.
func (r *ReleaseEvents) Compared(origin *mapper.Origin, payload []byte, live *mapper.Source, liveRes *mapper.Result, cand *mapper.Source, candRes *mapper.Result, v mapper.Verdict) {
	name := sourceName(live, cand)
	r.Metrics.CandidateRecord(name, sourceVersion(live), sourceVersion(cand), v)
	if v == mapper.VerdictSame {
		return
	}
	// A value the candidate redacts and the live rules do not must not be
	// kept either: redact with the candidate first, the store then
	// redacts with the live source.
	keep := live
	if keep == nil {
		keep = cand
	}
	if r.Samples != nil {
		p := payload
		if cand != nil && keep != cand && !slices.Equal(cand.RedactPaths(), keep.RedactPaths()) {
			p = cand.Redact(payload)
		}
		r.Samples.Keep("candidate:"+string(v), origin, keep, p, liveRes, sourceVersion(cand), candRes)
	}
	if v == mapper.VerdictNewlyFailing && r.Alerts != nil {
		// The candidate's results are masked with its paths already;
		// mask them with the live rules' paths too.
		fs := candRes.Failures
		if live != nil {
			fs = live.RedactFailures(fs)
		}
		r.Alerts.Notify(alerts.Notice{
			Kind: alerts.NoticeCandidateNewlyFailing, Source: name,
			RulesVersion: sourceVersion(live), CandidateVersion: sourceVersion(cand),
			Message: fmt.Sprintf("%s: candidate rules v%d reject records the live rules v%d deliver",
				name, sourceVersion(cand), sourceVersion(live)),
			Failures: fs, Src: cand,
			Topic: origin.Topic, Partition: origin.Partition, Offset: origin.Offset,
		})
	}
}

// RolledBack counts the rollback and sends one Sentry notice.
func (r *ReleaseEvents) RolledBack(rb release.Rollback) {
	r.Metrics.CandidateRollback(rb.Source, rb.CandidateVersion)
	r.Alerts.Notify(alerts.Notice{
		Kind: alerts.NoticeCanaryRollback, Source: rb.Source, RulesVersion: rb.RulesVersion, CandidateVersion: rb.CandidateVersion,
		Message: fmt.Sprintf("%s: canary of rules v%d rolled back; the live rules v%d map every record", rb.Source, rb.CandidateVersion, rb.RulesVersion),
		Warning: true,
		Detail:  map[string]any{"reason": rb.Reason, "records": rb.Records, "live_ratio": rb.LiveRatio, "candidate_ratio": rb.CandidateRatio},
	})
}

// Tripped counts the trip and sends one Sentry notice.
func (r *ReleaseEvents) Tripped(t release.Trip) {
	r.Metrics.BreakerTrip(t.Source, t.RulesVersion)
	r.Alerts.Notify(alerts.Notice{
		Kind: alerts.NoticeBreakerTrip, Source: t.Source, RulesVersion: t.RulesVersion,
		Message: fmt.Sprintf("%s: paused by the reject-ratio breaker (rules v%d)", t.Source, t.RulesVersion),
		Detail:  map[string]any{"reason": t.Reason, "records": t.Records, "rejected": t.Rejected},
	})
}

package alerts

import (
	"fmt"
	"strconv"

	"github.com/getsentry/sentry-go"

	"github.com/mapperhq/mapper/mapper"
)

// Notice kinds: events about rule sets rather than failure categories.
const (
	// NoticeCandidateNewlyFailing: candidate rules reject a record the live
	// rules deliver, for the first time for that candidate.
	NoticeCandidateNewlyFailing = "candidate_newly_failing"
	// NoticeCanaryRollback: a canary was rolled back.
	NoticeCanaryRollback = "canary_rollback"
	// NoticeBreakerTrip: the reject-ratio breaker paused a source.
	NoticeBreakerTrip = "breaker_trip"
	// NoticeDrift prefixes the kind of a new drift between a source's
	// traffic and its input schema ("drift_absent_required"): one notice
	// per source, drift kind and Field.
	NoticeDrift = "drift_"
)

// Notice is a one-off event about a rule set: a candidate's first newly
// failing record, a canary rollback, a breaker trip. It carries no payload
// value: Failures go through Src's redaction (RedactFailures) before
// sending.
type Notice struct {
	// Kind is one of the Notice* constants; with Source and the versions it
	// is the event's fingerprint.
	Kind             string
	Source           string
	RulesVersion     int
	CandidateVersion int // 0 when no candidate is concerned
	// Field, when set, is the normalised field path the notice is about:
	// part of its fingerprint and a tag. It must hold no payload value.
	Field string
	// Shared asks the Config.Ledger, when there is one, before sending, as
	// for a failure category's first event (category "Kind:Field"), so
	// that the group of workers sends the notice once, across restarts.
	Shared bool
	// Message is the event's title.
	Message string
	// Warning sends the event at warning level instead of error.
	Warning bool
	// Detail holds extra context (counts, ratios, reasons).
	Detail map[string]any
	// Failures are the failures that explain the notice, if any; Src's
	// redaction masks their fields and details.
	Failures []mapper.Failure
	Src      *mapper.Source
	// Topic, Partition and Offset say which record, if one is concerned.
	Topic     string
	Partition int
	Offset    int64
}

func (n *Notice) key() string {
	return n.Kind + "\x00" + n.Source + "\x00" + strconv.Itoa(n.RulesVersion) + "\x00" + strconv.Itoa(n.CandidateVersion) + "\x00" + n.Field
}

// Notify sends n once for the life of the Alerter per kind, source and
// versions; later notices with the same key are dropped. It never blocks
// and keeps only copies. It reports whether the event was queued.
func (a *Alerter) Notify(n Notice) bool {
	if a == nil {
		return false
	}
	if _, dup := a.notices.LoadOrStore(n.key(), true); dup {
		return false
	}
	n.Failures = append([]mapper.Failure(nil), n.Failures...)
	k := catKey{source: n.Source, version: n.RulesVersion, reason: mapper.Reason(n.Kind), field: n.Field}
	if !a.enqueue(job{key: k, notice: &n, firstSeen: n.Shared}) {
		a.drop(k, "sentry queue full; notice dropped")
		return false
	}
	return true
}

// noticeEvent builds the Sentry event of a notice.
func noticeEvent(n *Notice) *sentry.Event {
	ev := sentry.NewEvent()
	ev.Level = sentry.LevelError
	if n.Warning {
		ev.Level = sentry.LevelWarning
	}
	ev.Message = n.Message
	ev.Fingerprint = []string{n.Kind, n.Source, strconv.Itoa(n.RulesVersion), strconv.Itoa(n.CandidateVersion)}
	ev.Tags = map[string]string{
		"kind":          n.Kind,
		"source":        n.Source,
		"rules_version": strconv.Itoa(n.RulesVersion),
	}
	if n.Field != "" {
		ev.Fingerprint = append(ev.Fingerprint, n.Field)
		ev.Tags["field"] = n.Field
	}
	if n.CandidateVersion != 0 {
		ev.Tags["candidate_version"] = strconv.Itoa(n.CandidateVersion)
	}
	ctx := sentry.Context{}
	for k, v := range n.Detail {
		ctx[k] = v
	}
	if len(n.Failures) > 0 {
		fs := make([]map[string]any, 0, len(n.Failures))
		failures := n.Failures
		if n.Src != nil {
			failures = n.Src.RedactFailures(failures)
		}
		for _, f := range failures {
			fs = append(fs, map[string]any{"category": f.Category().String(), "detail": f.Detail})
		}
		ctx["failures"] = fs
	}
	ev.Contexts = map[string]sentry.Context{"rules": ctx}
	if n.Topic != "" {
		ev.Tags["topic"] = n.Topic
		ev.Contexts["record"] = sentry.Context{"topic": n.Topic, "partition": n.Partition, "offset": n.Offset}
	}
	if n.Kind == NoticeCandidateNewlyFailing {
		ev.Contexts["rules"]["samples"] = fmt.Sprintf("mapper samples show --source %s --category candidate:newly_failing", n.Source)
	}
	return ev
}

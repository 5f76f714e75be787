package alerts

import (
	"context"

	"github.com/mapperhq/mapper/mapper"
)

// Ledger remembers, for a group of workers, which failure categories were
// announced to Sentry already, so that a restarted worker or a new one
// does not announce them again. *sampletopic.Ledger (a compacted Kafka
// topic) satisfies it.
//
// Announce is asked, from the Alerter's sending goroutine and never from
// Observe, before the first event of a category that this Alerter would
// send: true means this worker announces it (the event is sent), false
// that the group announced it already for this rules version (the event is
// not sent; Counts.AlreadyAnnounced counts it). category is "reason" or
// "reason:field". An error means the ledger cannot tell: the event is
// sent, since twice is better than never. ctx ends after Config.Timeout or
// when Close gives up. It must be safe for concurrent use.
//
// Only first events go through the ledger: once Config.Interval has passed,
// every worker that keeps meeting the category sends its own reminder
// event, as a single worker does.
type Ledger interface {
	Announce(ctx context.Context, source string, rulesVersion int, category string) (bool, error)
}

// claim asks the ledger whether this worker announces the job's category.
func (a *Alerter) claim(j job) bool {
	ctx, cancel := context.WithTimeout(a.rt.abort, a.cfg.Timeout)
	defer cancel()
	cat := mapper.Category{Reason: j.key.reason, Field: j.key.field}.String()
	ok, err := a.cfg.Ledger.Announce(ctx, j.key.source, j.key.version, cat)
	if err != nil {
		a.log.Warn("cannot tell whether the group announced this category; sending the event", "source", j.key.source, "category", cat, "error", err)
		return true
	}
	if !ok {
		a.announced.Add(1)
	}
	return ok
}

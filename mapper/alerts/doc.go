// Package alerts reports failure categories to Sentry through
// github.com/getsentry/sentry-go.
//
// An *Alerter is told of every mapped record through Observe (it implements
// the worker's Observer interface structurally). A failure category is the
// tuple (source, reason, field, rules version). The first record of a
// category sends one Sentry event; later records of the same category are
// suppressed until Config.Interval (default one hour) has passed since the
// last event, when the next record sends one event again, carrying how many
// records were suppressed in between. So 10,000 records of one defect make one
// event, not 10,000.
//
// Each event has:
//   - the fingerprint ["<source>", "<reason>", "<field>", "<rules version>"],
//     exactly, so that Sentry groups one issue per category;
//   - tags source, reason, field (when the failure has one), topic,
//     rules_version and outcome — all from bounded sets;
//   - a "record" context with the record's coordinates (topic, partition,
//     offset, key, time), which are per-record and so never tags;
//   - a "failure" context with the category, detail, the record's other
//     failures, first_seen, suppressed_since_last and the `mapper samples
//     show` command that lists the category's kept samples;
//   - the payload as the attachment "payload.redacted.json", masked with
//     the source's Redact (the rule's redact paths). Every detail goes
//     through the source's SafeDetail: a failure at, inside or above a
//     redacted path has a value-free detail. A record no source claims
//     has no attachment, since nothing says which of its values are secret.
//
// The Sentry hub and client are built with sentry.NewClient and
// sentry.NewHub (never sentry.Init: no global state). Observe never blocks:
// it decides in a few atomic operations whether a record is due and, if so,
// copies what the event needs onto a bounded queue (Config.QueueSize,
// default 64) that one goroutine owned by the Alerter drains, sending each
// event with a timeout (Config.Timeout, default 5s). When the queue is full —
// because Sentry hangs or is slow — the event is dropped. A 429 answer makes
// the SDK back off as Sentry asks. Dropped, rate-limited and failed events
// are counted (Counts, and Config.Stats as mapper.sentry.events) and logged
// at most once per Config.LogInterval. Neither a hanging nor a refusing
// Sentry slows Observe.
//
// Categories are capped per source (Config.MaxCategoriesPerSource, default
// 200); beyond the cap, a new category's field becomes "other", so a payload
// stream that invents field names cannot grow memory or issues without bound.
//
// A group of workers announces each category once: with Config.Ledger set
// (a samples topic's ledger, package sampletopic), the sending goroutine
// asks it before a category's first event, and sends nothing for a
// category the group announced already for the same rules version.
//
// Close stops taking events, sends what is queued for at most
// Config.FlushTimeout (default 2s), then abandons the rest (counted as
// dropped) and waits for its goroutine. All methods are safe for concurrent
// use; a nil *Alerter does nothing.
package alerts

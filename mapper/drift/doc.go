// Package drift keeps, per source, the input contract as the traffic shows
// it against the source's input schema: a live drift report.
//
// # Kinds
//
// Each entry of a Report is one kind of drift at one normalised field path
// ("issue.reactions", "items[].sku"):
//
//   - new_property (KindNewProperty): a property the input schema does not
//     allow (an unexpected_field failure);
//   - absent_required (KindAbsentRequired): a property the input schema
//     requires arrives absent (a missing_field failure at a field the schema
//     lists in required);
//   - new_type (KindNewType): a value of a JSON type outside the schema's
//     types there (a type_mismatch or null_field failure whose type the
//     schema does not allow);
//   - new_enum_value (KindNewEnumValue): a value outside the schema's enum
//     (an unknown_enum failure where the schema has an enum or const), with
//     the values never seen in the enum and their counts.
//
// Each entry carries its count, its share of the source's records, and the
// time it was first and last seen. Counts are cumulative; when the Observer
// first meets a source's new rules (a reload, a restart), the entries the
// new input schema covers are dropped.
//
// The report is built from the failures the engine already reports, so it
// costs nothing on a clean record beyond one counter, and only the records
// with an unknown_enum failure at a field where the input schema has an
// enum, outside the source's redact paths, are parsed again (once, for the
// values). A source whose input contract is `unread: ignore` reports no
// drift at fields no rule reads: the engine drops those failures.
//
// The worker observes through a Tally per mapping goroutine, which keeps
// its records and their drift to itself and adds them to the reports at
// each Flush (once per batch), under the source's lock once and with one
// clock read: the reports are those of the records observed one by one at
// the Flushes, except that first and last seen are the times of the
// Flushes.
//
// # Bounds
//
// Memory is fixed per source: at most Config.MaxPaths (DefaultMaxPaths,
// 256) kind and path pairs are tracked; drift at pairs past it is counted
// in Report.Untracked. Each new_enum_value entry keeps at most
// Config.MaxValues (DefaultMaxValues, 16) distinct values in a Space-Saving
// sketch (package profile), each cut to profile.MaxValueBytes; a new_type
// entry counts the seven JSON types. A report read from a file or from the
// samples topic is refused past MaxReadPaths entries or MaxReadValues values
// an entry.
//
// # Privacy
//
// A value at or under a source's redact paths is never recorded: the
// values of new_enum_value entries are read with mapper.ValueScanner, which
// reports nothing there, and a field the source redacts is skipped before
// that. Paths come from the engine's failures, already made safe
// (mapper.Source.SafeField).
//
// # Sharing
//
// An Observer writes each source's report to the samples directory
// (<dir>/<source>/drift.json) and hands it to its Sink (the samples topic's
// writer shares it with the group, key ["drift", source, worker]); Merge
// folds the workers' reports into one. Counts are cumulative per worker
// and at least once, like the samples' counts.
package drift

// Package dashboard generates Datadog dashboard and monitor definitions from
// the engine's sources, so that what is graphed and alerted on follows the
// rules: a new source or a changed objective is a regenerated file, not a
// hand edit in the Datadog UI.
//
// Build returns a Set: one dashboard in the Dashboards API v1 format
// (layout_type "ordered", formula-style queries, a $env template variable)
// with a group per source — records by outcome, mapped ratio against the
// rule's objective, top failure reasons, top failing fields, dead-letter
// rate, consumer lag per topic and partition — after an overview group; and
// metric-alert monitors in the Monitors API v1 format: one per source with an
// objective (delivered ratio below it over the last hour) and one for the
// rate of new failure categories; and per source with an objective a
// metric-based SLO in the SLO API v1 format (good = mapped + degraded
// records, total = every record, target = the objective, over 7 and 30
// days), whose status and error budget left the source's group shows.
//
// The output depends only on the sources (names, topics, objectives) and
// Options, and is stable: the same rules give byte-identical JSON. Build
// never fails; it has no state and is safe for concurrent use.
package dashboard

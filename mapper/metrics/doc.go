// Package metrics sends mapper's DogStatsD metrics through the Datadog client
// (github.com/DataDog/datadog-go/v5).
//
// A *Client is told of every mapped record through Observe (it implements the
// worker's Observer interface structurally) and of the worker's other events
// through ConsumerLag, DLQRecord, SampleKept and SentryEvent. Every metric is
// under the namespace "mapper." and carries the constant tags of Config.Tags
// (see TagsFromEnv for env, service and version):
//
//	mapper.records              count         source, rules_version, outcome
//	mapper.failures             count         source, rules_version, reason, field
//	mapper.map.duration         distribution  source, outcome (seconds per record)
//	mapper.consumer.lag         gauge         topic, partition
//	mapper.dlq.records          count         source
//	mapper.samples.kept         count         source, reason
//	mapper.sentry.events        count         source, reason, status
//	mapper.failures.field_capped count        source
//	mapper.failures.new_category count        source, rules_version, reason
//
// Tag values come from bounded sets only: source names, rules versions,
// outcomes, reason codes, normalised field paths and topics. Field paths are
// capped per source (Config.MaxFieldsPerSource, default 200): once a source
// has that many distinct field values, failures of any new field are tagged
// field:other and counted in mapper.failures.field_capped. A failure without a
// field (malformed_payload, unknown_source) is tagged field:none, and a record
// no source claims is tagged source:unknown, rules_version:0.
//
// mapper.failures.new_category counts the first failure of each category
// (source, rules version, reason, field) the process sees: a new kind of
// defect, or a new rules version. A restarted process counts its categories
// again, so monitors on it should allow for deploys.
//
// Client-side aggregation is on (counts and gauges are summed in the process
// and flushed every Config.AggregationInterval, default 2s; distributions
// keep at most Config.MaxSamplesPerContext samples, default 128, per tag set
// and interval, sent with their sample rate) and the Datadog client's own telemetry
// (datadog.dogstatsd.client.*) is left on. Sending never blocks the caller:
// the client writes from its own goroutines and drops datagrams it cannot
// write; write errors are counted (Stats) and logged at most once per
// Config.ErrorLogInterval.
//
// All methods of *Client are safe for concurrent use. A nil *Client is valid
// and does nothing, so callers can leave metrics off without branching.
package metrics

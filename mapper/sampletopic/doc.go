// Package sampletopic shares a group of workers' samples, counts and
// announced failure categories through one compacted Kafka topic, the way
// Kafka Streams keeps a group's tables: every worker writes its part under
// its own keys, and a reader folds the topic into one view.
//
// # Records
//
// Every record's key is a JSON array naming what it holds (see Key):
//
//	["sample", source, category, slot]        a kept sample: the JSON line of the sample file, byte for byte
//	["seen", source, category, worker]        {"seen":N,"first_seen":T,"last_seen":T}: one worker's count of a category
//	["records", source, worker]               {"rules_version":V,"records":N,"delivered":N}: one worker's count of a source
//	["announced", source, version, category]  {"worker":W,"at":T}: the category was announced to Sentry
//	["values", source, category, worker]      {"total":N,"capacity":K,"updated_at":T,"values":[…]}: one worker's failing-value profile
//	["drift", source, worker]                 a drift.Report: one worker's drift report of a source (package drift)
//	["shapes", "", worker]                    a samples.Shapes: one worker's structural profiles of the records no source accepts
//
// A sample key names a reservoir slot, so compaction keeps at most K
// samples per category whatever the number of workers: the last worker to
// write slot j wins it. A worker writes a record its own reservoir keeps
// with probability (n-1)/(N-1), n its count of the category and N the
// group's, so that each slot is a uniform pick of the group's records
// (Algorithm R over the group's stream; see Writer.Slot). Counts are cumulative per worker id
// (samples.WorkerID: the id lives in the worker's samples directory), so
// the last value of each worker's key is that worker's total and readers
// sum the workers. An announcement is decided by the log: the claim with
// the lowest offset for a key wins (see Ledger). Every key always goes to
// the same partition (Partition: FNV-1a of the key), so its records stay in
// order. A values key holds one worker's Space-Saving profile of a
// category's failing values (samples.Values, which never reads a value at
// a redacted path), rewritten at its flush when it changed; readers merge
// the workers' profiles (Snapshot.Profiles, profile.Combine).
//
// # Delivery
//
// Counts are at least once: a record that is mapped, counted and then
// consumed again after a kill or a rebalance is counted twice. A worker
// stopped cleanly writes its last counts before it exits. Before each
// offset commit a worker hands its store's counts over
// (samples.Store.ShareCounts) and waits for them to be written
// (Writer.Sync), so a worker killed outright keeps in the topic the counts
// of every record it committed, unless that write failed within its bound
// (then the commit went ahead and the counts follow at the next flush).
//
// # Bounds
//
// The Writer holds at most one pending value per key, and the keys are
// bounded by the sample store's bounds (K slots, one count and one value
// profile per category, categories per source capped). Read refuses a
// topic with more than ReadOptions.MaxKeys distinct keys or more than
// ReadOptions.MaxBytes of values, and skips (and reports) records it does
// not understand, a value profile of more than 1024 values among them.
//
// The Writer, Ledger and Snapshot are safe for concurrent use.
package sampletopic

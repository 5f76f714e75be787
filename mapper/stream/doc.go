// Package stream is the streaming worker: it consumes input topics as a
// member of a Kafka consumer group (segmentio/kafka-go), maps every record
// with the engine (package mapper), writes mapped and degraded records to
// the output topic and rejected ones, byte for byte, to the dead-letter
// topic, and commits offsets only after those writes are acknowledged.
//
// # Delivery
//
// Records flow through three stages, each working on its own batch: fetch
// (up to Config.BatchSize records, waiting Config.BatchLinger for more after
// the first), map (Config.Concurrency goroutines, each with its own
// mapper.Mapper) and deliver (write the output and dead-letter records with
// RequiredAcks=all, retrying failed ones with backoff until acknowledged,
// then commit the batch synchronously). Batches pass every stage in fetch
// order, so records of one partition are written in order and offsets are
// committed in partition order, never past a record that is not delivered:
// at-least-once. After a crash, a kill or a rebalance, records after the
// last commit are consumed again (duplicates, never loss).
//
// Output records keep the input key and carry the headers named by the
// Header* constants. Dead-letter records keep the original key, value and
// headers and append the Header* headers saying why.
//
// # Life cycle
//
// New validates the Config and returns every problem as a *ConfigError
// without touching the network. Run checks the brokers (authentication
// failures and missing topics end it at once; unreachable brokers are
// retried), consumes until its context is canceled, then drains within
// Config.ShutdownTimeout, leaves the group and returns. A Worker's methods
// are safe for concurrent use; Run may be called once.
//
// Observers (see Observer) are told of every record from the mapping
// goroutines. Handler serves /healthz, /readyz and a JSON /status page with
// counts per source and outcome, the top failure categories and the
// consumer lag measured from the brokers (committed offset against high
// watermark).
package stream

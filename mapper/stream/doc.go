// Package stream is the streaming worker: it consumes input topics as a
// member of a Kafka consumer group (segmentio/kafka-go), maps every record
// with the engine (package mapper), writes mapped and degraded records to
// the output topic and rejected ones, byte for byte, to the dead-letter
// topic, and commits offsets only after those writes are acknowledged.
//
// # Delivery
//
// The worker is a member of a consumer group (kafka-go's ConsumerGroup).
// For each partition it is assigned, a fetch loop reads records in bulk
// (one Fetch request returns up to Config.FetchMaxBytes; the next one runs
// while these are mapped), cuts them into
// batches of at most Config.BatchSize, maps each batch with the shared
// mapping goroutines (Config.Concurrency, each with its own mapper.Mapper),
// and hands its output and dead-letter records, in order, to asynchronous
// producers with RequiredAcks=all. It then fetches the next records while
// those writes are in flight: up to Config.PartitionBatches batches per
// partition, and Config.MaxInflightBytes of records over all partitions,
// after which fetching waits. An acknowledgement loop per partition waits
// for each batch in fetch order; a record whose first write failed is
// written again (WriteAcked) until acknowledged; and a batch's offset is
// offered to the committer only when it and every batch before it are
// acknowledged. The committer commits asynchronously, coalescing partitions:
// offsets advance in partition order and never past a record that is not
// delivered, so delivery is at-least-once. After a crash, a kill or a
// rebalance, records after the last commit are consumed again (duplicates,
// never loss).
//
// Records are fetched with kafka-go's Client and decoded by its protocol
// package, which keeps a null key, value or header value apart from an
// empty one (its Reader does not), so a dead letter is its original byte
// for byte.
//
// Produce requests are sized by bytes: each topic's max.message.bytes is
// read from the brokers at start, whatever the batch size. A record larger
// than its topic accepts holds only its own partition: that partition stops
// committing and, once its batches in flight are full, fetching; /readyz
// answers 503 naming the record and its size; the log says so once per
// Config.LogInterval; and the topic's limit is read again until the record
// fits. Other partitions go on.
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
// Config.ShutdownTimeout, leaves the group and returns, in every state,
// rebalances included: past the deadline the group's connections are cut,
// so a join waiting on a rebalance does not hold it. A Worker's methods
// are safe for concurrent use; Run may be called once.
//
// Observers (see Observer) are told of every record from the mapping
// goroutines; those that also implement DeliveryObserver are told of every
// acknowledged write, and CommitObserver ones are asked before every offset
// commit. Handler serves /healthz, /readyz and a JSON /status page with
// counts per source and outcome, the top failure categories and the
// consumer lag measured from the brokers (committed offset against high
// watermark).
package stream

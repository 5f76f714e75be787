// Package samples keeps real records of every failure category on disk, so
// that rule changes can be replayed against them (package replay).
//
// # What is kept
//
// Per source and failure category (reason and normalised field) a
// reservoir of K samples (Config.PerCategory, default 20): slot 0 holds the
// first record seen in the category, the other K-1 slots a uniform random
// sample of the rest (Algorithm R), so each later record is equally likely
// to be kept whatever its position in the stream. A record that fails in
// several ways is offered to the reservoir of each of its categories. Per
// source a second reservoir (Config.Clean, default 20) keeps a uniform
// sample of clean records (outcome mapped, no failure) so that replay can
// catch rule changes that break what works today. Records no source claims
// are sampled under the source "" and category unknown_source, without
// their payload (their redact paths are unknown), their key, or the values
// of headers no rule routes on (see Shapes).
//
// # Records no source accepts
//
// Of those records the store keeps a value-free structural profile
// instead (ShapesFile, read with ReadShapes), per topic and values of the
// headers the rules route on (ShapeConfig.RoutingHeaders): the payload
// paths that at least MinKeyRecords records carried, the JSON types at each
// with counts, and the header names. The values of routing headers are
// kept because they name what a record is as the rules spell it (an event
// type), which is what a new source would accept it by, not what it holds;
// they are capped in length and must be printable text. Every dimension is
// bounded (ShapeConfig): groups, paths per group, key length and shape
// (other keys are written OtherKey: a key may be data), depth, array
// elements walked, header names, payload size. The payload is parsed
// outside the store's lock; the profile is written with the samples at
// each flush and taken up by Open. Package suggest builds starter sources
// from it.
//
// # On disk
//
// Dir/<source>/<reason>/<field>.jsonl holds a category's samples, one JSON
// object (Sample) per line, first record first; Dir/<source>/clean.jsonl
// the clean ones; Dir/index.json the counts (records and delivered records
// per source, records seen and first/last seen per category). Names are
// escaped into single path elements (CategoryPath). The payload is stored
// with the source's redact paths masked by (*mapper.Source).Redact, and
// failures go through its RedactFailures (value-free details at, inside or
// above a redacted path).
//
// Every file is replaced whole: written to a temporary file in the same
// directory, synced, then renamed. A reader, or a process killed at any
// moment, sees either the old file or the new one; Open removes temporary
// files a killed writer left, and moves a category file it cannot read
// (edited by hand, say) aside to <file>.unreadable, reporting it through
// Config.OnError, rather than refusing to start or overwriting it. Files are 0600 and directories 0700. The
// store is bounded: K lines per category, Config.MaxSampleBytes per
// payload, Config.MaxCategories per source and Config.MaxBytes in total (at
// that cap files keep only the samples that fit, first record first).
//
// # Cost on the record path
//
// Store.Observe takes a lock, updates counters, draws one random number
// per reservoir the record is offered to and, only for a record chosen as
// a sample, copies it into a bounded queue. Redaction, encoding and file
// writes happen in the store's own goroutine, every Config.FlushInterval
// (default 1s); a full queue drops the sample instead of blocking. Close
// drains the queue, writes everything and waits for the goroutine.
//
// # Failing-value profiles
//
// Values (OpenValues) keeps, per source and category of type_mismatch,
// invalid_format, unknown_enum, out_of_range and unexpected_field, the most
// frequent failing values with counts: a Space-Saving sketch (package
// profile) of ValuesConfig.PerCategory values (default 32), fed with the
// JSON text at the failure's field (mapper.ValueScanner, which never reads
// a value at or under a redact path), at most ValuesConfig.PerRecord values
// per failure and MaxCategories categories per source. It writes
// Dir/<source>/<reason>/<field>.values.json (ValuesPath) beside the
// category's samples, atomically like them, every FlushInterval and on
// Close; Open takes up the profiles already there (an unreadable one is
// reported and started afresh). Values.Observe is safe for concurrent use
// and does not allocate per record once a category exists. ReadValues and
// ReadAllValues read the files.
//
// A Store is safe for concurrent use. The readers (List, Read, ReadDir,
// ReadFile, Counts) need no Store and are safe to use while one writes.
// One directory should have one Store writing it at a time.
package samples

// Package mapper is the mapping engine: it loads declarative rule files
// (rules/*.yaml) and the JSON Schemas they name, and maps third-party
// payloads into domain records, classifying every record as mapped,
// degraded or rejected with stable failure reasons (see Reason).
//
// The engine imports no I/O package: the Kafka worker (mapper/stream),
// metrics (mapper/metrics), Sentry alerts (mapper/alerts), samples
// (mapper/samples) and replay (mapper/replay) build on it.
//
// Files, one job each:
//   - load.go: Load and LoadFS, which assemble an Engine from a rules and
//     a schemas directory; a rule set with any problem is refused whole.
//     Nothing outside the two directories is read.
//   - bounds.go: the linear scan that bounds a rule file before it is parsed.
//   - schemaset.go: reading and compiling the schemas directory;
//     schemarefs.go: keeping every $ref inside it.
//   - yamlnode.go: helpers that read YAML syntax-tree nodes with positions.
//   - rules.go: parsing one rule file into a Source and its output tree.
//   - transformargs.go: parsing transform chains and their arguments.
//   - contract.go: the input contract policy (input_contract) and the set
//     of source paths the rules read.
//   - route.go: accept predicates, Engine.Route and Mapper.MapRecord.
//   - schema.go, fullpass.go: the input and output schema checks;
//     docorder.go: the input schema's failures in document order.
//   - mapper.go: Mapper.Map, the payload guards and failure recording.
//   - emit.go: writing the output record field by field.
//   - transform.go, timestamp.go: the transforms.
//   - redact.go: the one redaction (Source.Redact, RedactOutput,
//     IsRedacted, SafeDetail, RedactFailures): shape-safe masking and
//     value-free details.
//   - redactrule.go: compiling the `redact:` list at load.
//   - fieldpath.go: normalised field paths and how they fit the input
//     schema.
//
// An Engine and its Sources are immutable once loaded and safe for
// concurrent use; a Mapper holds reusable buffers and belongs to one
// goroutine.
package mapper

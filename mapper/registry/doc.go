// Package registry connects the worker to a Schema Registry through its
// Confluent-compatible REST API (Confluent Schema Registry, Apicurio
// Registry's ccompat API, Redpanda, Karapace).
//
// Each source's output JSON Schema is registered under its subject (see
// Strategy) before the worker writes a record of it, and each output
// record is then written in the Confluent wire format: a magic byte 0, the
// schema id as 4 big-endian bytes, then the JSON payload. Registration is
// gated: a schema that is not yet registered under its subject is first
// checked against the subject's latest version under the subject's
// compatibility level, and an incompatible one is refused with the
// registry's own answer (an *IncompatibleError). Ids are cached for the
// life of the Client: the registry is asked once per schema, never per
// record, so a registry that goes away costs nothing until a new schema
// must be registered.
//
// The client is github.com/twmb/franz-go/pkg/sr. The package starts no
// goroutine; a Client is safe for concurrent use.
package registry

// Package privacytest holds the property test of redaction across the
// packages that let payloads and failure details leave the process: the
// sample files (mapper/samples), Sentry envelopes (mapper/alerts, through
// a real HTTP endpoint), failure details and dead-letter headers, and
// replay reports (mapper/replay, from samples and from dead-letter
// records, as text and JSON, with examples), and for the records no source
// accepts, whose values are never kept at all: their samples, structural
// profiles and the starter sources suggest builds from them. It has no code of its own;
// testdata/ holds the rules it loads, which the mapper command's tests use
// too.
package privacytest

// Package infer derives an input JSON Schema from real payloads: the
// types seen at every path (with null where nulls were seen), which
// properties are required, enums for low-cardinality strings and the
// formats every value of a string field has (date-time, email, uuid).
//
// An Inferrer takes payloads one at a time in bounded memory per path
// (distinct strings are tracked only up to the enum limit) and writes the
// same schema for the same set of payloads whatever their order.
package infer

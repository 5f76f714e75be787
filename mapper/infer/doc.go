// Package infer derives an input JSON Schema from real payloads, and
// merges what real payloads show into an existing one.
//
// An Inferrer takes payloads one at a time in bounded memory per path
// (distinct strings are tracked only up to Options.MaxEnum) and writes the
// same schema for the same set of payloads whatever their order: the types
// seen at every path (with null where nulls were seen), which properties
// are required, and the formats every string value of a field has
// (date-time, uuid, email).
//
// It generalises rather than copies the capture. A string field gets an
// enum only with evidence (enough values, few distinct ones, each seen more
// than once, shaped like a code, not an identifier's name; see
// Options.MinEnumValues and enumValues): three records of one currency
// make no enum. A property seen only as null gets no type, a description
// saying so, and is listed by NullOnly.
//
// Against merges the payloads into an existing schema document and edits
// it in place (a small span editor over the JSON text): it only widens
// (properties, types, enum values added; failed formats and required
// properties found absent removed), and every line it does not change
// stays byte for byte, so that a review diff shows the change alone.
package infer

// Package suggest proposes rule edits for the failures that have a
// mechanical fix, from a source's kept samples and failing-value profiles,
// and writes them into the source's rule file.
//
// Propose reads the categories of one source and returns one Suggestion per
// category it can fix, each with its evidence (records seen, the failing
// values with counts, the values no rule edit takes up) and what a person
// must review:
//
//   - unknown_enum: new enum entries; the output is inferred when the value
//     equals a known value or output but for case and punctuation, and is
//     otherwise a placeholder (the output of the nearest known value) that
//     Review names. Where the input schema lists the field's values in an
//     enum of its own, SchemaEdits adds the new values there too, so the
//     rules and the contract agree;
//   - invalid_format on a timestamp field: Go layouts that parse the
//     failing values, day/month order read from days over 12 and named in
//     Review when both orders read the values;
//   - missing_field: a field of the same parent with a similar name, that no
//     rule reads, present in most of the category's samples (from
//     unexpected_field failures and the payloads): read from both; a
//     redacted old name makes the new one redacted too;
//   - type_mismatch and output_invalid: an int or float transform for
//     numbers sent as strings.
//
// Apply edits the rule file's YAML tree (goccy/go-yaml, comments kept),
// bumps its version and heads it with a comment listing every edit and
// every review item; ApplySchema appends the schema edits to a schema
// file's enum arrays, keeping the rest of the file byte for byte. Neither
// touches a file on disk. Values are read with
// mapper.ValueScanner, which never reads a value at a redacted path.
// Propose and Apply keep no state and are safe for concurrent use.
package suggest

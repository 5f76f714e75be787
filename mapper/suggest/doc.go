// Package suggest proposes, for every failing category of a source, an
// edit of its rules or input schema with its evidence, or says why no edit
// fixes it (KindNoFix), from the source's kept samples and failing-value
// profiles, and writes the edits into the files in place.
//
// Propose returns one Suggestion per category. The kinds (the names
// mapper suggest prints and the candidate's header lists):
//
//   - enum_value: new enum entries; the output is inferred when the value
//     equals a known value or output but for case and punctuation, and is
//     otherwise a placeholder that Review names; the input schema's own
//     enum gets the values too (SchemaEdits);
//   - timestamp_layout: Go layouts that parse the failing values, unless
//     the input schema's format refuses them;
//   - renamed_field, moved_field: a missing or null field read from the
//     path that carries its values now — present in every failing sample
//     and equal to the old value in every kept record that has both (a
//     move needs at least one such record; a rename in the same parent
//     needs none to disagree); a redacted old path makes the new one
//     redacted;
//   - id_or_object: an id string that arrives as its expanded object: the
//     object's key whose values the id carried is read first;
//   - number_transform: int or float for numbers sent as strings, string
//     before decimal_to_minor for decimals sent as numbers, or the contract
//     widened where the rule converts already;
//   - nullable, default, when: a null let through, the output schema's
//     default, or a field mapped only for the records that carry it;
//   - contract_property, contract_optional: the input schema as the kept
//     payloads show it (a property added with its types and format, a type
//     widened, required dropped for an unread field that arrives absent).
//
// With the source's live drift report (Input.Drift, package drift), which
// counts all the traffic where the samples keep a bounded few, the
// contract edits take their counts and evidence from it (Suggestion.Traffic:
// "absent in 412 of 1030 records (40%), drift report"), a type widened at
// an unread field takes the types it saw, and each of its entries that no
// failing category shows gets its contract edit (a property of unknown
// type is added open, {}, for a person to type: the report counts
// properties, not their types) or a no_fix; entries the input schema
// already answers (a report older than the rules) are left out.
//
// ProposeUnrouted answers the records no source accepts (unknown_source),
// from their structural profiles (samples.Shapes): per topic and routing
// header value with enough records, a starter source (new_source) built by
// package infer, and the alternative edit of an existing accept list
// (accept_predicate), for review; see unrouted.go.
//
// Apply edits the rule file's text at the parsed nodes' positions: only
// the edited lines and the version line change (comments, alignment,
// block or flow style and key order are kept); a placeholder enum output
// or an ambiguous layout says REVIEW in a trailing comment of its edited
// line, and the list of edits, review items and no_fix is the caller's to
// show (mapper suggest writes SummaryFile). ApplySchema does the same for
// JSON schema files. TestCases and AppendTestCases write one rule test per
// fixed category from a kept (redacted) sample; RebaseTestFile keeps a
// copied test file's payload_file paths working. None touches a file on
// disk. Values at redacted paths are never read (mapper.ValueScanner);
// test payloads are masked again with the candidate's redact paths.
// Nothing here keeps state; every function is safe for concurrent use.
package suggest

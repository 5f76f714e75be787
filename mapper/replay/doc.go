// Package replay runs records through changed rules and reports, per source
// and category, what a rule change fixes and what it breaks: kept samples
// (Run), or every record of a capture mapped with both rule sets (Exact).
//
// # Sample replay
//
// Each sample is classified by Classify, from the category it was kept for
// and the outcome its record had, against the result the rules give now,
// with the engine's verdict names (mapper.Verdict):
//
//   - newly_failing (a regression): the record was delivered (mapped or
//     degraded) and is rejected now — clean samples included;
//   - same: the category is still among the failures;
//   - now_mapped: the category is gone and the record is delivered (for a
//     clean sample: it still maps cleanly);
//   - failing_differently: the category is gone but the record is rejected
//     for another reason (for a clean sample: it is now degraded);
//   - skipped: the sample has no payload (records no source claimed).
//
// A sample whose original payload was malformed_payload
// (samples.Sample.MalformedOriginal) is malformed_payload under any rules,
// whatever masking made of its bytes: a masked control character or escape
// may parse.
//
// A sample is mapped with the source of its name, or when that source is
// gone with the source that claims its topic now, or else it is
// unknown_source.
//
// With the samples directory's counts (Options.Counts), every category is
// projected onto the records it stands for (Projection): the share of its
// samples now mapped (or, for delivered categories, newly failing) times its
// records seen, with a Wilson score 95% interval on that share, narrowed to
// what the samples themselves prove and exact when every record was kept.
// Now mapped is the replay's verdict: delivered without the category's
// failure, so a category whose failure only degrades (type_mismatch of a
// field no rule reads) projects the records the change maps clean of it;
// the source's mapped ratio counts only those delivered now and rejected
// before. With a value profile (Options.Profiles) of an unknown_enum,
// invalid_format, type_mismatch or out_of_range category, each profiled
// value is put into up to 50 of the category's samples and replayed, and
// weighed by the records that carry it, so that an enum or layout fix is
// projected from the real value counts rather than from which values
// happened to be kept (unless some of its samples were delivered before). The source's mapped ratio after the change adds the
// changed categories' projections (and their interval bounds) to the exact
// ratio before; without counts each sample counts once and the ratio gets
// the Wilson interval of the delivered share of the samples.
//
// # Exact replay
//
// Exact maps every line of a capture with the baseline source and the
// candidate on every core (package batch) and compares the two results of
// each record with mapper.Compare: exact counts per category and verdict,
// and the exact mapped ratios before and after. With ExactOptions.Show it
// keeps examples per changed verdict, the same ones for the same capture
// on any number of cores, each side shown with the redact paths of both
// rule sets masked; Locate names their file and line.
//
// Rows of both reports are sorted by impact (SortImpact) or by name
// (SortName). Run and Exact are safe for concurrent use with distinct
// inputs; Run starts no goroutine, Exact's goroutines end before it
// returns.
package replay

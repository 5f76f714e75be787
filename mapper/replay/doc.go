// Package replay runs kept samples (package samples) through today's rules
// and reports, per source and category, what a rule change fixes and what
// it breaks.
//
// Each sample is classified by Classify, from the category it was kept for
// and the outcome its record had, against the result the rules give now:
//
//   - newly failing (a regression): the record was delivered (mapped or
//     degraded) and is rejected now — clean samples included;
//   - still failing: the category is still among the failures;
//   - now mapped: the category is gone and the record is delivered (for a
//     clean sample: it still maps cleanly);
//   - failing differently: the category is gone but the record is rejected
//     for another reason (for a clean sample: it is now degraded);
//   - skipped: the sample has no payload (records no source claimed).
//
// A sample is mapped with the source of its name, or when that source is
// gone with the source that claims its topic now, or else it is
// unknown_source. Per source the report estimates the share of records
// delivered before and after the change and compares it with the source's
// objective: when the samples directory's counts are given, each sample
// stands for the records of its category seen per sample kept (split
// between the categories of a record kept in several), otherwise each
// sample counts once.
//
// Run is safe for concurrent use with distinct inputs; it starts no
// goroutine.
package replay

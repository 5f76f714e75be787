// Package release decides, record by record, which rules map a record while
// a rule change is being tested in production, and guards the running rules.
//
// A Controller holds the live rule set and, optionally, a candidate, and
// swaps them atomically (hot reload; the worker takes Current once per
// batch, so a swap falls between batches). With a candidate in shadow mode
// every record is mapped by both; the live result is delivered
// and the candidate's is compared with it (mapper.Compare) and counted. In
// canary mode a share of the records, chosen by a hash of their key (or of
// topic, partition and offset when they have none), is delivered with the
// candidate's result; a judge rolls the candidate back, per source, when its
// delivered ratio falls below the live rules' by more than a set drop over a
// window. A reject-ratio breaker pauses a source whose share of rejected
// records crosses a limit, until a reload resets it.
//
// The package imports the engine and the standard library only: the
// worker calls Controller.Map at its per-record map step, and the caller
// wires metrics, alerts and samples through Events.
package release

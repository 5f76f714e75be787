// Package profile keeps the most frequent values of a stream in fixed
// memory: a Space-Saving heavy-hitters sketch (Metwally, Agrawal and El
// Abbadi, 2005).
//
// A Sketch of capacity k tracks at most k distinct values. While fewer than
// k distinct values have been added, every count is exact. Past that, a new
// value takes the place of the value with the smallest count and inherits
// that count as its possible overcount (Entry.Error): a value's true count
// lies in [Count-Error, Count], and any value whose true count exceeds
// Total/k is guaranteed to be in the sketch.
//
// Add copies the value into a slot of fixed size and indexes it in a
// fixed open-addressing table: it never allocates.
package profile

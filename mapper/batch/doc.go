// Package batch maps files of JSON lines on every core: the batch path of
// `mapper map --lines` for files and dumps, and the engine's benchmark.
//
// Run reads lines in chunks, maps the chunks concurrently with one
// mapper.Mapper per worker, and writes the results in input order, or adds
// them to a Summary. Blank lines are skipped; every other line is one record.
package batch

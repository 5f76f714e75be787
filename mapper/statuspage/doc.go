// Package statuspage renders the worker's status as a page for people: a
// server-rendered HTML page (html/template, no JavaScript) that refreshes
// itself and shows, per source, the outcomes of the last minutes and the
// share delivered against the source's objective, the top failure
// categories with the command that shows their samples, the consumer lag
// per partition, the rules versions loaded and, when candidate rules run,
// their verdicts.
//
// The page reads the same document as the worker's /status endpoint (a
// stream.Status, or anything that encodes to the same JSON), so a key added
// to /status, such as "candidate", shows on the page without this package
// importing its producer. It shows names, categories and counts only, never
// a payload value: what it renders has already passed the engine.
//
// A Handler is safe for concurrent use.
package statuspage

// Package ruletest runs rule tests: YAML files beside the rules
// (rules/NAME.test.yaml) that say what given payloads must map to.
//
// A test file names its source (by default the one loaded from NAME.yaml in
// the same directory) and lists cases:
//
//	source: orders                  # optional
//	cases:
//	  - name: an unknown status is rejected
//	    payload: { order_id: ORD-1, status: on-hold, … }   # YAML or JSON; a string is the raw payload text
//	    outcome: rejected
//	    failures:
//	      - { reason: unknown_enum, field: status }
//	    output_subset:
//	      id: "ORD-1"
//
// A case's payload is inline (payload) or a file relative to the test file
// (payload_file, with payload_line to pick one line of a JSON-lines file);
// topic and headers route it through the engine the way the worker does.
// The expectation is the outcome, the exact set of failure categories (with
// a detail only where given) and, optionally, the output: exact (output) or
// a subset (output_subset: the given keys, recursively; arrays compare
// whole). Numbers compare exactly by value (1230 equals 1.23e3).
//
// ParseFile reads a test file and reports every mistake as a *mapper.LoadError
// with file:line:col. Run maps every case and compares; a failing case
// carries a unified diff of expected and got. Update rewrites the
// expectations of failing cases with what the rules give now, leaving the
// rest of the file (payloads, comments, passing cases) as it was.
//
// Nothing in this package keeps global state; a Suite is not modified by Run
// and may be run from several goroutines at once.
package ruletest

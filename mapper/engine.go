package mapper

import (
	"slices"

	"github.com/valyala/fastjson"
)

// Options tunes the engine's payload guards and the bounds of rule loading.
// The zero value is valid: every zero field takes its default.
type Options struct {
	// MaxPayloadBytes is the largest payload accepted; larger ones are
	// malformed_payload. Zero means 1 MiB.
	MaxPayloadBytes int
	// MaxDepth is the deepest nesting of objects and arrays accepted; deeper
	// payloads are malformed_payload. Zero means 64.
	MaxDepth int
	// MaxRuleFileBytes is the largest rule or schema file loaded; a larger
	// one is a load problem, refused before it is read. Zero means 4 MiB.
	MaxRuleFileBytes int
	// MaxPathSegments is the most segments a path of a rule file (from,
	// when, redact, accept, an output path) may have. Zero means 64.
	MaxPathSegments int
	// MaxRuleNesting is the deepest nesting of a rule file's YAML (mappings
	// and lists within each other, each within each). Zero means 32.
	MaxRuleNesting int
}

func (o Options) withDefaults() Options {
	if o.MaxPayloadBytes <= 0 {
		o.MaxPayloadBytes = 1 << 20
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 64
	}
	if o.MaxRuleFileBytes <= 0 {
		o.MaxRuleFileBytes = 4 << 20
	}
	if o.MaxPathSegments <= 0 {
		o.MaxPathSegments = 64
	}
	if o.MaxRuleNesting <= 0 {
		o.MaxRuleNesting = 32
	}
	return o
}

// Engine holds every compiled source of a rules directory. It is immutable
// once loaded and safe for concurrent use.
type Engine struct {
	sources []*Source
	byName  map[string]*Source
	byTopic map[string][]*Source // in file-name order
	opts    Options
	// warnings are what the static checks could not be sure of.
	warnings []Problem
	parsers  *fastjson.ParserPool // for Route's payload predicates
}

// Sources returns the sources sorted by name.
func (e *Engine) Sources() []*Source { return e.sources }

// Source returns the source of that name, or nil.
func (e *Engine) Source(name string) *Source { return e.byName[name] }

// SourceForTopic returns the first source that claims topic, or nil. Several
// sources can share a topic, each accepting its own records: to map a
// record, use Route, which honours their accept predicates.
func (e *Engine) SourceForTopic(topic string) *Source {
	if ss := e.byTopic[topic]; len(ss) > 0 {
		return ss[0]
	}
	return nil
}

// SourcesForTopic returns every source that claims topic, in rule-file
// order (a new slice each call).
func (e *Engine) SourcesForTopic(topic string) []*Source { return slices.Clone(e.byTopic[topic]) }

// Topics returns every input topic claimed by a source, sorted, each once.
func (e *Engine) Topics() []string {
	ts := make([]string, 0, len(e.byTopic))
	for t := range e.byTopic {
		ts = append(ts, t)
	}
	sortStrings(ts)
	return ts
}

// UnknownSource is the result for a record that no source claims.
func UnknownSource(topic string) Result {
	return Result{
		Outcome:  OutcomeRejected,
		Output:   []byte("null"),
		Failures: []Failure{{Reason: ReasonUnknownSource, Detail: "no source claims topic " + quote(topic)}},
	}
}

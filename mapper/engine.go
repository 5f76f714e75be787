package mapper

// Options tunes the engine's payload guards. The zero value is valid.
type Options struct {
	// MaxPayloadBytes is the largest payload accepted; larger ones are
	// malformed_payload. Zero means 1 MiB.
	MaxPayloadBytes int
	// MaxDepth is the deepest nesting of objects and arrays accepted; deeper
	// payloads are malformed_payload. Zero means 64.
	MaxDepth int
}

func (o Options) withDefaults() Options {
	if o.MaxPayloadBytes <= 0 {
		o.MaxPayloadBytes = 1 << 20
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 64
	}
	return o
}

// Engine holds every compiled source of a rules directory. It is immutable
// once loaded and safe for concurrent use.
type Engine struct {
	sources []*Source
	byName  map[string]*Source
	byTopic map[string]*Source
	opts    Options
	// warnings are what the static checks could not be sure of.
	warnings []Problem
}

// Sources returns the sources sorted by name.
func (e *Engine) Sources() []*Source { return e.sources }

// Source returns the source of that name, or nil.
func (e *Engine) Source(name string) *Source { return e.byName[name] }

// SourceForTopic returns the source that claims topic, or nil.
func (e *Engine) SourceForTopic(topic string) *Source { return e.byTopic[topic] }

// Topics returns every input topic claimed by a source, sorted.
func (e *Engine) Topics() []string {
	var ts []string
	for _, s := range e.sources {
		ts = append(ts, s.topics...)
	}
	sortStrings(ts)
	return ts
}

// UnknownSource is the result for a record that no source claims.
func UnknownSource(topic string) Result {
	return Result{
		Outcome:  OutcomeRejected,
		Output:   []byte("null"),
		Failures: []Failure{{Reason: ReasonUnknownSource, Detail: "no rule set claims topic " + quote(topic)}},
	}
}

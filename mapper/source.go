package mapper

// Source is one compiled rule file: how payloads of one third party become
// domain records. It is immutable and safe for concurrent use.
type Source struct {
	name      string
	version   int
	file      string
	topics    []string
	accept    []predicate
	objective Objective
	opts      Options
	plan      *plan
}

// Name is the source's stable name (a metric tag).
func (s *Source) Name() string { return s.name }

// Version is the rules version, bumped on every change of the rule file.
func (s *Source) Version() int { return s.version }

// File is the rule file the source was loaded from.
func (s *Source) File() string { return s.file }

// Topics are the input topics that feed this source.
func (s *Source) Topics() []string { return s.topics }

// OutputSchema is the name of the source's output schema in the schemas
// directory (order.v1.json) and the schema file's bytes as read, which the
// caller must not change.
func (s *Source) OutputSchema() (name string, doc []byte) {
	if s.plan == nil || s.plan.output == nil {
		return "", nil
	}
	return s.plan.output.name, s.plan.output.doc
}

// Objective is the source's measurable goal.
func (s *Source) Objective() Objective { return s.objective }

// Map maps one payload. It is safe for concurrent use; hot loops should
// keep a Mapper per goroutine and call Mapper.Map instead, which reuses
// its buffers.
func (s *Source) Map(payload []byte) Result {
	var m Mapper
	var r Result
	m.Map(s, payload, &r)
	return r
}

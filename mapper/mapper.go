package mapper

import (
	"hash/crc32"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// plan is a compiled rule file: everything a record needs, resolved once.
type plan struct {
	input     *schema
	output    *schema
	fullShare float64 // share of records that get the input schema's full pass
	root      *outNode
	red       *redaction // nil: nothing redacted
	// unread is what an input-schema failure at a field no rule reads does;
	// read lists the source paths the rules read, for that decision.
	unread unreadPolicy
	read   []readPath
	// paths is the tree of source paths the fields read when they read
	// plain paths only (see recorded.go), with slots values; nil when some
	// field needs the parsed value.
	paths *pathNode
	slots int
	// outDepth is the nesting depth of the output tree.
	outDepth int
}

// srcPath is a parsed source path ("customer.email"); no segments means
// the value itself (inside each).
type srcPath struct {
	raw      string // without the anchor ($root., $parent.)
	anchor   uint8  // anchorNone, anchorRoot, anchorParent
	segs     []string
	prefixes []string // prefixes[i] is the normalised path of segs[:i+1]
}

func (p srcPath) at(i int) string {
	if len(p.segs) == 0 {
		return ""
	}
	return p.prefixes[i]
}

// caseRule is one entry of a field's cases: when it holds, the field is
// value, or (rule non-nil) what rule's from, transform and enum give.
type caseRule struct {
	when  condition
	value []byte // JSON literal written to the output
	rule  *fieldRule
}

type transformStep struct {
	transformDef
	arg *transformArg
}

// fieldRule is how one output field is obtained.
type fieldRule struct {
	out        string
	from       []srcPath
	required   bool
	nullable   bool   // a present null is written as null, not defaulted or failed
	def        []byte // JSON literal; nil when there is no default
	transforms []transformStep
	enum       map[string][]byte // key: the value's text; value: JSON literal
	enumKeys   string            // for details
	each       *outNode
	cases      []caseRule
	// template builds a string from several paths, in place of from.
	template *template
	// defaultFrom are paths whose value is taken (as a default: the record
	// is degraded with defaulted) when from gives none, before def.
	defaultFrom []srcPath
	// when must hold for the field to be mapped at all; when it does not,
	// the field is left out with no failure. nil: always.
	when *condition
	// stepSlots are the recorded values of from's paths and of their
	// leading segments (see recorded.go): stepSlots[i][j] is that of
	// from[i].segs[:j+1], the last of stepSlots[i] that of from[i].
	stepSlots [][]int
}

// outNode is a node of the output document: an object with ordered
// children, or a leaf field.
type outNode struct {
	key    string
	keyLit []byte // `"key":`
	rule   *fieldRule
	kids   []*outNode
	// check is what the output schema's checks ask of it, for records
	// checked as they are written (see outcheck.go).
	check outChecks
}

// Mapper maps payloads, reusing its parse buffers between calls. The zero
// value is ready to use. A Mapper is not safe for concurrent use: keep one
// per goroutine.
type Mapper struct {
	parser    fastjson.Parser
	outParser fastjson.Parser
	out       []byte
	scratch   []byte
	strs      []string
	walk      walker
	shape     shapeWalker
	scan      strictScan
	full      anyTree // the full pass's values
	res       *Result
	src       *Source
	frames    []frame // the record, then the values holding each's arrays
	// schemaEnd is the number of failures from the input schema: rule
	// failures at or under those fields are not reported twice.
	schemaEnd int
	// checkingInput is set while the input schema is checked.
	checkingInput bool
	// minorPlaces is the decimal places of the record's currency, for
	// minor_to_decimal with currency_from.
	minorPlaces int
	// pos, order and sorted are sortByDocument's buffers.
	pos    []docPos
	order  []int
	sorted []Failure
	// prefixes are the element prefixes of the fields each maps (see
	// elemPrefix).
	prefixes map[string]string
	// recorded is set while a record is mapped from the values the scan
	// recorded in payload; bail when those could not give a field.
	recorded, bail bool
	payload        []byte
	// outCheck is set while the output schema's checks run on the record
	// as it is written; outChecked when they all held.
	outCheck, outChecked bool
}

// Map maps payload with the rules of s into res, reusing res.Output and
// res.Failures' backing arrays: whatever res held before is overwritten.
func (m *Mapper) Map(s *Source, payload []byte, res *Result) {
	res.Failures = res.Failures[:0]
	res.Output = res.Output[:0]
	m.res, m.src = res, s
	m.scratch = m.scratch[:0]
	m.strs = m.strs[:0]
	m.schemaEnd = 0
	defer func() { m.res, m.src = nil, nil }()

	p := s.plan
	var inputCheck *checkNode
	if p.input != nil {
		inputCheck = p.input.check
	}
	// Whether the payload is sampled for the full pass is decided only for
	// a payload within the size limit: one over it is never parsed, and is
	// not read through for its checksum either.
	sampled, clean, checked := false, false, false
	if len(payload) <= s.opts.MaxPayloadBytes {
		sampled = p.input != nil && p.sampled(payload)
		// A record mapped from the scan's records may have the input
		// checks' failures reported by the scan, not found by the walk.
		m.scan.report = !sampled && p.paths != nil
		clean, checked = m.scan.cleanRecorded(payload, s.opts.MaxDepth, inputCheck, p.paths, p.slots)
		m.scan.report = false
		if clean && !sampled && p.paths != nil && (checked || p.input == nil) {
			reported := len(m.scan.fails) > 0
			if m.addReported(p) && m.mapRecorded(s, payload) {
				m.finish(s)
				m.outChecked = false
				return
			}
			if reported {
				// The walk finds them again, with the rest.
				res.Failures, m.schemaEnd, checked = res.Failures[:0], 0, false
			}
		}
	}
	doc, detail := m.parseScanned(s, payload, clean)
	if doc == nil {
		res.Outcome = OutcomeRejected
		res.Output = append(res.Output, "null"...)
		res.Failures = append(res.Failures, Failure{Reason: ReasonMalformedPayload, Detail: detail})
		return
	}
	if p.input != nil {
		m.checkingInput = true
		if !checked {
			p.input.check.check(doc, &m.walk, m, false)
		}
		if sampled {
			p.input.fullPass(&m.full, doc, m, false)
		}
		m.checkingInput = false
	}
	m.schemaEnd = len(res.Failures)
	if m.schemaEnd > 1 {
		m.sortByDocument(doc, res.Failures)
	}
	if m.schemaEnd > 0 && p.unread != unreadReject {
		m.applyContract(p)
	}

	m.out = m.out[:0]
	m.frames = append(m.frames[:0], frame{ctx: doc})
	if !m.emitObject(p.root, doc, "") {
		m.out = append(m.out[:0], "{}"...)
	}
	m.finish(s)
}

// addReported adds the input checks' failures the scan reported, as the
// walk over the parsed value adds its own: in the payload's order, with
// the contract applied. It reports false, having added nothing, when their
// order is not known from the scan (the walk then finds them).
func (m *Mapper) addReported(p *plan) bool {
	fails := m.scan.fails
	if len(fails) == 0 {
		return true
	}
	m.pos = m.pos[:0]
	known := true
	m.checkingInput = true
	for i := range fails {
		f := &fails[i]
		n := len(m.res.Failures)
		if m.fail(f.reason, f.field, f.detail); len(m.res.Failures) > n {
			m.pos = append(m.pos, f.pos)
			known = known && f.posOK
		}
	}
	m.checkingInput = false
	m.schemaEnd = len(m.res.Failures)
	if m.schemaEnd > 1 {
		if !known {
			m.res.Failures, m.schemaEnd = m.res.Failures[:0], 0
			return false
		}
		m.sortByPositions(m.res.Failures)
	}
	if m.schemaEnd > 0 && p.unread != unreadReject {
		m.applyContract(p)
	}
	return true
}

// sampled reports whether payload gets the input schema's full pass.
func (p *plan) sampled(payload []byte) bool {
	return p.fullShare >= 1 || (p.fullShare > 0 && float64(crc32.ChecksumIEEE(payload)) < p.fullShare*(1<<32))
}

// mapRecorded maps a payload that the scan found clean, with the input
// checks held, from the values it recorded (see recorded.go). It reports
// false, having written nothing, when those do not suffice.
func (m *Mapper) mapRecorded(s *Source, payload []byte) bool {
	p := s.plan
	m.recorded, m.payload = true, payload
	m.outCheck = p.checksAsWritten(s.opts.MaxDepth)
	m.scan.checked = m.outCheck
	m.out = m.out[:0]
	m.frames = append(m.frames[:0], frame{})
	ok := m.emitObject(p.root, nil, "")
	m.outChecked = m.outCheck && ok && m.scan.checked
	m.recorded, m.payload, m.outCheck = false, nil, false
	if m.bail {
		m.bail, m.outChecked = false, false
		m.res.Failures = m.res.Failures[:0]
		return false
	}
	if !ok {
		m.out = append(m.out[:0], "{}"...)
	}
	return true
}

// checksAsWritten reports whether the output schema's checks can run on a
// record as it is written: they decide alone (the schema is covered), and
// the output nests no deeper than maxDepth (the scan refuses a record that
// does).
func (p *plan) checksAsWritten(maxDepth int) bool {
	return p.output != nil && p.output.covered && p.outDepth <= maxDepth
}

// finish checks the mapped record in m.out against the output schema and
// sets the result's output and outcome.
func (m *Mapper) finish(s *Source) {
	p, res := s.plan, m.res
	if p.output != nil && !rejecting(res.Failures) && !m.outChecked && !m.outputClean(s, p.output) {
		if outDoc, err := m.outParser.ParseBytes(m.out); err == nil {
			p.output.check.check(outDoc, &m.walk, m, true)
			if !p.output.covered {
				p.output.fullPass(&m.full, outDoc, m, true)
			}
		} else {
			m.fail(ReasonOutputInvalid, "", "the mapped record is not valid JSON: "+err.Error())
		}
	}
	res.Output = append(res.Output, m.out...)
	res.Outcome = OutcomeMapped
	for i := range res.Failures {
		f := &res.Failures[i]
		if f.severity() == OutcomeRejected {
			res.Outcome = OutcomeRejected
		} else if res.Outcome == OutcomeMapped {
			res.Outcome = OutcomeDegraded
		}
	}
	res.Failures = p.red.maskFailures(res.Failures)
}

func rejecting(fs []Failure) bool {
	for i := range fs {
		if fs[i].severity() == OutcomeRejected {
			return true
		}
	}
	return false
}

// MaxFailures is the most failures listed for one record (a payload with
// thousands of unknown fields must not yield thousands of headers). Past
// it, a rejecting failure takes the place of a degrading one, so that the
// outcome always matches the failures listed.
const MaxFailures = 100

// fail records a failure unless the same (reason, field) is already there,
// or, for rule failures, the input schema already failed that field.
func (m *Mapper) fail(reason Reason, field, detail string) {
	fs := m.res.Failures
	for i := range fs {
		if fs[i].Reason == reason && fs[i].Field == field {
			return
		}
	}
	if len(fs) >= MaxFailures {
		if !m.rejects(reason, field) {
			return
		}
		for i := len(fs) - 1; i >= 0; i-- {
			if fs[i].severity() != OutcomeRejected || !m.rejects(fs[i].Reason, fs[i].Field) {
				copy(fs[i:], fs[i+1:])
				fs = fs[:len(fs)-1]
				if i < m.schemaEnd {
					m.schemaEnd--
				}
				m.res.Failures = fs
				break
			}
		}
		if len(fs) >= MaxFailures {
			return
		}
	}
	// The input schema's failure wins over a rule's at or under the same
	// field, defaulted included: one failure per cause.
	if m.schemaEnd > 0 {
		for i := 0; i < m.schemaEnd; i++ {
			if fs[i].severity() == OutcomeRejected && under(field, fs[i].Field) {
				return
			}
		}
	}
	m.res.Failures = append(fs, Failure{Reason: reason, Field: field, Detail: detail})
}

// rejects reports whether a failure of reason at field will reject the
// record: while the input schema is checked, a failure at a field no rule
// reads only degrades it (unless the contract is strict), so at the
// failure cap it gives way as a degrading one does.
func (m *Mapper) rejects(reason Reason, field string) bool {
	if reason.Severity() != OutcomeRejected {
		return false
	}
	p := m.src.plan
	return !m.checkingInput || p.unread == unreadReject || p.reads(field)
}

// parse applies the payload guards and parses; on failure it returns nil
// and a detail. A payload the strict scan finds clean is parsed at once;
// any other takes the careful path, which runs each guard in turn.
func (m *Mapper) parse(s *Source, payload []byte) (*fastjson.Value, string) {
	clean := len(payload) <= s.opts.MaxPayloadBytes && m.scan.clean(payload, s.opts.MaxDepth)
	return m.parseScanned(s, payload, clean)
}

// parseScanned is parse for a payload the strict scan has read: clean is
// what it said.
func (m *Mapper) parseScanned(s *Source, payload []byte, clean bool) (*fastjson.Value, string) {
	if clean {
		if doc, err := m.parser.ParseBytes(payload); err == nil {
			return doc, ""
		}
	}
	return m.parseCareful(s, payload)
}

// outputClean reports whether the mapped record in m.out is known to pass
// the output schema without parsing it: the strict scan reads it once with
// the compiled checks, which decide alone when they cover the schema.
// False means "not known": the record is parsed and checked as before.
func (m *Mapper) outputClean(s *Source, out *schema) bool {
	if !out.covered {
		return false
	}
	_, checked := m.scan.cleanChecked(m.out, s.opts.MaxDepth, out.check)
	return checked
}

// parseCareful runs the payload guards one after another, each with its own
// detail.
func (m *Mapper) parseCareful(s *Source, payload []byte) (*fastjson.Value, string) {
	if len(payload) > s.opts.MaxPayloadBytes {
		return nil, "payload is " + strconv.Itoa(len(payload)) + " bytes, over the limit of " + strconv.Itoa(s.opts.MaxPayloadBytes)
	}
	if len(strings.TrimSpace(b2s(payload))) == 0 {
		return nil, "empty payload"
	}
	if !utf8.Valid(payload) {
		i := 0
		for i < len(payload) {
			r, size := utf8.DecodeRune(payload[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return nil, "invalid UTF-8 at byte " + strconv.Itoa(i)
	}
	if len(payload) > shallowPayloadBytes && nestedDeeper(payload, s.opts.MaxDepth) {
		// The validator below recurses once per level with no limit of its
		// own: refuse deep nesting before it sees the payload.
		return nil, "nested deeper than " + strconv.Itoa(s.opts.MaxDepth) + " levels"
	}
	if err := fastjson.ValidateBytes(payload); err != nil {
		return nil, jsonErrorDetail(err, len(payload))
	}
	doc, err := m.parser.ParseBytes(payload)
	if err != nil {
		return nil, jsonErrorDetail(err, len(payload))
	}
	if doc.Type() != fastjson.TypeObject {
		return nil, "payload is " + typeArticle(kindOf(doc)) + ", expected a JSON object"
	}
	if d := m.shape.check(doc, s.opts.MaxDepth); d != "" {
		return nil, d
	}
	return doc, ""
}

// shallowPayloadBytes is the payload size up to which nesting is not
// scanned before validation: a payload this small cannot nest deep enough
// for the validator's recursion to matter.
const shallowPayloadBytes = 16 << 10

// nestedDeeper reports whether the brackets of payload, outside strings,
// nest deeper than max levels. It stops at the first level past max and
// does not check that the brackets match: the validator does that.
func nestedDeeper(payload []byte, max int) bool {
	depth := 0
	inString := false
	for i := 0; i < len(payload); i++ {
		c := payload[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// jsonErrorDetail describes a parse error without quoting the payload.
func jsonErrorDetail(err error, n int) string {
	msg := err.Error()
	if strings.Contains(msg, "unexpected end") || strings.Contains(msg, "missing closing") ||
		strings.Contains(msg, "missing '") || strings.Contains(msg, "cannot find end") ||
		strings.Contains(msg, "cannot parse empty") {
		return "truncated JSON (" + strconv.Itoa(n) + " bytes)"
	}
	if strings.Contains(msg, "too big depth") {
		return "nested too deep"
	}
	if i := strings.Index(msg, "; unparsed tail"); i >= 0 {
		msg = msg[:i]
	}
	// Drop quoted snippets of the payload.
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '"' {
			if !inQuote {
				b.WriteString(`"…"`)
			}
			inQuote = !inQuote
			continue
		}
		if c == '\\' && inQuote {
			i++
			continue
		}
		if !inQuote {
			b.WriteByte(c)
		}
	}
	return "invalid JSON: " + strings.TrimPrefix(b.String(), "cannot parse JSON: ")
}

// shapeWalker checks nesting depth and duplicate keys. Its visit function
// is built once and reused, so that the walk allocates nothing.
type shapeWalker struct {
	maxDepth int
	depth    int
	detail   string
	keys     []string // keys of the objects being walked
	bases    []int    // where each object's keys start in keys
	seen     []map[string]struct{}
	visit    func(key []byte, v *fastjson.Value)
}

func (w *shapeWalker) check(doc *fastjson.Value, maxDepth int) string {
	if w.visit == nil {
		w.visit = w.visitProperty
	}
	w.maxDepth, w.depth, w.detail = maxDepth, 0, ""
	w.keys, w.bases, w.seen = w.keys[:0], w.bases[:0], w.seen[:0]
	w.value(doc)
	d := w.detail
	w.detail = ""
	clear(w.keys[:cap(w.keys)])
	return d
}

func (w *shapeWalker) value(v *fastjson.Value) {
	t := v.Type()
	if t != fastjson.TypeObject && t != fastjson.TypeArray {
		return
	}
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > w.maxDepth {
		w.detail = "nested deeper than " + strconv.Itoa(w.maxDepth) + " levels"
		return
	}
	if t == fastjson.TypeArray {
		a, _ := v.Array()
		for _, it := range a {
			if w.value(it); w.detail != "" {
				return
			}
		}
		return
	}
	o, _ := v.Object()
	var seen map[string]struct{}
	if o.Len() > 32 {
		seen = make(map[string]struct{}, o.Len())
	}
	w.bases = append(w.bases, len(w.keys))
	w.seen = append(w.seen, seen)
	o.Visit(w.visit)
	w.keys = w.keys[:w.bases[len(w.bases)-1]]
	w.bases = w.bases[:len(w.bases)-1]
	w.seen = w.seen[:len(w.seen)-1]
}

func (w *shapeWalker) visitProperty(k []byte, fv *fastjson.Value) {
	if w.detail != "" {
		return
	}
	key := b2s(k)
	if seen := w.seen[len(w.seen)-1]; seen != nil {
		if _, dup := seen[key]; dup {
			w.detail = "duplicate key " + quoteShort(key)
			return
		}
		seen[key] = struct{}{}
	} else {
		for _, s := range w.keys[w.bases[len(w.bases)-1]:] {
			if s == key {
				w.detail = "duplicate key " + quoteShort(key)
				return
			}
		}
		w.keys = append(w.keys, key)
	}
	w.value(fv)
}

// appendValue serialises a parsed value as compact JSON.
func appendValue(dst []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		i := 0
		o.Visit(func(k []byte, fv *fastjson.Value) {
			if i > 0 {
				dst = append(dst, ',')
			}
			i++
			dst = appendJSONString(dst, b2s(k))
			dst = append(dst, ':')
			dst = appendValue(dst, fv)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		dst = append(dst, '[')
		for i, it := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, it)
		}
		return append(dst, ']')
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return appendJSONString(dst, b2s(b))
	default:
		return v.MarshalTo(dst)
	}
}

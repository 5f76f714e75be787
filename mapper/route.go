package mapper

import (
	"errors"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/valyala/fastjson"
)

// predicate is one condition of a source's accept list: on a record header
// ({header: NAME, in: [...]}) or on a payload path ({path: P, present:
// true|false} or {path: P, in: [...]}).
type predicate struct {
	// combine, when not predLeaf, makes this predicate all, any or not of
	// kids; the other fields are then unused but text.
	combine predCombine
	kids    []predicate
	header  string  // header name, matched without regard to case; "" for a path predicate
	path    srcPath // the payload path of a path predicate
	pos     [2]int  // line and column of the path in the rule file, for the static checks
	// present: the path must hold a non-null value (or, when false, must
	// not); only when hasPresent.
	present, hasPresent bool
	// in: the header's value must be one of these strings; for a path,
	// inLit holds the JSON literals the value must equal one of.
	in    []string
	inLit [][]byte
	text  string // the predicate as written, for details and listings
}

// predCombine says how a predicate combines its kids.
type predCombine uint8

const (
	predLeaf predCombine = iota
	predAll
	predAny
	predNot
)

var errEmptyPath = errors.New("the path is empty")

var acceptKeys = []string{"header", "path", "in", "present", "absent", "all", "any", "not"}

// accept reads the accept list of a rule file.
func (l *ruleLoader) accept(n ast.Node) []predicate {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		l.errAt(n, "accept: expected a list of predicates ({header: NAME, in: [...]}, {path: P, present: true}, {path: P, in: [...]}), got %s", describeNode(n))
		return nil
	}
	if len(seq.Values) == 0 {
		l.errAt(n, "accept: the list is empty")
	}
	var ps []predicate
	for _, it := range seq.Values {
		if p, ok := l.predicate(unwrap(it)); ok {
			ps = append(ps, p)
		}
	}
	return ps
}

func (l *ruleLoader) predicate(n ast.Node) (predicate, bool) {
	return l.predicateAt(n, 0)
}

// combined reads {all: [...]}, {any: [...]} or {not: P} of accept.
func (l *ruleLoader) combined(m *ast.MappingNode, depth int) (predicate, bool) {
	kv := m.Values[0]
	k, v := l.key(kv), unwrap(kv.Value)
	p := predicate{combine: predNot}
	if k == "not" {
		kid, ok := l.predicateAt(v, depth+1)
		p.kids = []predicate{kid}
		p.text = "not (" + kid.text + ")"
		return p, ok
	}
	p.combine = predAll
	if k == "any" {
		p.combine = predAny
	}
	seq, ok := v.(*ast.SequenceNode)
	if !ok || len(seq.Values) == 0 {
		l.errAt(v, "accept.%s: expected a non-empty list of predicates, got %s", k, describeNode(v))
		return p, false
	}
	good := true
	texts := make([]string, 0, len(seq.Values))
	for _, it := range seq.Values {
		kid, ok := l.predicateAt(unwrap(it), depth+1)
		good = good && ok
		p.kids = append(p.kids, kid)
		texts = append(texts, kid.text)
	}
	p.text = k + " of (" + strings.Join(texts, "; ") + ")"
	return p, good
}

func (l *ruleLoader) predicateAt(n ast.Node, depth int) (predicate, bool) {
	var p predicate
	m, ok := l.mapping(n, "accept")
	if !ok {
		return p, false
	}
	if depth > l.opts.MaxRuleNesting {
		l.errAt(n, "accept: predicates nested deeper than %d levels", l.opts.MaxRuleNesting)
		return p, false
	}
	if len(m.Values) == 1 {
		switch l.key(m.Values[0]) {
		case "all", "any", "not":
			return l.combined(m, depth)
		}
	}
	good := true
	var hasHeader, hasPath, hasIn bool
	var inNode ast.Node
	for _, kv := range m.Values {
		v := unwrap(kv.Value)
		switch k := l.key(kv); k {
		case "header":
			hasHeader = true
			var ok bool
			p.header, ok = l.str(v, "accept.header")
			if ok && p.header == "" {
				l.errAt(v, "accept.header: the name is empty")
			}
			good = good && ok && p.header != ""
		case "path":
			hasPath = true
			s, ok := l.str(v, "accept.path")
			if !ok {
				good = false
				break
			}
			sp, err := l.path(s)
			if err == nil && len(sp.segs) == 0 {
				err = errEmptyPath
			}
			if err != nil {
				l.errAt(v, "accept.path: %v", err)
				good = false
				break
			}
			p.path, p.pos = sp, nodePos(v)
		case "in":
			hasIn, inNode = true, v
		case "present", "absent":
			if p.hasPresent {
				l.errAt(kv.Key, "accept: give present or absent, not both")
				good = false
			}
			p.hasPresent = true
			l.boolean(v, "accept."+k, &p.present)
			if k == "absent" {
				p.present = !p.present
			}
		case "all", "any", "not":
			l.errAt(kv.Key, "accept: %s combines predicates and stands alone ({%s: ...})", k, k)
			good = false
		default:
			l.errAt(kv.Key, "unknown key %q in accept%s", k, didYouMean(k, acceptKeys))
			good = false
		}
	}
	if !good {
		return p, false
	}
	switch {
	case hasHeader == hasPath:
		l.errAt(n, "accept: a predicate names exactly one header or one path")
		return p, false
	case hasHeader && (!hasIn || p.hasPresent):
		l.errAt(n, "accept: a header predicate is {header: NAME, in: [values]}")
		return p, false
	case hasPath && hasIn == p.hasPresent:
		l.errAt(n, "accept: a path predicate has either in: [values] or present: true|false (absent: true)")
		return p, false
	}
	if hasIn {
		seq, ok := inNode.(*ast.SequenceNode)
		if !ok || len(seq.Values) == 0 {
			l.errAt(inNode, "accept.in: expected a non-empty list of values, got %s", describeNode(inNode))
			return p, false
		}
		for _, it := range seq.Values {
			it = unwrap(it)
			if hasHeader {
				s, ok := l.str(it, "accept.in")
				if !ok {
					return p, false
				}
				p.in = append(p.in, s)
				continue
			}
			switch it.(type) {
			case *ast.SequenceNode, *ast.MappingNode, *ast.MappingValueNode:
				l.errAt(it, "accept.in: expected a string, number or boolean, got %s", describeNode(it))
				return p, false
			}
			if _, null := it.(*ast.NullNode); null {
				l.errAt(it, "accept.in: null never matches (a null value counts as absent): use present: false")
				return p, false
			}
			lit, err := yamlToJSON(it)
			if err != nil {
				l.errAt(it, "accept.in: %v", err)
				return p, false
			}
			p.inLit = append(p.inLit, lit)
			p.in = append(p.in, string(lit))
		}
	}
	switch {
	case hasHeader:
		p.text = "header " + p.header + " in [" + strings.Join(p.in, ", ") + "]"
	case p.hasPresent && p.present:
		p.text = "path " + p.path.raw + " present"
	case p.hasPresent:
		p.text = "path " + p.path.raw + " absent"
	default:
		p.text = "path " + p.path.raw + " in [" + strings.Join(p.in, ", ") + "]"
	}
	return p, true
}

// headerValue returns the value of the first header named key (without
// regard to case).
func headerValue(headers []Header, key string) ([]byte, bool) {
	for i := range headers {
		if strings.EqualFold(headers[i].Key, key) {
			return headers[i].Value, true
		}
	}
	return nil, false
}

// holds checks one predicate; doc is the parsed payload (nil when it is
// not a JSON object). When it fails, it says why, quoting no payload value.
func (p *predicate) holds(headers []Header, doc *fastjson.Value) (bool, string) {
	switch p.combine {
	case predAll:
		for i := range p.kids {
			if ok, why := p.kids[i].holds(headers, doc); !ok {
				return false, why
			}
		}
		return true, ""
	case predAny:
		whys := make([]string, 0, len(p.kids))
		for i := range p.kids {
			ok, why := p.kids[i].holds(headers, doc)
			if ok {
				return true, ""
			}
			whys = append(whys, why)
		}
		return false, "none of " + p.text + " holds: " + strings.Join(whys, "; ")
	case predNot:
		if ok, _ := p.kids[0].holds(headers, doc); ok {
			return false, p.kids[0].text + " holds, want " + p.text
		}
		return true, ""
	}
	if p.header != "" {
		v, ok := headerValue(headers, p.header)
		if !ok {
			return false, "header " + p.header + " is absent, want one of " + strings.Join(p.in, ", ")
		}
		for _, want := range p.in {
			if string(v) == want {
				return true, ""
			}
		}
		return false, "header " + p.header + " is " + quoteShort(string(v)) + ", want one of " + strings.Join(p.in, ", ")
	}
	if doc == nil {
		return false, "the payload is not a JSON object within the size limit, so path " + p.path.raw + " cannot be read"
	}
	v, _, _ := lookup(doc, p.path)
	present := v != nil && v.Type() != fastjson.TypeNull
	if p.hasPresent {
		if present == p.present {
			return true, ""
		}
		if p.present {
			return false, "path " + p.path.raw + " is absent or null, want present"
		}
		return false, "path " + p.path.raw + " is present, want absent"
	}
	if present {
		var buf [64]byte
		lit := appendValue(buf[:0], v)
		for _, want := range p.inLit {
			if string(lit) == string(want) {
				return true, ""
			}
		}
		return false, "path " + p.path.raw + " holds a value that is not one of " + strings.Join(p.in, ", ")
	}
	return false, "path " + p.path.raw + " is absent or null, want one of " + strings.Join(p.in, ", ")
}

// needsPayload reports whether some accept predicate reads the payload.
func (s *Source) needsPayload() bool {
	for i := range s.accept {
		if s.accept[i].readsPayload() {
			return true
		}
	}
	return false
}

func (p *predicate) readsPayload() bool {
	if p.combine == predLeaf {
		return p.header == ""
	}
	for i := range p.kids {
		if p.kids[i].readsPayload() {
			return true
		}
	}
	return false
}

// leaves calls fn for every header or path predicate under p.
func (p *predicate) leaves(fn func(*predicate)) {
	if p.combine == predLeaf {
		fn(p)
		return
	}
	for i := range p.kids {
		p.kids[i].leaves(fn)
	}
}

// Accept is the source's accept list as written ("header X-GitHub-Event in
// [issues, pull_request]"); empty when the source takes every record of its
// topics.
func (s *Source) Accept() []string {
	out := make([]string, len(s.accept))
	for i := range s.accept {
		out[i] = s.accept[i].text
	}
	return out
}

// Accepts reports whether every accept predicate of s holds for the record;
// when one does not, why names it (never quoting a payload value). A
// source with no predicates accepts every record. It is safe for
// concurrent use.
func (s *Source) Accepts(headers []Header, payload []byte) (ok bool, why string) {
	if len(s.accept) == 0 {
		return true, ""
	}
	var p fastjson.Parser
	ok, why, _ = s.accepts(headers, payload, &p)
	return ok, why
}

// accepts checks the accept list; malformed (with why its detail) says
// the predicates read the payload and it is not a JSON object within the
// size limit.
func (s *Source) accepts(headers []Header, payload []byte, parser *fastjson.Parser) (ok bool, why string, malformed bool) {
	var doc *fastjson.Value
	if s.needsPayload() {
		var detail string
		if doc, detail = parseForRoute(payload, s.opts.MaxPayloadBytes, parser); doc == nil {
			return false, detail, true
		}
	}
	for i := range s.accept {
		if ok, why := s.accept[i].holds(headers, doc); !ok {
			return false, why, false
		}
	}
	return true, "", false
}

// parseForRoute parses a payload that accept predicates read; when it is
// not a JSON object within max bytes, it returns nil and the detail of
// the malformed_payload failure. fastjson bounds the nesting depth itself;
// a payload over the size limit is not parsed at all.
func parseForRoute(payload []byte, max int, parser *fastjson.Parser) (*fastjson.Value, string) {
	if len(payload) > max {
		return nil, "payload is " + strconv.Itoa(len(payload)) + " bytes, over the limit of " + strconv.Itoa(max)
	}
	if len(strings.TrimSpace(b2s(payload))) == 0 {
		return nil, "empty payload"
	}
	v, err := parser.ParseBytes(payload)
	if err != nil {
		return nil, jsonErrorDetail(err, len(payload))
	}
	if v.Type() != fastjson.TypeObject {
		return nil, "payload is " + typeArticle(kindOf(v)) + ", expected a JSON object"
	}
	return v, ""
}

// Malformed is the malformed_payload result with detail: a record the
// engine cannot read, before any source maps it.
func Malformed(detail string) Result {
	return Result{
		Outcome:  OutcomeRejected,
		Output:   []byte("null"),
		Failures: []Failure{{Reason: ReasonMalformedPayload, Detail: detail}},
	}
}

// Route picks the one source that maps a record of topic: the source that
// claims the topic and whose accept predicates all hold (at most one can,
// as Load refuses sources on one topic whose predicates can both hold).
// When none does, the source is nil and the result is unknown_source, its
// detail naming every source tried and the predicate that failed; when a
// predicate needs the payload and it is not a JSON object (within the size
// limit), the source is nil and the result malformed_payload. It is safe
// for concurrent use; a source without predicates costs no parse.
func (e *Engine) Route(topic string, headers []Header, payload []byte) (*Source, Result) {
	var res Result
	src := e.RouteInto(topic, headers, payload, &res)
	return src, res
}

// RouteInto is Route that writes the result of a record no source maps
// into unknown (leaving it as it is when a source maps the record) rather
// than returning it: a caller routing record after record copies no
// Result.
func (e *Engine) RouteInto(topic string, headers []Header, payload []byte, unknown *Result) *Source {
	cands := e.byTopic[topic]
	if len(cands) == 1 && len(cands[0].accept) == 0 {
		return cands[0]
	}
	if len(cands) == 0 {
		*unknown = UnknownSource(topic)
		return nil
	}
	src, res := e.routeAmong(cands, topic, headers, payload)
	if src == nil {
		*unknown = res
	}
	return src
}

// routeAmong is Route among several candidates, or one with accept rules.
// It is apart from Route so that the common case, one source for the
// topic, runs no deferred call.
func (e *Engine) routeAmong(cands []*Source, topic string, headers []Header, payload []byte) (*Source, Result) {
	var parser *fastjson.Parser
	var whys []string
	for _, s := range cands {
		if s.needsPayload() && parser == nil {
			parser = e.parsers.Get()
			defer e.parsers.Put(parser)
		}
		ok, why, malformed := s.accepts(headers, payload, parser)
		if ok {
			return s, Result{}
		}
		if malformed {
			return nil, Malformed(why)
		}
		whys = append(whys, s.name+": "+why)
	}
	return nil, notAccepted(topic, whys)
}

// notAccepted is the unknown_source result for a record that no source of
// its topic accepts.
func notAccepted(topic string, whys []string) Result {
	return Result{
		Outcome: OutcomeRejected,
		Output:  []byte("null"),
		Failures: []Failure{{Reason: ReasonUnknownSource,
			Detail: "no source accepts the record on topic " + quote(topic) + ": " + strings.Join(whys, "; ")}},
	}
}

// NotAccepted is the unknown_source result for a record that source s,
// named explicitly (mapper map --source), does not accept; why is what
// Accepts said.
func NotAccepted(s *Source, why string) Result {
	return Result{
		Outcome:  OutcomeRejected,
		Output:   []byte("null"),
		Failures: []Failure{{Reason: ReasonUnknownSource, Detail: "source " + s.name + " does not accept the record: " + why}},
	}
}

// MapRecord maps a record with s when s accepts it (see Source.Accepts),
// and gives unknown_source otherwise. Like Map, it reuses res.
func (m *Mapper) MapRecord(s *Source, headers []Header, payload []byte, res *Result) {
	if len(s.accept) > 0 {
		if ok, why, malformed := s.accepts(headers, payload, &m.parser); !ok && !malformed {
			*res = NotAccepted(s, why)
			return
		}
	}
	m.Map(s, payload, res)
}

// exclusive reports whether the predicates a and b can never both hold
// for one record: some header or path is given disjoint values, or is
// required present by one and absent by the other.
func exclusive(a, b []predicate) bool {
	for i := range a {
		for j := range b {
			if a[i].excludes(&b[j]) {
				return true
			}
		}
	}
	return false
}

func (p *predicate) excludes(q *predicate) bool {
	if n, ok := p.negatedPresence(); ok {
		return n.excludes(q)
	}
	if n, ok := q.negatedPresence(); ok {
		return p.excludes(&n)
	}
	switch {
	case p.combine == predAll:
		return exclusive(p.kids, []predicate{*q})
	case q.combine == predAll:
		return exclusive([]predicate{*p}, q.kids)
	case p.combine != predLeaf || q.combine != predLeaf:
		return false // not proved
	}
	if p.header != "" || q.header != "" {
		return p.header != "" && q.header != "" && strings.EqualFold(p.header, q.header) && !overlap(p.in, q.in)
	}
	if p.path.raw != q.path.raw {
		return false
	}
	switch {
	case p.hasPresent && q.hasPresent:
		return p.present != q.present
	case p.hasPresent:
		return !p.present // absent, against one of some non-null values
	case q.hasPresent:
		return !q.present
	}
	return !overlap(p.in, q.in)
}

// negatedPresence is {not: {path: P, present: X}} as {path: P, present: !X}.
func (p *predicate) negatedPresence() (predicate, bool) {
	if p.combine != predNot || p.kids[0].combine != predLeaf || !p.kids[0].hasPresent {
		return predicate{}, false
	}
	n := p.kids[0]
	n.present = !n.present
	return n, true
}

func overlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

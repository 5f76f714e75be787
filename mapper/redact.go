package mapper

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// Redaction is the engine's one notion of "this field is redacted", and
// the only code that masks: samples, alerts, replay, logs and the status
// page call the Source methods below and keep no copy of the rule.
//
// What is redacted: the value at each normalised path of the rule file's
// `redact:` list ("customer.email", "items[].sku"), and everything inside
// it. Masking is shape-safe: when a value on the way to a redacted path is
// not what the path expects (a string, number or boolean where an object
// or array was expected, an array where an object was, an object where an
// array was), the whole value there is masked, so no byte of a drifted
// shape can leak. A payload that is not JSON has every value masked.
//
// What the mask keeps: in strings, letters become x (X if upper case),
// digits 0, other non-ASCII characters *, and ASCII punctuation and
// spaces stay, so a masked e-mail still looks like one and a format
// problem stays visible (the string's length survives); numbers become 0
// (neither magnitude nor length survives), booleans false, null stays
// null; arrays keep their length; object keys inside a masked value are
// kept when the rules or the input schema name them (field names, not
// data) and masked like strings otherwise.

// Redact returns a copy of payload with every value at the source's redact
// paths masked (see the rules above). It never returns the unmasked bytes
// of a redacted value, whatever shape the payload takes. It is safe for
// concurrent use; it runs per kept sample or alert, not per record.
func (s *Source) Redact(payload []byte) []byte {
	return s.plan.red.appendPayload(make([]byte, 0, len(payload)), payload, false)
}

// RedactOutput returns a copy of a mapped record (the Output of a Result
// of this source) with every field whose value is read from, or holds, a
// redacted payload path masked the same way.
func (s *Source) RedactOutput(output []byte) []byte {
	return s.plan.red.appendPayload(make([]byte, 0, len(output)), output, true)
}

// IsRedacted reports whether field, a normalised payload path, is at or
// inside one of the source's redact paths.
func (s *Source) IsRedacted(field string) bool {
	return s.plan.red != nil && underAny(field, s.plan.red.paths)
}

// SafeDetail returns f's detail, or a value-free one when f's field is at,
// inside or above a redacted path (for output_invalid: an output field
// read from one), since a detail may quote the value. In a detail about
// the whole payload (no field) quoted text is masked. Applying it twice
// changes nothing.
func (s *Source) SafeDetail(f Failure) string { return s.plan.red.safeDetail(f) }

// SafeField returns f's field, or the redacted path it lies inside when
// the rest of it names a key that neither the rules nor the input schema
// know: such a key is part of a redacted value (an e-mail used as a key),
// and a field is a metric tag, a sample folder and a Sentry fingerprint.
func (s *Source) SafeField(f Failure) string { return s.plan.red.safeField(f) }

// RedactFailures returns failures with each field replaced by SafeField
// and each detail by SafeDetail. failures itself is not changed; it is
// returned as is when nothing needs masking. Results of Map are already
// masked: use it for failures read from elsewhere (dead-letter headers,
// sample files).
func (s *Source) RedactFailures(failures []Failure) []Failure {
	var out []Failure
	for i := range failures {
		f := failures[i]
		f.Field = s.plan.red.safeField(f)
		f.Detail = s.plan.red.safeDetail(f)
		if f == failures[i] {
			continue
		}
		if out == nil {
			out = append([]Failure(nil), failures...)
		}
		out[i] = f
	}
	if out == nil {
		return failures
	}
	return out
}

// RedactPaths are the source's redact paths, normalised.
func (s *Source) RedactPaths() []string {
	if s.plan.red == nil {
		return nil
	}
	return s.plan.red.paths
}

// redaction is a source's compiled redact rule. A nil *redaction redacts
// nothing. It is immutable after load, apart from its parser pool.
type redaction struct {
	paths    []string // normalised payload paths
	outPaths []string // normalised output paths read from a redacted path
	in, out  *redactNode
	// known are the field names the rules and the input schema use: kept
	// as keys inside masked values and unparseable payloads.
	known   map[string]struct{}
	parsers fastjson.ParserPool
	// withheld is the value-free detail of each reason, made once so that
	// masking a detail on the hot path allocates nothing.
	withheld map[Reason]string
}

// redactNode is one step of a redaction tree. A masked node masks the
// whole value; otherwise the node expects an object (keys) and/or an
// array (elem), and masks a value of any other shape.
type redactNode struct {
	masked bool
	keys   []redactKey
	elem   *redactNode
}

type redactKey struct {
	name string
	node *redactNode
}

func (n *redactNode) key(name string) *redactNode {
	for i := range n.keys {
		if n.keys[i].name == name {
			return n.keys[i].node
		}
	}
	return nil
}

// add grows the tree rooted at n by one path.
func (n *redactNode) add(steps []pathStep) {
	for _, st := range steps {
		if n.masked {
			return // a redacted ancestor covers the path
		}
		var next *redactNode
		if st.elem {
			if n.elem == nil {
				n.elem = &redactNode{}
			}
			next = n.elem
		} else {
			if next = n.key(st.key); next == nil {
				next = &redactNode{}
				n.keys = append(n.keys, redactKey{st.key, next})
			}
		}
		n = next
	}
	n.masked, n.keys, n.elem = true, nil, nil
}

// step follows an object key from n. A key that is itself a dotted path
// ("customer.email") is followed segment by segment, so that a key that
// looks like a redacted path is masked too. Nil means nothing below is
// redacted.
func (n *redactNode) step(key string) *redactNode {
	if !strings.ContainsAny(key, ".[") {
		return n.key(key)
	}
	if next := n.key(key); next != nil {
		return next
	}
	steps, err := parseFieldPath(key)
	if err != nil {
		return nil
	}
	for _, st := range steps {
		if n.masked {
			return n
		}
		if st.elem {
			n = n.elem
		} else {
			n = n.key(st.key)
		}
		if n == nil {
			return nil
		}
	}
	return n
}

// appendPayload appends doc (a payload, or with output an Output) redacted.
func (r *redaction) appendPayload(dst, doc []byte, output bool) []byte {
	if r == nil {
		return append(dst, doc...)
	}
	root := r.in
	if output {
		root = r.out
	}
	if root == nil || !root.masked && len(root.keys) == 0 && root.elem == nil {
		// No path to mask (rules that read no redacted path leave an
		// empty output tree): the document as it is.
		return append(dst, doc...)
	}
	// No fastjson.ValidateBytes: it has no depth limit, while the parser
	// stops at its own (and re-serialising what it accepts gives valid
	// JSON).
	if !utf8.Valid(doc) {
		return r.appendUnparsed(dst, doc)
	}
	p := r.parsers.Get()
	defer r.parsers.Put(p)
	v, err := p.ParseBytes(doc)
	if err != nil {
		return r.appendUnparsed(dst, doc)
	}
	return r.appendTree(dst, v, root)
}

// appendTree appends v redacted by n.
func (r *redaction) appendTree(dst []byte, v *fastjson.Value, n *redactNode) []byte {
	if n == nil {
		return appendValue(dst, v)
	}
	if n.masked {
		return r.appendMasked(dst, v)
	}
	switch v.Type() {
	case fastjson.TypeObject:
		if len(n.keys) == 0 {
			return r.appendMasked(dst, v) // an object where an array was expected
		}
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
			dst = r.appendTree(dst, fv, n.step(b2s(k)))
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		if n.elem == nil {
			return r.appendMasked(dst, v) // an array where an object was expected
		}
		return r.appendElems(dst, v, n.elem)
	case fastjson.TypeNull:
		return append(dst, "null"...)
	}
	return r.appendMasked(dst, v) // a scalar where an object or array was expected
}

// appendElems appends the array v with each element redacted by n.
func (r *redaction) appendElems(dst []byte, v *fastjson.Value, n *redactNode) []byte {
	a, _ := v.Array()
	dst = append(dst, '[')
	for i, it := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = r.appendTree(dst, it, n)
	}
	return append(dst, ']')
}

// appendMasked appends v with every value masked.
func (r *redaction) appendMasked(dst []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		var small [16][2]int
		keys := small[:0]
		var seen map[string]struct{} // for objects with many keys
		o.Visit(func(k []byte, fv *fastjson.Value) {
			if len(keys) > 0 || seen != nil {
				dst = append(dst, ',')
			}
			start := len(dst)
			if r.knows(b2s(k)) {
				dst = appendJSONString(dst, b2s(k))
			} else {
				dst = appendMaskedString(dst, b2s(k))
			}
			// Masking can make two keys equal: keep them apart.
			base := len(dst) - 1 // before the closing quote
			for n := 2; keyTaken(dst, start, keys, seen); n++ {
				dst = append(dst[:base], '~')
				dst = strconv.AppendInt(dst, int64(n), 10)
				dst = append(dst, '"')
			}
			switch {
			case seen != nil:
				seen[string(dst[start:])] = struct{}{}
			case len(keys) == 64:
				seen = make(map[string]struct{}, 2*len(keys))
				for _, kr := range keys {
					seen[string(dst[kr[0]:kr[1]])] = struct{}{}
				}
				seen[string(dst[start:])] = struct{}{}
			default:
				keys = append(keys, [2]int{start, len(dst)})
			}
			dst = append(dst, ':')
			dst = r.appendMasked(dst, fv)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		return r.appendElems(dst, v, &redactNode{masked: true})
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return appendMaskedString(dst, b2s(b))
	case fastjson.TypeNumber:
		return append(dst, '0')
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return append(dst, "false"...)
	}
	return append(dst, "null"...)
}

// keyTaken reports whether the key literal dst[start:] was already written
// (at one of the ranges in keys, or in seen).
func keyTaken(dst []byte, start int, keys [][2]int, seen map[string]struct{}) bool {
	k := dst[start:]
	if seen != nil {
		_, ok := seen[b2s(k)]
		return ok
	}
	for _, kr := range keys {
		if string(dst[kr[0]:kr[1]]) == string(k) {
			return true
		}
	}
	return false
}

func (r *redaction) knows(name string) bool {
	_, ok := r.known[name]
	return ok
}

// appendMaskedString appends s as a JSON string literal with every
// character masked.
func appendMaskedString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for _, c := range s {
		dst = appendMaskedRune(dst, c)
	}
	return append(dst, '"')
}

// appendMaskedRune appends the mask of one character, escaped for a JSON
// string: letters x or X, digits 0, ASCII punctuation and spaces as they
// are, anything else * (invalid UTF-8 ?).
func appendMaskedRune(dst []byte, c rune) []byte {
	if c < utf8.RuneSelf {
		b := byte(c)
		switch {
		case 'a' <= b && b <= 'z':
			return append(dst, 'x')
		case 'A' <= b && b <= 'Z':
			return append(dst, 'X')
		case '0' <= b && b <= '9':
			return append(dst, '0')
		case b == '"' || b == '\\':
			return append(dst, '\\', b)
		case b == '\n':
			return append(dst, '\\', 'n')
		case b == '\t':
			return append(dst, '\\', 't')
		case b < 0x20 || b == 0x7f:
			return append(dst, ' ')
		}
		return append(dst, b)
	}
	switch {
	case c == utf8.RuneError:
		return append(dst, '?')
	case unicode.IsUpper(c):
		return append(dst, 'X')
	case unicode.IsLetter(c):
		return append(dst, 'x')
	case unicode.IsDigit(c):
		return append(dst, '0')
	}
	return append(dst, '*')
}

// appendUnparsed masks text that is not valid JSON (or not UTF-8): every
// string but the keys the rules know, every digit and every bare word;
// punctuation stays, so the place where the text breaks stays visible.
func (r *redaction) appendUnparsed(dst, doc []byte) []byte {
	i := 0
	for i < len(doc) {
		c := doc[i]
		if c != '"' {
			switch {
			case c >= '0' && c <= '9':
				dst = append(dst, '0')
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf:
				dst = append(dst, 'x')
			case c < 0x20 && c != '\n' && c != '\t' && c != '\r' || c == 0x7f:
				dst = append(dst, ' ')
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		// Find the end of the string (or of the input).
		j := i + 1
		for j < len(doc) && doc[j] != '"' {
			if doc[j] == '\\' {
				j++
			}
			j++
		}
		body := doc[i+1 : min(j, len(doc))]
		// A key is followed by a colon; it is kept only when the rules
		// know it, since a broken payload can put a value where a key goes.
		k := j + 1
		for k < len(doc) && (doc[k] == ' ' || doc[k] == '\t' || doc[k] == '\n' || doc[k] == '\r') {
			k++
		}
		if j < len(doc) && k < len(doc) && doc[k] == ':' && r.knows(b2s(body)) {
			dst = append(dst, '"')
			dst = append(dst, body...)
		} else {
			masked := appendMaskedString(dst, b2s(body))
			dst = masked[:len(masked)-1] // the closing quote is the input's
		}
		if j < len(doc) {
			dst = append(dst, '"')
		}
		i = j + 1
	}
	return dst
}

// safeDetail is Source.SafeDetail.
func (r *redaction) safeDetail(f Failure) string {
	if r == nil || r.in == nil {
		return f.Detail
	}
	if f.Field == "" {
		return maskQuoted(f.Detail)
	}
	paths := r.paths
	if f.Reason == ReasonOutputInvalid {
		paths = r.outPaths
	}
	if underAny(f.Field, paths) || anyUnder(paths, f.Field) {
		if d, ok := r.withheld[f.Reason]; ok {
			return d
		}
		return withheldDetail(f.Reason)
	}
	return f.Detail
}

// safeField is Source.SafeField. Output fields are the rules' own.
func (r *redaction) safeField(f Failure) string {
	if r == nil || r.in == nil || f.Field == "" || f.Reason == ReasonOutputInvalid {
		return f.Field
	}
	for _, p := range r.paths {
		if len(f.Field) > len(p) && under(f.Field, p) && !r.knowsAll(f.Field[len(p):]) {
			return p
		}
	}
	return f.Field
}

// knowsAll reports whether every key of rest (the tail of a field path:
// ".a[].b") is a name the rules or the input schema use.
func (r *redaction) knowsAll(rest string) bool {
	for rest != "" {
		var seg string
		seg, rest, _ = strings.Cut(rest, ".")
		for strings.HasSuffix(seg, "[]") {
			seg = seg[:len(seg)-2]
		}
		if seg != "" && !r.knows(seg) {
			return false
		}
	}
	return true
}

// maskFailures applies safeField and safeDetail to failures in place, and
// drops a failure whose (reason, field) an earlier one already has once
// its field is masked.
func (r *redaction) maskFailures(failures []Failure) []Failure {
	if r == nil || r.in == nil {
		return failures
	}
	collapsed := false
	for i := range failures {
		f := &failures[i]
		if field := r.safeField(*f); field != f.Field {
			f.Field, collapsed = field, true
		}
		f.Detail = r.safeDetail(*f)
	}
	if !collapsed {
		return failures
	}
	out := failures[:0]
	for _, f := range failures {
		dup := false
		for _, g := range out {
			if g.Reason == f.Reason && g.Field == f.Field {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, f)
		}
	}
	return out
}

// withheldDetail is the detail of a failure at, in or above a redacted
// path: it names the reason, never the value.
func withheldDetail(r Reason) string {
	return "detail withheld: the value is, or holds, a redacted field (" + string(r) + ")"
}

// maskQuoted masks the text between double quotes in a detail.
func maskQuoted(detail string) string {
	i := strings.IndexByte(detail, '"')
	if i < 0 {
		return detail
	}
	out := make([]byte, 0, len(detail))
	out = append(out, detail[:i]...)
	in := false
	for j := i; j < len(detail); {
		c, size := utf8.DecodeRuneInString(detail[j:])
		j += size
		switch {
		case c == '"':
			in = !in
			out = append(out, '"')
		case c == '\\' && in && j < len(detail):
			// An escape: mask what it escapes too.
			out = append(out, '\\')
			c, size = utf8.DecodeRuneInString(detail[j:])
			j += size
			out = appendMaskedPlain(out, c)
		case in:
			out = appendMaskedPlain(out, c)
		default:
			out = utf8.AppendRune(out, c)
		}
	}
	return string(out)
}

// appendMaskedPlain masks one character for plain text (no JSON escaping).
func appendMaskedPlain(dst []byte, c rune) []byte {
	if c < utf8.RuneSelf && (c == '"' || c == '\\' || c < 0x20) {
		return append(dst, '?')
	}
	return appendMaskedRune(dst, c)
}

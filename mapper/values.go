package mapper

import (
	"strings"

	"github.com/valyala/fastjson"
)

// ValueScanner finds the values a failure names in its payload, for the
// profiles of failing values. The zero value is ready to use; it reuses
// its buffers between calls, so a ValueScanner is not safe for concurrent
// use: keep one per goroutine (or under a lock).
type ValueScanner struct {
	p   fastjson.Parser
	buf []byte
	doc *fastjson.Value
	src *Source
}

// ContainerObject and ContainerArray stand for an object or an array
// value in what Scan reports: their content is never reported.
const (
	ContainerObject = "{…}"
	ContainerArray  = "[…]"
)

// Scan is Parse then Values: it calls fn with the compact JSON text of
// every value at field (a normalised path: "status", "customer.email",
// "items[].sku", "tags[]") of payload, at most max values (each element of
// an array counts), and returns how many it reported. Strings are reported
// quoted ("\"on-hold\""), numbers, booleans and null as written, objects
// and arrays as ContainerObject and ContainerArray. The text is valid only
// during the call.
//
// Nothing is reported when field is at or under one of the source's redact
// paths (and only containers when a redact path lies under field), when
// the payload is not JSON or over the source's size limit, or when the
// field is absent. It does not allocate once its buffers have grown.
func (vs *ValueScanner) Scan(s *Source, payload []byte, field string, max int, fn func(text []byte)) int {
	if !vs.Parse(s, payload) {
		return 0
	}
	return vs.Values(field, max, fn)
}

// Parse reads payload for the Values calls that follow (one parse for all
// the failures of a record); false when it is not JSON or over the
// source's size limit, and then Values reports nothing. The payload must
// not change until the next Parse.
func (vs *ValueScanner) Parse(s *Source, payload []byte) bool {
	vs.doc = nil
	if s == nil || len(payload) > s.opts.MaxPayloadBytes {
		return false
	}
	doc, err := vs.p.ParseBytes(payload)
	if err != nil {
		return false
	}
	vs.doc, vs.src = doc, s
	return true
}

// Values reports the values at field of the payload last parsed, as Scan
// does.
func (vs *ValueScanner) Values(field string, max int, fn func(text []byte)) int {
	if vs.doc == nil || field == "" || max <= 0 || vs.redacted(field) {
		return 0
	}
	n := 0
	vs.walk(vs.doc, field, max, ancestorOfRedacted(field, vs.src.RedactPaths()), &n, fn)
	return n
}

// redacted asks the source's redaction whether field is redacted, and
// also refuses a field that is one only once array markers are ignored
// ("items.sku" where "items[].sku" is redacted and items came as an
// object).
func (vs *ValueScanner) redacted(field string) bool {
	if vs.src.IsRedacted(field) {
		return true
	}
	for _, r := range vs.src.RedactPaths() {
		if underSkippingArrays(field, r) {
			return true
		}
	}
	return false
}

// ancestorOfRedacted reports whether a redact path lies under field: a
// scalar found there may be what the redacted field was meant to hold.
// Array markers are ignored: "meta[]" may hold what "meta.ip" was meant to.
func ancestorOfRedacted(field string, redact []string) bool {
	for _, r := range redact {
		if underSkippingArrays(r, field) {
			return true
		}
	}
	return false
}

// underSkippingArrays is under(field, path) with every "[]" of both
// removed, without allocating.
func underSkippingArrays(field, path string) bool {
	i, j := 0, 0
	for {
		for strings.HasPrefix(field[i:], "[]") {
			i += 2
		}
		for strings.HasPrefix(path[j:], "[]") {
			j += 2
		}
		if j == len(path) {
			return i == len(field) || field[i] == '.'
		}
		if i == len(field) || field[i] != path[j] {
			return false
		}
		i++
		j++
	}
}

func (vs *ValueScanner) walk(v *fastjson.Value, rest string, max int, containersOnly bool, n *int, fn func([]byte)) {
	if *n >= max || v == nil {
		return
	}
	if rest == "" {
		if t := v.Type(); !containersOnly || t == fastjson.TypeObject || t == fastjson.TypeArray {
			vs.report(v, n, fn)
		}
		return
	}
	if strings.HasPrefix(rest, "[]") {
		rest = strings.TrimPrefix(rest[2:], ".")
		if v.Type() != fastjson.TypeArray {
			return
		}
		arr, _ := v.Array()
		for _, el := range arr {
			if *n >= max {
				return
			}
			vs.walk(el, rest, max, containersOnly, n, fn)
		}
		return
	}
	end := strings.IndexAny(rest, ".[")
	key := rest
	next := ""
	if end >= 0 {
		key, next = rest[:end], strings.TrimPrefix(rest[end:], ".")
	}
	if v.Type() != fastjson.TypeObject {
		return
	}
	o, _ := v.Object()
	vs.walk(o.Get(key), next, max, containersOnly, n, fn)
}

func (vs *ValueScanner) report(v *fastjson.Value, n *int, fn func([]byte)) {
	*n++
	switch v.Type() {
	case fastjson.TypeObject:
		fn(append(vs.buf[:0], ContainerObject...))
	case fastjson.TypeArray:
		fn(append(vs.buf[:0], ContainerArray...))
	default:
		vs.buf = v.MarshalTo(vs.buf[:0])
		fn(vs.buf)
	}
}

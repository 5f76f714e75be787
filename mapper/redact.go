package mapper

import (
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// Redact returns a copy of payload with every value at the source's redact
// paths masked: the shape and JSON type stay, the value does not (letters
// become x or X, digits 0, other numbers 0, booleans false; keys and
// punctuation stay, so a masked e-mail still looks like one). A payload that
// cannot be parsed has every string value and number masked, since its
// fields cannot be located. Redact never returns the unmasked bytes of a
// redacted value. It is safe for concurrent use.
func (s *Source) Redact(payload []byte) []byte {
	if len(s.plan.redact) == 0 {
		return append([]byte(nil), payload...)
	}
	var p fastjson.Parser
	if !utf8.Valid(payload) || fastjson.ValidateBytes(payload) != nil {
		return redactAll(payload)
	}
	doc, err := p.ParseBytes(payload)
	if err != nil {
		return redactAll(payload)
	}
	return appendRedacted(make([]byte, 0, len(payload)), doc, "", false, s.plan.redact)
}

func appendRedacted(dst []byte, v *fastjson.Value, path string, masked bool, redact []string) []byte {
	if !masked && path != "" {
		if underAny(path, redact) {
			masked = true
		} else if !anyUnder(redact, path) {
			// Nothing to mask in this subtree.
			return appendValue(dst, v)
		}
	}
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
			dst = appendJSONString(dst, string(k))
			dst = append(dst, ':')
			dst = appendRedacted(dst, fv, childPath(path, string(k)), masked, redact)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		dst = append(dst, '[')
		for i, it := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendRedacted(dst, it, path+"[]", masked, redact)
		}
		return append(dst, ']')
	}
	if !masked {
		// The root scalar of a payload that is not an object.
		return appendValue(dst, v)
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return appendJSONString(dst, maskText(string(b)))
	case fastjson.TypeNumber:
		return append(dst, '0')
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return append(dst, "false"...)
	}
	return append(dst, "null"...)
}

// maskText keeps the shape of s: letters become x or X, digits 0, the rest
// stays.
func maskText(s string) string {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		out = utf8.AppendRune(out, maskRune(r))
	}
	return string(out)
}

// maskRune masks one character: letters become x or X, digits 0, invalid
// UTF-8 ?, the rest stays.
func maskRune(r rune) rune {
	switch {
	case unicode.IsUpper(r):
		return 'X'
	case unicode.IsLetter(r):
		return 'x'
	case unicode.IsDigit(r):
		return '0'
	case r == utf8.RuneError:
		return '?'
	}
	return r
}

// redactAll masks every string that is not an object key, and every digit
// outside strings, in text that is not valid JSON.
func redactAll(payload []byte) []byte {
	out := make([]byte, 0, len(payload))
	i := 0
	for i < len(payload) {
		c := payload[i]
		if c == '"' {
			// Find the end of the string (or of the input).
			j := i + 1
			for j < len(payload) && payload[j] != '"' {
				if payload[j] == '\\' {
					j++
				}
				j++
			}
			end := j
			if end > len(payload) {
				end = len(payload)
			}
			body := payload[i+1 : end]
			// An object key is followed by a colon.
			k := j + 1
			for k < len(payload) && (payload[k] == ' ' || payload[k] == '\t' || payload[k] == '\n' || payload[k] == '\r') {
				k++
			}
			isKey := j < len(payload) && k < len(payload) && payload[k] == ':'
			out = append(out, '"')
			if isKey {
				out = append(out, body...)
			} else {
				for _, r := range string(body) {
					if r == '\\' || r == '"' || r < 0x20 {
						r = '?'
					}
					out = utf8.AppendRune(out, maskRune(r))
				}
			}
			if j < len(payload) {
				out = append(out, '"')
			}
			i = j + 1
			continue
		}
		switch {
		case c >= '0' && c <= '9':
			out = append(out, '0')
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf:
			// Bare words (true, null, or garbage) outside strings.
			out = append(out, 'x')
		default:
			out = append(out, c)
		}
		i++
	}
	return out
}

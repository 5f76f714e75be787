package suggest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// SchemaEdit adds values to an enum keyword of the source's input schema,
// so that values a suggestion adds to an enum table pass the schema too.
type SchemaEdit struct {
	// File is the schema file, relative to the schemas directory.
	File string `json:"file"`
	// Pointer is the JSON pointer of the schema object whose enum it is.
	Pointer string `json:"pointer"`
	// Op is what the edit does to the schema object at Pointer: "" adds
	// Add to its enum; "type" adds Add to its type keyword; "optional"
	// drops Name from its required list; "property" adds the property
	// Name with the schema Schema to its properties.
	Op string `json:"op,omitempty"`
	// Add are the string values appended to the enum or type.
	Add []string `json:"add,omitempty"`
	// Name is the property dropped from required or added.
	Name string `json:"name,omitempty"`
	// Schema is the added property's schema.
	Schema json.RawMessage `json:"schema,omitempty"`
}

// ApplySchema applies the schema edits of ss that are on file to doc, the
// file's text, and returns the new text. Only the edited enum arrays
// change; the rest of the file is kept byte for byte.
func ApplySchema(doc []byte, file string, ss []Suggestion) ([]byte, error) {
	for _, s := range ss {
		for _, e := range s.SchemaEdits {
			if e.File != file {
				continue
			}
			var err error
			if doc, err = e.apply(doc); err != nil {
				return nil, fmt.Errorf("edit %s at %s: %w", file, e.Pointer, err)
			}
		}
	}
	return doc, nil
}

// addEnumValues appends add to the enum array of the schema object at
// pointer in doc, after its last element.
func addEnumValues(doc []byte, pointer string, add []string) ([]byte, error) {
	return SchemaEdit{Pointer: pointer, Add: add}.apply(doc)
}

// apply makes the edit on doc, changing only the bytes it must.
func (e SchemaEdit) apply(doc []byte) ([]byte, error) {
	segs, err := splitPointer(e.Pointer)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case "":
		return appendArray(doc, append(segs, "enum"), e.Add)
	case "type":
		start, end, err := valueSpan(doc, append(segs, "type"))
		if err != nil {
			return nil, err
		}
		if doc[start] == '"' {
			add, _ := json.Marshal(e.Add)
			text := "[" + string(doc[start:end]) + ", " + strings.Trim(strings.ReplaceAll(string(add), ",", ", "), "[]") + "]"
			return spliceBytes(doc, start, end, text), nil
		}
		return appendArray(doc, append(segs, "type"), e.Add)
	case "optional":
		return dropArrayString(doc, append(segs, "required"), e.Name)
	case "property":
		return addMember(doc, append(segs, "properties"), e.Name, e.Schema)
	}
	return nil, fmt.Errorf("unknown schema edit %q", e.Op)
}

func spliceBytes(doc []byte, start, end int, text string) []byte {
	out := append([]byte(nil), doc[:start]...)
	out = append(out, text...)
	return append(out, doc[end:]...)
}

// appendArray appends the strings add to the array at path in doc, after
// its last element, in the array's layout.
func appendArray(doc []byte, path []string, add []string) ([]byte, error) {
	start, end, err := valueSpan(doc, path)
	if err != nil {
		return nil, err
	}
	arr := bytes.TrimRight(doc[start:end], " \t\r\n")
	if len(arr) == 0 || arr[0] != '[' || arr[len(arr)-1] != ']' {
		return nil, fmt.Errorf("enum is not an array")
	}
	body := bytes.TrimRight(arr[:len(arr)-1], " \t\r\n")
	var b bytes.Buffer
	b.Write(doc[:start])
	b.Write(body)
	sep := ", "
	if len(bytes.TrimSpace(body)) == 1 { // "[": an empty enum
		sep = ""
	} else if i := bytes.LastIndexByte(body, ','); i >= 0 {
		// Keep the array's layout: an element per line stays so.
		if ws := body[i+1:]; len(ws) > 0 && (ws[0] == '\n' || ws[0] == '\r') {
			lead := ws[:len(ws)-len(bytes.TrimLeft(ws, " \t\r\n"))]
			sep = "," + string(lead)
		}
	}
	for _, v := range add {
		q, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.WriteString(sep)
		b.Write(q)
		if sep == "" {
			sep = ", "
		}
	}
	b.Write(arr[len(body):])
	b.Write(doc[start+len(arr):])
	return b.Bytes(), nil
}

// splitPointer splits a JSON pointer ("/a/b~1c") into its unescaped
// reference tokens.
func splitPointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("JSON pointer %q does not start with /", p)
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		segs[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
	}
	return segs, nil
}

// valueSpan is the byte range of the JSON value at the path of object keys
// and array indexes in doc.
func valueSpan(doc []byte, path []string) (start, end int, err error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	for depth, seg := range path {
		tok, err := dec.Token()
		if err != nil {
			return 0, 0, fmt.Errorf("read %s: %w", strings.Join(path[:depth], "/"), err)
		}
		d, _ := tok.(json.Delim)
		switch d {
		case '{':
			found := false
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return 0, 0, err
				}
				if kt.(string) == seg {
					found = true
					break
				}
				if err := dec.Decode(&json.RawMessage{}); err != nil {
					return 0, 0, err
				}
			}
			if !found {
				return 0, 0, fmt.Errorf("no key %q at /%s", seg, strings.Join(path[:depth], "/"))
			}
		case '[':
			n, err := strconv.Atoi(seg)
			if err != nil || n < 0 {
				return 0, 0, fmt.Errorf("%q is not an index of the array at /%s", seg, strings.Join(path[:depth], "/"))
			}
			for i := 0; i < n; i++ {
				if !dec.More() {
					return 0, 0, fmt.Errorf("no element %d at /%s", n, strings.Join(path[:depth], "/"))
				}
				if err := dec.Decode(&json.RawMessage{}); err != nil {
					return 0, 0, err
				}
			}
			if !dec.More() {
				return 0, 0, fmt.Errorf("no element %d at /%s", n, strings.Join(path[:depth], "/"))
			}
		default:
			return 0, 0, fmt.Errorf("/%s is not an object or array", strings.Join(path[:depth], "/"))
		}
	}
	start = int(dec.InputOffset())
	for start < len(doc) && strings.IndexByte(" \t\r\n:,", doc[start]) >= 0 {
		start++
	}
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, 0, err
	}
	return start, int(dec.InputOffset()), nil
}

// dropArrayString removes the string name from the array at path, with
// the separator before it (or after it, for the first element).
func dropArrayString(doc []byte, path []string, name string) ([]byte, error) {
	start, end, err := valueSpan(doc, path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(doc[start:end]))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var spans [][2]int
	at := -1
	for dec.More() {
		off := int(dec.InputOffset())
		for off < end-start && strings.IndexByte(" \t\r\n,", doc[start+off]) >= 0 {
			off++
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if str, ok := v.(string); ok && str == name && at < 0 {
			at = len(spans)
		}
		spans = append(spans, [2]int{start + off, start + int(dec.InputOffset())})
	}
	switch {
	case at < 0:
		return nil, fmt.Errorf("%q is not in the required list", name)
	case len(spans) == 1:
		return spliceBytes(doc, start, end, "[]"), nil
	case at == 0:
		return spliceBytes(doc, spans[0][0], spans[1][0], ""), nil
	}
	return spliceBytes(doc, spans[at-1][1], spans[at][1], ""), nil
}

// addMember adds "name": schema as the last member of the object at path,
// in the layout of its last member (one line, or indented as the file is).
func addMember(doc []byte, path []string, name string, schema json.RawMessage) ([]byte, error) {
	start, end, err := valueSpan(doc, path)
	if err != nil {
		return nil, err
	}
	obj := doc[start:end]
	body := bytes.TrimRight(obj[:len(obj)-1], " \t\r\n")
	key, _ := json.Marshal(name)
	var v any
	if err := json.Unmarshal(schema, &v); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 1 {
		one, _ := json.Marshal(v)
		return spliceBytes(doc, start, end, "{"+string(key)+": "+spaced(one)+"}"), nil
	}
	// The last member's line gives the indentation; a member whose value
	// spans lines makes the new one span lines too.
	lastNL := bytes.LastIndexByte(body, '\n')
	multi := lastNL >= 0
	var text string
	if multi {
		// find the start of the last member: the line after the last
		// newline at the members' depth
		memberIndent := indentAfterBrace(obj)
		unit := strings.TrimPrefix(memberIndent, lineIndent(doc, start))
		if unit == "" {
			unit = "  "
		}
		pretty, _ := json.MarshalIndent(v, memberIndent, unit)
		if !bytes.Contains(lastMember(body), []byte("\n")) {
			pretty = []byte(spaced(mustMarshal(v)))
		}
		text = ",\n" + memberIndent + string(key) + ": " + string(pretty)
	} else {
		text = ", " + string(key) + ": " + spaced(mustMarshal(v))
	}
	return spliceBytes(doc, start+len(body), start+len(body), text), nil
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// spaced puts a space after each colon and comma outside strings, as
// hand-written one-line JSON has it.
func spaced(b []byte) string {
	var out strings.Builder
	in, esc := false, false
	for _, c := range b {
		out.WriteByte(c)
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && (c == ':' || c == ','):
			out.WriteByte(' ')
		}
	}
	return out.String()
}

// indentAfterBrace is the indentation of the first member of a multi-line
// object's text.
func indentAfterBrace(obj []byte) string {
	i := bytes.IndexByte(obj, '\n')
	if i < 0 {
		return ""
	}
	rest := obj[i+1:]
	return string(rest[:len(rest)-len(bytes.TrimLeft(rest, " \t"))])
}

// lineIndent is the indentation of the line holding offset off.
func lineIndent(doc []byte, off int) string {
	s := bytes.LastIndexByte(doc[:off], '\n') + 1
	e := s
	for e < len(doc) && (doc[e] == ' ' || doc[e] == '\t') {
		e++
	}
	return string(doc[s:e])
}

// lastMember is the text of an object body's last member (from after the
// last comma at depth one).
func lastMember(body []byte) []byte {
	depth, in, esc, cut := 0, false, false, 1
	for i, c := range body {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case in:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ',' && depth == 1:
			cut = i + 1
		}
	}
	return body[cut:]
}

// readSchema reads one schema file of the schemas directory.
func readSchema(fsys fs.FS, file string) ([]byte, error) {
	return fs.ReadFile(fsys, file)
}

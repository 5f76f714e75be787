package suggest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	// Add are the string values appended to the enum.
	Add []string `json:"add"`
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
			if doc, err = addEnumValues(doc, e.Pointer, e.Add); err != nil {
				return nil, fmt.Errorf("edit %s at %s: %w", file, e.Pointer, err)
			}
		}
	}
	return doc, nil
}

// addEnumValues appends add to the enum array of the schema object at
// pointer in doc, after its last element.
func addEnumValues(doc []byte, pointer string, add []string) ([]byte, error) {
	segs, err := splitPointer(pointer)
	if err != nil {
		return nil, err
	}
	start, end, err := valueSpan(doc, append(segs, "enum"))
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

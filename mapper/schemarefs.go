package mapper

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// Schemas stay inside the schemas directory: a $ref may name a # fragment
// of its own file or another schema file under the directory (a relative
// path that stays inside it once cleaned); any other reference — an
// absolute path, a path out with "..", a URL of any scheme — is a load
// problem naming the file, the JSON pointer and the ref. The compiler
// itself loads nothing: every schema file is given to it up front, and its
// loader refuses every URL, so no $id can lead it to the network or to
// another file.

// schemaRef is one "$ref" of a schema document.
type schemaRef struct {
	ptr    string // JSON pointer of the $ref member
	ref    string
	offset int // where the ref's string starts in the document
}

// findRefs lists every "$ref" member with a string value in a JSON document
// (known to be valid), in document order.
func findRefs(data []byte) []schemaRef {
	type frame struct {
		obj       bool
		expectKey bool
		key       string
		idx       int
	}
	var stack []frame
	var refs []schemaRef
	next := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].obj {
				stack[n-1].expectKey = true
			} else {
				stack[n-1].idx++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return refs
		}
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].expectKey {
			if s, ok := tok.(string); ok {
				stack[n-1].key, stack[n-1].expectKey = s, false
				continue
			}
			stack = stack[:n-1] // '}'
			next()
			continue
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, frame{obj: true, expectKey: true})
			case '[':
				stack = append(stack, frame{})
			case ']':
				stack = stack[:len(stack)-1]
				next()
			}
			continue
		case string:
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].key == "$ref" {
				var b strings.Builder
				for _, f := range stack {
					b.WriteByte('/')
					if f.obj {
						b.WriteString(strings.ReplaceAll(strings.ReplaceAll(f.key, "~", "~0"), "/", "~1"))
					} else {
						b.WriteString(strconv.Itoa(f.idx))
					}
				}
				end := int(dec.InputOffset())
				start := bytes.LastIndexByte(data[:max(end-1, 0)], '"')
				refs = append(refs, schemaRef{ptr: b.String(), ref: v, offset: max(start, 0)})
			}
		}
		next()
	}
}

// checkRef says what is wrong with ref in the schema file name (a path
// relative to the schemas directory), or "" when it stays inside the
// directory; files are the directory's schema files.
func checkRef(name, ref string, files map[string]bool) string {
	if strings.HasPrefix(ref, "#") {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return "is not a valid reference"
	}
	if u.Scheme != "" || u.Host != "" || u.Opaque != "" || strings.HasPrefix(u.Path, "/") || strings.HasPrefix(ref, "//") {
		return "points outside the schemas directory (only files under it and # fragments may be referenced)"
	}
	target := path.Join(path.Dir(name), u.Path)
	if target == ".." || strings.HasPrefix(target, "../") {
		return "points outside the schemas directory (only files under it and # fragments may be referenced)"
	}
	if !files[target] {
		return fmt.Sprintf("names %s, which is not a schema file (*.json) of the schemas directory", target)
	}
	return ""
}

// refuseLoad is the compiler's loader: every schema it may use was given
// to it, so any other URL is refused.
func refuseLoad(u string) (io.ReadCloser, error) {
	return nil, fmt.Errorf("%s is not a schema file of the schemas directory; nothing else is loaded", strings.TrimPrefix(u, "file:///mapper-schemas/"))
}

package demo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/mapperhq/mapper/mapper"
)

// Headers are the record headers of a source's fixtures, read from
// fixtures/<source>/headers.txt: one line per file-name pattern (path.Match
// syntax), then one or more NAME=VALUE; blank lines and # comments are
// skipped. The first pattern that matches a file name wins.
type Headers []headerRule

type headerRule struct {
	pattern string
	headers []mapper.Header
}

// ReadHeaders reads <source>/headers.txt of fsys; no file means no
// headers.
func ReadHeaders(fsys fs.FS, source string) (Headers, error) {
	name := path.Join(source, "headers.txt")
	data, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fixture headers: %w", err)
	}
	var out Headers
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if _, err := path.Match(fields[0], ""); err != nil || len(fields) < 2 {
			return nil, fmt.Errorf("%s:%d: want a file-name pattern and NAME=VALUE…", name, line)
		}
		r := headerRule{pattern: fields[0]}
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("%s:%d: %q: want NAME=VALUE", name, line, f)
			}
			r.headers = append(r.headers, mapper.Header{Key: k, Value: []byte(v)})
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// ForFile returns the headers of the fixture file base (a file name).
func (h Headers) ForFile(base string) []mapper.Header {
	for _, r := range h {
		if ok, _ := path.Match(r.pattern, base); ok {
			return r.headers
		}
	}
	return nil
}

// WriteTopics lists the demo's input topics with the sources that map
// their records and what each accepts, so that a topic several record
// types share shows which of them no source takes (unknown_source).
func WriteTopics(w io.Writer, eng *mapper.Engine, topics []string) {
	for _, t := range topics {
		srcs := eng.SourcesForTopic(t)
		if len(srcs) == 0 {
			fmt.Fprintf(w, "  topic %s: no source (every record is unknown_source)\n", t)
			continue
		}
		all := true
		for _, s := range srcs {
			accept := "every record"
			if a := s.Accept(); len(a) > 0 {
				accept = "records with " + strings.Join(a, " and ")
			} else {
				all = false
			}
			fmt.Fprintf(w, "  topic %s: %s takes %s\n", t, s.Name(), accept)
		}
		if all {
			fmt.Fprintf(w, "  topic %s: records no source takes are unknown_source\n", t)
		}
	}
}

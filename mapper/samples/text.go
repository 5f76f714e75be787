package samples

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// WriteText writes sample number n for a person: where it came from, its
// key and headers, its failures (and the candidate rules' result, for a
// candidate sample), and its payload pretty-printed in its own
// key order with the failing fields marked ("<-- reason"); a failing field
// the payload lacks is listed as "not in payload". The payload is printed
// as stored: redacted when it was kept.
func WriteText(w io.Writer, n int, s *Sample) error {
	bw := bufio.NewWriter(w)
	writeText(bw, n, s)
	return bw.Flush()
}

func writeText(w io.Writer, n int, s *Sample) {
	where := fmt.Sprintf("%s/%d@%d", s.Topic, s.Partition, s.Offset)
	if s.Imported != "" {
		where = "imported from " + s.Imported
	}
	fmt.Fprintf(w, "#%d  %s  %s  rules v%d  captured %s\n", n, s.Outcome, where, s.RulesVersion, textTime(s.CapturedAt))
	if len(s.Key) > 0 {
		fmt.Fprintf(w, "key: %q\n", string(s.Key))
	}
	for _, h := range s.Headers {
		if h.Withheld {
			fmt.Fprintf(w, "header %s: (value not kept: no source claims the record, and no rule routes on it)\n", h.Key)
			continue
		}
		fmt.Fprintf(w, "header %s: %q\n", h.Key, string(h.Value))
	}
	for _, f := range s.Failures {
		fmt.Fprintf(w, "failure %s: %s\n", f.Category(), f.Detail)
	}
	if c := s.Candidate; c != nil {
		fmt.Fprintf(w, "candidate rules v%d: %s\n", c.RulesVersion, c.Outcome)
		for _, f := range c.Failures {
			fmt.Fprintf(w, "candidate failure %s: %s\n", f.Category(), f.Detail)
		}
	}
	if s.Malformed != "" {
		fmt.Fprintln(w, "the original payload was malformed; below is what masking made of it")
	}
	switch {
	case len(s.Payload) > 0:
		marks := map[string][]string{}
		for _, f := range s.Failures {
			if f.Field != "" {
				marks[f.Field] = append(marks[f.Field], string(f.Reason))
			}
		}
		if s.Candidate != nil {
			for _, f := range s.Candidate.Failures {
				if f.Field != "" {
					marks[f.Field] = append(marks[f.Field], "candidate "+string(f.Reason))
				}
			}
		}
		found := map[string]bool{}
		if err := prettyMarked(w, s.Payload, marks, found); err != nil {
			fmt.Fprintf(w, "%s\n", s.Payload)
		}
		var absent []string
		for field, reasons := range marks {
			if !found[field] {
				absent = append(absent, fmt.Sprintf("%s (%s)", field, strings.Join(reasons, ", ")))
			}
		}
		sort.Strings(absent)
		for _, a := range absent {
			fmt.Fprintf(w, "not in payload: %s\n", a)
		}
	case s.PayloadBase64 != nil:
		fmt.Fprintf(w, "payload (not JSON): %q\n", s.PayloadBase64)
	default:
		fmt.Fprintf(w, "payload not kept: %s\n", s.PayloadOmitted)
	}
}

// prettyMarked pretty-prints a JSON document keeping its key order, and
// ends the line of every value whose normalised path ("a.b", "items[].sku")
// is in marks with "  <-- reason". found records the paths it marked.
func prettyMarked(w io.Writer, doc []byte, marks map[string][]string, found map[string]bool) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var out bytes.Buffer
	type frame struct {
		array bool
		path  string
		n     int
	}
	var stack []frame
	var pending string // the mark of the current line, written at its end
	endLine := func(comma bool) {
		if comma {
			out.WriteByte(',')
		}
		out.WriteString(pending)
		pending = ""
		out.WriteByte('\n')
		out.WriteString(strings.Repeat("  ", len(stack)))
	}
	mark := func(path string) {
		if r, ok := marks[path]; ok {
			found[path] = true
			pending = "  <-- " + strings.Join(r, ", ")
		}
	}
	var key string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.n > 0 {
				endLine(false)
			}
			out.WriteRune(rune(d))
			continue
		}
		path := ""
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			if !top.array {
				if s, ok := tok.(string); ok && top.n%2 == 0 {
					// A key.
					endLine(top.n > 0)
					b, _ := json.Marshal(s)
					out.Write(b)
					out.WriteString(": ")
					key = s
					top.n++
					continue
				}
				top.n++
				path = key
				if top.path != "" {
					path = top.path + "." + key
				}
			} else {
				endLine(top.n > 0)
				top.n++
				path = top.path + "[]"
			}
		}
		if d, ok := tok.(json.Delim); ok {
			out.WriteRune(rune(d))
			mark(path)
			stack = append(stack, frame{array: d == '[', path: path})
			continue
		}
		b, err := json.Marshal(tok)
		if err != nil {
			return err
		}
		out.Write(b)
		mark(path)
	}
	out.WriteString(pending)
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

// textTime is t in RFC 3339 UTC, or "-" when unknown.
func textTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

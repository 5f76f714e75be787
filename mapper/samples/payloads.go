package samples

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Payload is one payload read from a file captured elsewhere, for
// mapper samples add (and mapper infer) to map.
type Payload struct {
	// Ref says where the payload came from: the file's base name for a
	// whole-file payload, "name:line" for one line of a JSON-lines file.
	Ref  string
	Data []byte
}

// MaxPayloadFileBytes is the largest file ReadPayloads reads: the file is
// held in memory while its payloads are mapped. Split a larger capture, or
// map it with mapper map --lines, which streams.
const MaxPayloadFileBytes = 1 << 30

// ReadPayloads reads one file of payloads: the whole file when it is one
// JSON value (and not named *.jsonl or *.ndjson), else one payload per
// non-blank line, trimmed, whether or not the line is JSON (a line that is
// not JSON is for the mapper to classify as malformed_payload, not to
// drop). A file with no payload is an error; errors reading it wrap the
// os error (errors.Is(err, fs.ErrNotExist) holds for a missing file). A
// file over MaxPayloadFileBytes is refused before it is read. The payloads
// share one buffer, the file's bytes.
func ReadPayloads(path string) ([]Payload, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("read payloads: %w", err)
	} else if fi.Size() > MaxPayloadFileBytes {
		return nil, fmt.Errorf("read payloads %s: the file is %d bytes, over the limit of %d; split it, or map it with mapper map --lines", path, fi.Size(), MaxPayloadFileBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read payloads: %w", err)
	}
	name := filepath.Base(path)
	if !strings.HasSuffix(path, ".jsonl") && !strings.HasSuffix(path, ".ndjson") {
		if t := bytes.TrimSpace(b); len(t) > 0 && json.Valid(t) {
			return []Payload{{Ref: name, Data: t}}, nil
		}
	}
	var out []Payload
	for n, rest := 1, b; len(rest) > 0; n++ {
		line := rest
		if k := bytes.IndexByte(rest, '\n'); k >= 0 {
			line, rest = rest[:k], rest[k+1:]
		} else {
			rest = nil
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			// A slice of the file's bytes, capped so that appending to one
			// payload cannot write over the next.
			out = append(out, Payload{Ref: fmt.Sprintf("%s:%d", name, n), Data: line[:len(line):len(line)]})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read payloads %s: no payload in the file", path)
	}
	return out, nil
}

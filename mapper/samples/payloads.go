package samples

import (
	"bufio"
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

// ReadPayloads reads one file of payloads: the whole file when it is one
// JSON value (and not named *.jsonl or *.ndjson), else one payload per
// non-blank line, trimmed, whether or not the line is JSON (a line that is
// not JSON is for the mapper to classify as malformed_payload, not to
// drop). A file with no payload is an error; errors reading it wrap the
// os error (errors.Is(err, fs.ErrNotExist) holds for a missing file).
func ReadPayloads(path string) ([]Payload, error) {
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
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), len(b)+1)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		out = append(out, Payload{Ref: fmt.Sprintf("%s:%d", name, n), Data: append([]byte(nil), line...)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read payloads %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read payloads %s: no payload in the file", path)
	}
	return out, nil
}

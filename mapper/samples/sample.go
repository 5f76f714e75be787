package samples

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mapperhq/mapper/mapper"
)

// CleanCategory is the category name of clean samples: records that mapped
// with no failure, kept so that replay can catch regressions.
const CleanCategory = "clean"

// Sample is one kept record, stored as one JSON line.
type Sample struct {
	// CapturedAt is when the record was kept.
	CapturedAt time.Time `json:"captured_at"`
	// Source is the source that claimed the record; empty when none did.
	Source string `json:"source"`
	// RulesVersion is the source's rules version when the record was mapped.
	RulesVersion int `json:"rules_version"`
	// Category is the failure category ("reason" or "reason:field") the
	// sample was kept for, or CleanCategory.
	Category string `json:"category"`
	// Topic, Partition and Offset say where the record was read; Topic is
	// empty for imported payloads.
	Topic     string `json:"topic,omitempty"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
	// Key and Headers are the record's, as read. For a record no source
	// claims, the key is not kept and a header's value only when the rules
	// route on that header (Config.Shapes.RoutingHeaders); the others are
	// Withheld, as its payload is.
	Key     Bytes    `json:"key,omitempty"`
	Headers []Header `json:"headers,omitempty"`
	// Payload is the record's payload with the source's redact paths masked,
	// when it is JSON.
	Payload json.RawMessage `json:"payload,omitempty"`
	// PayloadBase64 is the redacted payload when it is not JSON
	// (malformed_payload records), byte for byte.
	PayloadBase64 []byte `json:"payload_base64,omitempty"`
	// PayloadOmitted says why there is no payload: a record that no source
	// claims has no known redact paths, so its payload is not kept.
	PayloadOmitted string `json:"payload_omitted,omitempty"`
	// Malformed is set when the original payload was malformed_payload (not
	// JSON, invalid UTF-8, too deep or too large): the engine's value-free
	// detail. Masking may turn such bytes into valid JSON (a raw control
	// character or an unknown escape inside a redacted string is masked
	// away), so the payload kept is not what the record was: replay
	// classifies the sample by the original, malformed_payload under any
	// rules, and Output is left out.
	Malformed string `json:"malformed,omitempty"`
	// Outcome and Failures are what the rules of RulesVersion made of the
	// original record. Failure details on redacted fields are masked.
	Outcome  mapper.Outcome   `json:"outcome"`
	Failures []mapper.Failure `json:"failures"`
	// Output is what the rules of RulesVersion make of the redacted payload,
	// kept so that replay can show what a rule change does to the output.
	Output json.RawMessage `json:"output,omitempty"`
	// Imported names the file the payload was imported from by
	// `mapper samples add`; empty for records kept by the worker.
	Imported string `json:"imported,omitempty"`
	// Candidate is what candidate rules made of the record, for samples
	// kept because the candidate's result differs (categories
	// "candidate:<verdict>"); nil otherwise.
	Candidate *CandidateResult `json:"candidate,omitempty"`
}

// CandidateResult is the candidate rules' result of a sampled record.
// Failure details on redacted fields are masked.
type CandidateResult struct {
	RulesVersion int              `json:"rules_version"`
	Outcome      mapper.Outcome   `json:"outcome"`
	Failures     []mapper.Failure `json:"failures"`
}

// PayloadBytes returns the redacted payload to map, and false when the
// sample has none.
func (s *Sample) PayloadBytes() ([]byte, bool) {
	switch {
	case len(s.Payload) > 0:
		return s.Payload, true
	case s.PayloadBase64 != nil:
		return s.PayloadBase64, true
	}
	return nil, false
}

// MalformedOriginal reports whether the original payload of the sample was
// malformed_payload, with the engine's detail: Malformed, or for samples
// kept before that field existed, a malformed_payload failure.
func (s *Sample) MalformedOriginal() (string, bool) {
	if s.Malformed != "" {
		return s.Malformed, true
	}
	for _, f := range s.Failures {
		if f.Reason == mapper.ReasonMalformedPayload {
			if f.Detail == "" {
				return string(f.Reason), true
			}
			return f.Detail, true
		}
	}
	return "", false
}

// Categories returns the distinct failure categories of the sample's
// failures, in order.
func (s *Sample) Categories() []string {
	var out []string
	for _, f := range s.Failures {
		c := f.Category().String()
		if !contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Header is one record header.
type Header struct {
	Key   string `json:"key"`
	Value Bytes  `json:"value"`
	// Withheld is set, and Value empty, when the value was not kept (a
	// header of a record no source claims that the rules do not route on).
	Withheld bool `json:"withheld,omitempty"`
}

// Bytes is a byte string that encodes as a JSON string when it is valid
// UTF-8 and as {"base64":"…"} otherwise, so that keys and header values
// round-trip exactly.
type Bytes []byte

// MarshalJSON implements json.Marshaler.
func (b Bytes) MarshalJSON() ([]byte, error) {
	if utf8.Valid(b) {
		return json.Marshal(string(b))
	}
	return json.Marshal(struct {
		Base64 []byte `json:"base64"`
	}{b})
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '{' {
		var v struct {
			Base64 []byte `json:"base64"`
		}
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*b = v.Base64
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	*b = Bytes(s)
	return nil
}

// CategoryInfo describes the samples of one source and category.
type CategoryInfo struct {
	Source   string `json:"source"`
	Category string `json:"category"`
	// Seen is how many records of the category the store has been told of
	// (zero when unknown, for example for a directory without an index).
	Seen uint64 `json:"seen"`
	// Kept is how many samples the category's file holds.
	Kept int `json:"kept"`
	// FirstSeen and LastSeen are the record times of the first and the most
	// recent record of the category (zero when unknown).
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Path is the category's file, relative to the samples directory.
	Path string `json:"path"`
}

// SplitCategory splits "reason:field" into its parts.
func SplitCategory(c string) (mapper.Reason, string) {
	r, f, _ := strings.Cut(c, ":")
	return mapper.Reason(r), f
}

// CategoryPath is the file of a source's category, relative to the samples
// directory: <source>/<reason>/<field>.jsonl, and <source>/clean.jsonl for
// clean samples. Names are escaped so that any source or field is one safe
// path element; an empty name is "_".
func CategoryPath(source, category string) string {
	if category == CleanCategory {
		return filepath.Join(escapeName(source), CleanCategory+".jsonl")
	}
	r, f := SplitCategory(category)
	return filepath.Join(escapeName(source), escapeName(string(r)), escapeName(f)+".jsonl")
}

// escapeName makes s one file-name element: bytes outside [A-Za-z0-9._[]-]
// and a leading dot become %XX, "" becomes "_" (and "_" itself "%5F"), and
// names longer than 200 bytes are cut and suffixed with a hash.
func escapeName(s string) string {
	if s == "" {
		return "_"
	}
	if s == "_" {
		return "%5F"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '-' || c == '[' || c == ']' || c == '.' && i > 0
		if ok {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	out := b.String()
	if len(out) > 200 {
		out = fmt.Sprintf("%s~%08x", out[:190], fnv32(s))
	}
	return out
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// ErrNotSamples is returned by the readers for a directory that does not
// exist.
var ErrNotSamples = errors.New("no samples directory")

// ReadFile reads every sample of one category file. A line that is not a
// sample is an error naming the file and line; the samples before it are
// returned with it.
func ReadFile(path string) ([]Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read samples: %w", err)
	}
	defer f.Close()
	var out []Sample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var s Sample
		if err := json.Unmarshal(b, &s); err != nil {
			return out, fmt.Errorf("read samples %s:%d: %w", path, line, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read samples %s: %w", path, err)
	}
	return out, nil
}

// List describes every source and category of a samples directory, sorted
// by source then category (clean last). It reads the index the store keeps
// for counts and times, and counts the lines of every category file; it is
// safe to call while a store writes the directory.
func List(dir string) ([]CategoryInfo, error) {
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotSamples, dir)
		}
		return nil, fmt.Errorf("list samples: %w", err)
	}
	idx, err := readIndex(dir)
	if err != nil {
		return nil, err
	}
	byPath := map[string]*CategoryInfo{}
	var out []*CategoryInfo
	for _, src := range idx.Sources {
		for _, c := range src.Categories {
			ci := &CategoryInfo{Source: src.Source, Category: c.Category, Seen: c.Seen, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen, Path: CategoryPath(src.Source, c.Category)}
			byPath[ci.Path] = ci
			out = append(out, ci)
		}
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") || !strings.HasSuffix(d.Name(), ".jsonl") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		ss, err := ReadFile(p)
		if err != nil {
			return err
		}
		ci := byPath[rel]
		if ci == nil {
			if len(ss) == 0 {
				return nil
			}
			ci = &CategoryInfo{Source: ss[0].Source, Category: ss[0].Category, Path: rel}
			for _, s := range ss {
				t := s.CapturedAt
				if ci.FirstSeen.IsZero() || t.Before(ci.FirstSeen) {
					ci.FirstSeen = t
				}
				if t.After(ci.LastSeen) {
					ci.LastSeen = t
				}
			}
			byPath[rel] = ci
			out = append(out, ci)
		}
		ci.Kept = len(ss)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list samples %s: %w", dir, err)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if (a.Category == CleanCategory) != (b.Category == CleanCategory) {
			return b.Category == CleanCategory
		}
		return a.Category < b.Category
	})
	res := make([]CategoryInfo, len(out))
	for i, c := range out {
		res[i] = *c
	}
	return res, nil
}

// Read returns the samples of one source and category of a samples
// directory (nil, nil when the category has none).
func Read(dir, source, category string) ([]Sample, error) {
	ss, err := ReadFile(filepath.Join(dir, CategoryPath(source, category)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return ss, err
}

// ReadDir reads every sample of a samples directory, file by file in path
// order (so the first record of each category comes first in it).
func ReadDir(dir string) ([]Sample, error) {
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotSamples, dir)
		}
		return nil, fmt.Errorf("read samples: %w", err)
	}
	var out []Sample
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") || !strings.HasSuffix(d.Name(), ".jsonl") {
			return nil
		}
		ss, err := ReadFile(p)
		out = append(out, ss...)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("read samples %s: %w", dir, err)
	}
	return out, nil
}

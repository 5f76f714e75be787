package ruletest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/mapperhq/mapper/internal/yamlnode"
	"github.com/mapperhq/mapper/mapper"
)

// Bounds on what a test file may ask for. A file over them is refused with
// a problem at the offending place, never read further.
const (
	// MaxFileBytes is the largest test file read (8 MiB).
	MaxFileBytes = 8 << 20
	// MaxCases is the most cases one file may hold.
	MaxCases = 10000
	// MaxPayloadFileBytes is the largest payload_file read (16 MiB: enough
	// to test the engine's own size guard, whose default is 1 MiB).
	MaxPayloadFileBytes = 16 << 20
	// maxNesting bounds the nesting of inline payloads and outputs.
	maxNesting = 200
)

// Suite is one parsed test file.
type Suite struct {
	// File is the test file's path as given to ParseFile.
	File string
	// Source is the source under test: the file's source key, or "" for the
	// source loaded from the rule file beside it (NAME.yaml for
	// NAME.test.yaml).
	Source string
	// Cases in file order.
	Cases []*Case

	data []byte // the file as read, for Update
	end  int    // line after the cases list (0: end of file)
}

// Case is one payload and what it must map to.
type Case struct {
	Name      string
	Line, Col int // of the case's first key
	// Payload is the payload's bytes.
	Payload []byte
	// Topic, when set, routes the record through the engine as the worker
	// does, by topic and accept predicates (a record no source accepts
	// gives unknown_source); otherwise the suite's source maps it, when its
	// accept predicates hold for the record (as mapper map --source does).
	Topic string
	// Source, with Topic, is the source the record must be routed to: by
	// default the suite's source, or none for a record expected to be
	// unknown_source or malformed_payload.
	Source string
	// Headers are the record's headers, for accept predicates.
	Headers []mapper.Header
	Expect  Expect

	keys      []keyPos // every key of the case mapping, in file order
	flowStyle bool
}

// Expect is what a case must give.
type Expect struct {
	// Outcome is "" when the case has no expectation yet (Update records one).
	Outcome mapper.Outcome
	// Failures is the exact set of failure categories expected (none when
	// empty); a Detail is compared only where HasDetail.
	Failures []Failure
	// Output is the expected output as JSON, nil when it is not checked.
	// With Subset, only the keys it has are compared (recursively; arrays
	// compare whole).
	Output []byte
	Subset bool
}

// Failure is one expected failure.
type Failure struct {
	Reason    mapper.Reason
	Field     string
	Detail    string
	HasDetail bool
}

type keyPos struct {
	name      string
	line, col int
}

var suiteKeys = []string{"source", "cases", "description"}

var caseKeys = []string{"name", "description", "payload", "payload_file", "payload_line", "delete", "set", "topic", "source", "headers",
	"outcome", "failures", "output", "output_subset"}

// expectKeys are the keys Update rewrites.
var expectKeys = map[string]bool{"outcome": true, "failures": true, "output": true, "output_subset": true}

// ParseFile reads and checks one test file. Payload files are read relative
// to the test file's directory. Every problem is reported at once, as a
// *mapper.LoadError.
func ParseFile(path string) (*Suite, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read rule test %s: %w", path, err)
	}
	if st.Size() > MaxFileBytes {
		return nil, &mapper.LoadError{Problems: []mapper.Problem{{File: path,
			What: fmt.Sprintf("test file is %d bytes, over the limit of %d", st.Size(), MaxFileBytes)}}}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rule test %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse is ParseFile for data already read; file names the data in
// problems and is where payload files are found relative to.
func Parse(file string, data []byte) (*Suite, error) {
	p := &fileParser{file: file, dir: filepath.Dir(file)}
	s := p.parse(data)
	if len(p.problems) > 0 {
		return nil, &mapper.LoadError{Problems: p.problems}
	}
	return s, nil
}

type fileParser struct {
	file     string
	dir      string
	problems []mapper.Problem
}

func (p *fileParser) errAt(n ast.Node, format string, args ...any) {
	line, col := yamlnode.Pos(n)
	p.problems = append(p.problems, mapper.Problem{File: p.file, Line: line, Col: col, What: fmt.Sprintf(format, args...)})
}

func (p *fileParser) parse(data []byte) *Suite {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var se *yaml.SyntaxError
		if errors.As(err, &se) && se.Token != nil && se.Token.Position != nil {
			line, col, what := yamlnode.SyntaxPos(data, se.Message, se.Token.Position.Line, se.Token.Position.Column)
			if what == "" {
				what = se.Message
			}
			p.problems = append(p.problems, mapper.Problem{File: p.file, Line: line, Col: col, What: "invalid YAML: " + what})
		} else {
			p.problems = append(p.problems, mapper.Problem{File: p.file, What: fmt.Sprintf("invalid YAML: %v", err)})
		}
		return nil
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		p.problems = append(p.problems, mapper.Problem{File: p.file, Line: 1, Col: 1, What: "expected one YAML document with source and cases"})
		return nil
	}
	top, ok := p.mapping(f.Docs[0].Body, "the test file")
	if !ok {
		return nil
	}
	s := &Suite{File: p.file, data: data}
	seen := map[string]bool{}
	var casesNode ast.Node
	for i, kv := range top.Values {
		key := yamlnode.Key(kv)
		if seen[key] {
			p.errAt(kv.Key, "duplicate key %q", key)
			continue
		}
		seen[key] = true
		v := yamlnode.Unwrap(kv.Value)
		switch key {
		case "source":
			s.Source, _ = p.str(v, "source")
		case "cases":
			casesNode = v
			if i+1 < len(top.Values) {
				s.end, _ = yamlnode.Pos(top.Values[i+1].Key)
			}
		case "description":
		default:
			p.errAt(kv.Key, "unknown key %q%s", key, mapper.DidYouMean(key, suiteKeys))
		}
	}
	if casesNode == nil {
		p.errAt(f.Docs[0].Body, "missing required key %q", "cases")
		return s
	}
	seq, ok := casesNode.(*ast.SequenceNode)
	if !ok {
		p.errAt(casesNode, "cases: expected a list of cases, got %s", yamlnode.Describe(casesNode))
		return s
	}
	if len(seq.Values) > MaxCases {
		p.errAt(seq, "cases: %d cases, over the limit of %d", len(seq.Values), MaxCases)
		return s
	}
	names := map[string]int{}
	for _, it := range seq.Values {
		c := p.testCase(it)
		if c == nil {
			continue
		}
		if prev, dup := names[c.Name]; dup {
			p.errAt(it, "case %q is already defined at line %d", c.Name, prev)
			continue
		}
		names[c.Name] = c.Line
		s.Cases = append(s.Cases, c)
	}
	return s
}

func (p *fileParser) testCase(n ast.Node) *Case {
	m, ok := p.mapping(n, "cases")
	if !ok {
		return nil
	}
	c := &Case{flowStyle: m.IsFlowStyle}
	c.Line, c.Col = yamlnode.Pos(m.Values[0].Key)
	bad := false
	seen := map[string]ast.Node{}
	var payloadLine ast.Node
	var d drift
	for _, kv := range m.Values {
		key := yamlnode.Key(kv)
		line, col := yamlnode.Pos(kv.Key)
		c.keys = append(c.keys, keyPos{name: key, line: line, col: col})
		if _, dup := seen[key]; dup {
			p.errAt(kv.Key, "duplicate key %q", key)
			bad = true
			continue
		}
		v := yamlnode.Unwrap(kv.Value)
		seen[key] = v
		switch key {
		case "name":
			c.Name, _ = p.str(v, "name")
		case "description", "payload", "payload_file":
			// payloads are read below, once the case's name is known
		case "payload_line":
			payloadLine = v
		case "delete":
			seq, ok := v.(*ast.SequenceNode)
			if !ok {
				p.errAt(v, "delete: expected a list of payload paths, got %s", yamlnode.Describe(v))
				bad = true
				break
			}
			for _, it := range seq.Values {
				if s, ok := p.str(yamlnode.Unwrap(it), "delete"); ok {
					d.del = append(d.del, posPath{s, it})
				} else {
					bad = true
				}
			}
		case "set":
			sm, ok := p.mapping(v, "set")
			if !ok {
				bad = true
				break
			}
			for _, skv := range sm.Values {
				lit, err := toJSON(skv.Value, 0)
				if err != nil {
					p.errAt(err.node, "set: %s", err.msg)
					bad = true
					continue
				}
				d.set = append(d.set, setOp{posPath{yamlnode.Key(skv), skv.Key}, lit})
			}
		case "topic":
			c.Topic, _ = p.str(v, "topic")
		case "source":
			c.Source, _ = p.str(v, "source")
		case "headers":
			c.Headers = p.headers(v)
		case "outcome":
			s, ok := p.str(v, "outcome")
			if !ok {
				bad = true
				break
			}
			o := mapper.Outcome(s)
			if o != mapper.OutcomeMapped && o != mapper.OutcomeDegraded && o != mapper.OutcomeRejected {
				p.errAt(v, "outcome: %q is not one of mapped, degraded, rejected%s", s,
					mapper.DidYouMean(s, []string{"mapped", "degraded", "rejected"}))
				bad = true
				break
			}
			c.Expect.Outcome = o
		case "failures":
			fs, ok := p.failures(v)
			bad = bad || !ok
			c.Expect.Failures = fs
		case "output", "output_subset":
			lit, err := toJSON(v, 0)
			if err != nil {
				p.errAt(err.node, "%s: %s", key, err.msg)
				bad = true
				break
			}
			c.Expect.Output, c.Expect.Subset = lit, key == "output_subset"
		default:
			p.errAt(kv.Key, "unknown key %q in a case%s", key, mapper.DidYouMean(key, caseKeys))
			bad = true
		}
	}
	if c.Name == "" {
		p.errAt(m, "a case needs a name")
		return nil
	}
	if seen["output"] != nil && seen["output_subset"] != nil {
		p.errAt(seen["output_subset"], "case %q: give output or output_subset, not both", c.Name)
		bad = true
	}
	if seen["source"] != nil && seen["topic"] == nil {
		p.errAt(seen["source"], "case %q: source names where topic routes the record; give topic too", c.Name)
		bad = true
	}
	inline, file := seen["payload"], seen["payload_file"]
	switch {
	case inline != nil && file != nil:
		p.errAt(file, "case %q: give payload or payload_file, not both", c.Name)
		bad = true
	case inline != nil:
		if payloadLine != nil {
			p.errAt(payloadLine, "case %q: payload_line goes with payload_file", c.Name)
			bad = true
		}
		c.Payload = p.inlinePayload(inline)
	case file != nil:
		c.Payload = p.filePayload(file, payloadLine)
	default:
		p.errAt(m, "case %q: needs payload or payload_file", c.Name)
		bad = true
	}
	if c.Payload == nil || bad {
		return nil
	}
	if len(d.del)+len(d.set) > 0 {
		out, err := d.apply(c.Payload)
		if err != nil {
			p.errAt(err.node, "case %q: %s", c.Name, err.msg)
			return nil
		}
		c.Payload = out
	}
	return c
}

// inlinePayload is a string's text as is (which can be anything, invalid
// JSON included), or a mapping or list as JSON.
func (p *fileParser) inlinePayload(n ast.Node) []byte {
	switch x := n.(type) {
	case *ast.StringNode:
		return []byte(x.Value)
	case *ast.LiteralNode:
		return []byte(x.Value.Value)
	}
	lit, err := toJSON(n, 0)
	if err != nil {
		p.errAt(err.node, "payload: %s", err.msg)
		return nil
	}
	return lit
}

const noPayloadFile = "no such file (paths are relative to the test file's directory)"

// MissingPayloadFile reports whether a problem of ParseFile is only that a
// payload_file does not exist where the test file is: the test file is
// well formed, but its cases cannot run from there (a copy of the rules
// directory without the payloads beside it).
func MissingPayloadFile(p mapper.Problem) bool {
	return strings.HasPrefix(p.What, "payload_file ") && strings.HasSuffix(p.What, noPayloadFile)
}

func (p *fileParser) filePayload(n, lineNode ast.Node) []byte {
	name, ok := p.str(n, "payload_file")
	if !ok {
		return nil
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, name)
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		p.errAt(n, "payload_file %q: %s", name, noPayloadFile)
		return nil
	}
	if err != nil {
		p.errAt(n, "payload_file %q: %v", name, errors.Unwrap(err))
		return nil
	}
	if st.Size() > MaxPayloadFileBytes {
		p.errAt(n, "payload_file %q is %d bytes, over the limit of %d", name, st.Size(), MaxPayloadFileBytes)
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		p.errAt(n, "payload_file %q: %v", name, err)
		return nil
	}
	if lineNode == nil {
		return data
	}
	want := 0
	if in, ok := lineNode.(*ast.IntegerNode); ok {
		want, _ = strconv.Atoi(yamlnode.Text(in))
	}
	if want < 1 {
		p.errAt(lineNode, "payload_line: expected a line number from 1, got %s", yamlnode.Describe(lineNode))
		return nil
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if want > len(lines) {
		p.errAt(lineNode, "payload_line %d: %q has %d lines", want, name, len(lines))
		return nil
	}
	return bytes.TrimRight(lines[want-1], "\r\n")
}

func (p *fileParser) headers(n ast.Node) []mapper.Header {
	m, ok := p.mapping(n, "headers")
	if !ok {
		return nil
	}
	var hs []mapper.Header
	for _, kv := range m.Values {
		v, ok := p.str(yamlnode.Unwrap(kv.Value), "headers."+yamlnode.Key(kv))
		if !ok {
			continue
		}
		hs = append(hs, mapper.Header{Key: yamlnode.Key(kv), Value: []byte(v)})
	}
	return hs
}

func (p *fileParser) failures(n ast.Node) ([]Failure, bool) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		p.errAt(n, "failures: expected a list of {reason, field}, got %s", yamlnode.Describe(n))
		return nil, false
	}
	var out []Failure
	good := true
	reasons := make([]string, 0, len(mapper.Reasons()))
	for _, r := range mapper.Reasons() {
		reasons = append(reasons, string(r))
	}
	for _, it := range seq.Values {
		m, ok := p.mapping(it, "failures")
		if !ok {
			good = false
			continue
		}
		var f Failure
		hasReason, reasonGiven := false, false
		for _, kv := range m.Values {
			v := yamlnode.Unwrap(kv.Value)
			switch k := yamlnode.Key(kv); k {
			case "reason":
				reasonGiven = true
				s, ok := p.str(v, "failures.reason")
				if !ok {
					good = false
					continue
				}
				if !mapper.Reason(s).Valid() {
					p.errAt(v, "failures.reason: unknown reason code %q%s", s, mapper.DidYouMean(s, reasons))
					good = false
					continue
				}
				f.Reason, hasReason = mapper.Reason(s), true
			case "field":
				f.Field, _ = p.str(v, "failures.field")
			case "detail":
				f.Detail, _ = p.str(v, "failures.detail")
				f.HasDetail = true
			default:
				p.errAt(kv.Key, "unknown key %q in a failure%s", k, mapper.DidYouMean(k, []string{"reason", "field", "detail"}))
				good = false
			}
		}
		if !hasReason {
			if !reasonGiven {
				p.errAt(it, "a failure needs a reason")
			}
			good = false
			continue
		}
		for _, g := range out {
			if g.Reason == f.Reason && g.Field == f.Field {
				p.errAt(it, "failure %s is listed twice", mapper.Category{Reason: f.Reason, Field: f.Field})
				good = false
			}
		}
		out = append(out, f)
	}
	return out, good
}

func (p *fileParser) mapping(n ast.Node, what string) (*ast.MappingNode, bool) {
	switch x := yamlnode.Unwrap(n).(type) {
	case *ast.MappingNode:
		if len(x.Values) > 0 {
			return x, true
		}
	case *ast.MappingValueNode:
		return &ast.MappingNode{BaseNode: x.BaseNode, Values: []*ast.MappingValueNode{x}}, true
	}
	p.errAt(n, "%s: expected a mapping, got %s", what, yamlnode.Describe(yamlnode.Unwrap(n)))
	return nil, false
}

func (p *fileParser) str(n ast.Node, what string) (string, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.LiteralNode:
		return x.Value.Value, true
	}
	p.errAt(n, "%s: expected a string, got %s", what, yamlnode.Describe(n))
	return "", false
}

// stem is NAME for NAME.test.yaml.
func stem(file string) string {
	base := filepath.Base(file)
	for _, ext := range []string{".test.yaml", ".test.yml"} {
		if strings.HasSuffix(base, ext) {
			return strings.TrimSuffix(base, ext)
		}
	}
	return strings.TrimSuffix(base, filepath.Ext(base))
}

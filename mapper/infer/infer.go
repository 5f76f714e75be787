package infer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Options tunes the schema. The zero value gives the defaults below.
type Options struct {
	// RequiredShare is the share of an object's occurrences a property
	// must be present in to be required. Zero means 1 (present in every
	// one); 0.95 requires those present in nearly all.
	RequiredShare float64
	// MaxEnum is the most distinct values a string field may have to get
	// an enum, whatever the evidence; it also bounds the distinct values
	// tracked per field. Zero means 16; negative means no enums.
	MaxEnum int
	// MinEnumValues is how many string values a field needs before it may
	// get an enum: a few records prove nothing about a closed set. Zero
	// means 20.
	MinEnumValues int
	// MinEnumRepeats is how many times every distinct value must have been
	// seen: a value seen once says the set is still open. Zero means 2.
	MinEnumRepeats int
	// Closed sets additionalProperties false on every object. The default
	// leaves objects open: a field added later must not reject a record.
	Closed bool
	// MaxDepth bounds the nesting read; deeper values are typed but not
	// described. Zero means 32.
	MaxDepth int
	// MaxProperties bounds the properties tracked per object path. Zero
	// means 1000.
	MaxProperties int
}

func (o Options) withDefaults() Options {
	if o.RequiredShare <= 0 || o.RequiredShare > 1 {
		o.RequiredShare = 1
	}
	if o.MaxEnum == 0 {
		o.MaxEnum = 16
	}
	if o.MinEnumValues <= 0 {
		o.MinEnumValues = 20
	}
	if o.MinEnumRepeats <= 0 {
		o.MinEnumRepeats = 2
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 32
	}
	if o.MaxProperties <= 0 {
		o.MaxProperties = 1000
	}
	return o
}

type kind int

const (
	kNull kind = iota
	kBool
	kInteger
	kNumber
	kString
	kObject
	kArray
	nKinds
)

var kindNames = [nKinds]string{"null", "boolean", "integer", "number", "string", "object", "array"}

type node struct {
	kinds   [nKinds]int
	strs    map[string]int // nil once past the enum limit
	strN    int
	notDate bool
	notMail bool
	notUUID bool
	props   map[string]*node
	objects int
	items   *node
}

// Inferrer accumulates payloads. Its zero value is not usable: call New.
// It is not safe for concurrent use.
type Inferrer struct {
	opts    Options
	root    *node
	records int
}

// New returns an Inferrer with opts.
func New(opts Options) *Inferrer {
	return &Inferrer{opts: opts.withDefaults(), root: &node{}}
}

// Records is how many payloads were added.
func (in *Inferrer) Records() int { return in.records }

// ErrNotObject is returned by Add for a payload that is JSON but not an
// object.
var ErrNotObject = errors.New("payload is not a JSON object")

// Add takes one payload. A payload that is not a JSON object is refused
// with an error and leaves the Inferrer as it was.
func (in *Inferrer) Add(payload []byte) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("payload is not JSON: %w", err)
	}
	if dec.More() {
		return errors.New("payload holds more than one JSON value")
	}
	if _, ok := v.(map[string]any); !ok {
		return ErrNotObject
	}
	in.records++
	in.add(in.root, v, 0)
	return nil
}

// The format checks are the validator's own, so that an inferred format
// always accepts the values it was inferred from.
var (
	isDateTime = jsonschema.Formats["date-time"]
	isEmail    = jsonschema.Formats["email"]
	isUUID     = jsonschema.Formats["uuid"]
)

func (in *Inferrer) add(n *node, v any, depth int) {
	switch x := v.(type) {
	case nil:
		n.kinds[kNull]++
	case bool:
		n.kinds[kBool]++
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			n.kinds[kNumber]++
		} else {
			n.kinds[kInteger]++
		}
	case string:
		n.kinds[kString]++
		n.strN++
		if n.strN == 1 {
			n.strs = map[string]int{}
		}
		if n.strs != nil {
			n.strs[x]++
			if in.opts.MaxEnum < 0 || len(n.strs) > in.opts.MaxEnum {
				n.strs = nil
			}
		}
		n.notDate = n.notDate || !isDateTime(x)
		n.notMail = n.notMail || !isEmail(x)
		n.notUUID = n.notUUID || !isUUID(x)
	case map[string]any:
		n.kinds[kObject]++
		n.objects++
		if depth >= in.opts.MaxDepth {
			return
		}
		if n.props == nil {
			n.props = map[string]*node{}
		}
		for k, fv := range x {
			c := n.props[k]
			if c == nil {
				if len(n.props) >= in.opts.MaxProperties {
					continue
				}
				c = &node{}
				n.props[k] = c
			}
			in.add(c, fv, depth+1)
		}
	case []any:
		n.kinds[kArray]++
		if depth >= in.opts.MaxDepth {
			return
		}
		if n.items == nil {
			n.items = &node{}
		}
		for _, e := range x {
			in.add(n.items, e, depth+1)
		}
	}
}

func (n *node) total() int {
	t := 0
	for _, c := range n.kinds {
		t += c
	}
	return t
}

// Schema returns the inferred schema as a JSON Schema (draft 07) document.
// title names it when not empty.
func (in *Inferrer) Schema(title string) map[string]any {
	s := in.schema(in.root, "")
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	if title != "" {
		s["title"] = title
	}
	s["description"] = fmt.Sprintf("Inferred by mapper infer from %d payloads; review before use.", in.records)
	return s
}

// enumValues returns the enum n's strings earn, or nil: at least
// MinEnumValues strings, at least two distinct values and no more than
// MaxEnum nor the square root of the strings seen, every value seen at
// least MinEnumRepeats times and shaped like a code (codeLike). A value
// seen once, or nearly as many values as records, says the set is open: a
// one-value "enum" from three records would reject the next currency.
func (in *Inferrer) enumValues(n *node, key string) []string {
	d := len(n.strs)
	if n.strs == nil || d < 2 || identifierKey(key) || n.strN < in.opts.MinEnumValues || d*d > n.strN {
		return nil
	}
	keys := make([]string, 0, d)
	for v, c := range n.strs {
		if c < in.opts.MinEnumRepeats || !codeLike(v) {
			return nil
		}
		keys = append(keys, v)
	}
	sort.Strings(keys)
	return keys
}

// identifierKey reports whether a property's name says its values are
// identifiers or references, which name an open set however few of them a
// capture shows (one organization's login in every payload): id, login,
// sha, uuid, email, url, and names ending in _id, Id, _url or Url.
func identifierKey(key string) bool {
	switch strings.ToLower(key) {
	case "id", "login", "sha", "uuid", "email", "url":
		return true
	}
	for _, suf := range []string{"_id", "Id", "_url", "Url"} {
		if strings.HasSuffix(key, suf) {
			return true
		}
	}
	return false
}

// codeLike reports whether v looks like a member of a closed set (a
// status, a currency, a kind) rather than text or a reference: at most 64
// bytes, no link ("://"), no control character, at most two spaces.
func codeLike(v string) bool {
	if len(v) > 64 || strings.Contains(v, "://") || strings.Count(v, " ") > 2 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 {
			return false
		}
	}
	return true
}

// format returns the format every string of n has ("" for none).
func (n *node) format() string {
	if n.kinds[kString] == 0 {
		return ""
	}
	switch {
	case !n.notDate:
		return "date-time"
	case !n.notUUID:
		return "uuid"
	case !n.notMail:
		return "email"
	}
	return ""
}

// nullOnly reports whether every value of n was null.
func (n *node) nullOnly() bool { return n.kinds[kNull] > 0 && n.kinds[kNull] == n.total() }

// types lists the JSON types of n's values, integers folded into numbers
// when both were seen.
func (n *node) types() []string {
	var types []string
	for k := kind(0); k < nKinds; k++ {
		if n.kinds[k] == 0 {
			continue
		}
		if k == kInteger && n.kinds[kNumber] > 0 {
			continue // integers are numbers
		}
		types = append(types, kindNames[k])
	}
	return types
}

// nullOnlyNote is the description of a property seen only as null.
func nullOnlyNote(n int) string {
	return "Only null seen (" + times(n) + "): no type inferred; give it the type its values will have."
}

// times says how often: "once", "2 times".
func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

func (in *Inferrer) schema(n *node, key string) map[string]any {
	s := map[string]any{}
	if n.nullOnly() {
		// One type seen is "null": typing it so would reject the first
		// real value. Leave it open and say so.
		s["description"] = nullOnlyNote(n.kinds[kNull])
		return s
	}
	types := n.types()
	switch len(types) {
	case 0:
	case 1:
		s["type"] = types[0]
	default:
		s["type"] = types
	}
	if f := n.format(); f != "" {
		s["format"] = f
	} else if keys := in.enumValues(n, key); keys != nil && (len(types) == 1 || len(types) == 2 && n.kinds[kNull] > 0) {
		vals := make([]any, 0, len(keys)+1)
		for _, k := range keys {
			vals = append(vals, k)
		}
		if n.kinds[kNull] > 0 {
			vals = append(vals, nil)
		}
		s["enum"] = vals
	}
	if n.kinds[kObject] > 0 {
		props := map[string]any{}
		var required []string
		for k, c := range n.props {
			props[k] = in.schema(c, k)
			if float64(c.total()) >= in.opts.RequiredShare*float64(n.objects)-1e-9 {
				required = append(required, k)
			}
		}
		s["properties"] = props
		if len(required) > 0 {
			sort.Strings(required)
			s["required"] = required
		}
		if in.opts.Closed {
			s["additionalProperties"] = false
		}
	}
	if n.kinds[kArray] > 0 && n.items != nil && n.items.total() > 0 {
		s["items"] = in.schema(n.items, key)
	}
	return s
}

// NullOnly lists the paths ("a.b", "items[].c") whose every value was
// null, sorted: the schema leaves them without a type.
func (in *Inferrer) NullOnly() []string {
	var out []string
	var walk func(n *node, path string)
	walk = func(n *node, path string) {
		if n.nullOnly() {
			out = append(out, path)
			return
		}
		for k, c := range n.props {
			p := k
			if path != "" {
				p = path + "." + k
			}
			walk(c, p)
		}
		if n.items != nil {
			walk(n.items, path+"[]")
		}
	}
	walk(in.root, "")
	sort.Strings(out)
	return out
}

// JSON returns the schema as indented JSON with sorted keys, ending in a
// newline: the same payloads give the same bytes.
func (in *Inferrer) JSON(title string) ([]byte, error) {
	b, err := json.MarshalIndent(in.Schema(title), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Field is a top-level scalar property, for a starter rules file.
type Field struct {
	Name     string
	Required bool
	// Timestamp is set when every value was an RFC 3339 date-time.
	Timestamp bool
}

// TopScalars lists the top-level properties whose values were only
// scalars (and nulls), sorted by name.
func (in *Inferrer) TopScalars() []Field {
	var out []Field
	for k, c := range in.root.props {
		if c.kinds[kObject]+c.kinds[kArray] > 0 || c.nullOnly() {
			continue
		}
		out = append(out, Field{
			Name:      k,
			Required:  float64(c.total()-c.kinds[kNull]) >= in.opts.RequiredShare*float64(in.root.objects)-1e-9,
			Timestamp: c.format() == "date-time",
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

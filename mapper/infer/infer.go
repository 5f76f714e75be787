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
	// an enum. Zero means 8; negative means no enums.
	MaxEnum int
	// MinEnumRecords is how many values a string field needs, at least
	// per distinct value, before it gets an enum (few records prove
	// nothing about cardinality). Zero means 3.
	MinEnumRecords int
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
		o.MaxEnum = 8
	}
	if o.MinEnumRecords <= 0 {
		o.MinEnumRecords = 3
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
	s := in.schema(in.root)
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	if title != "" {
		s["title"] = title
	}
	s["description"] = fmt.Sprintf("Inferred by mapper infer from %d payloads; review before use.", in.records)
	return s
}

func (in *Inferrer) schema(n *node) map[string]any {
	s := map[string]any{}
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
	switch len(types) {
	case 0:
	case 1:
		s["type"] = types[0]
	default:
		s["type"] = types
	}
	if n.kinds[kString] > 0 {
		switch {
		case !n.notDate:
			s["format"] = "date-time"
		case !n.notUUID:
			s["format"] = "uuid"
		case !n.notMail:
			s["format"] = "email"
		}
		if n.strs != nil && len(n.strs) > 0 && n.strN >= in.opts.MinEnumRecords*len(n.strs) && s["format"] == nil {
			vals := make([]any, 0, len(n.strs)+1)
			keys := make([]string, 0, len(n.strs))
			for v := range n.strs {
				keys = append(keys, v)
			}
			sort.Strings(keys)
			for _, k := range keys {
				vals = append(vals, k)
			}
			if n.kinds[kNull] > 0 {
				vals = append(vals, nil)
			}
			if len(types) == 1 || (len(types) == 2 && n.kinds[kNull] > 0) {
				s["enum"] = vals
			}
		}
	}
	if n.kinds[kObject] > 0 {
		props := map[string]any{}
		var required []string
		for k, c := range n.props {
			props[k] = in.schema(c)
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
		s["items"] = in.schema(n.items)
	}
	return s
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
		if c.kinds[kObject]+c.kinds[kArray] > 0 || c.total() == c.kinds[kNull] {
			continue
		}
		out = append(out, Field{
			Name:      k,
			Required:  float64(c.total()-c.kinds[kNull]) >= in.opts.RequiredShare*float64(in.root.objects)-1e-9,
			Timestamp: c.kinds[kString] > 0 && !c.notDate,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

package mapper

import (
	"fmt"
	"strings"
)

// InputEnum is an enum keyword of a source's input schema that restricts
// the values at a field: where it is written and what it allows.
type InputEnum struct {
	// File is the schema file holding the keyword, relative to the schemas
	// directory (slash-separated).
	File string
	// Pointer is the JSON pointer, within File, of the schema object whose
	// enum keyword it is ("" for the file's root schema).
	Pointer string
	// Values are the values the enum allows, as enum table keys read them.
	Values []string
}

// InputEnums lists the enum keywords of the source's input schema that
// apply to the values at field (a normalised path: "issue.state",
// "items[].kind"), following allOf and $ref. It returns none when the
// source has no input schema or the schema does not restrict the field by
// enum. A const at the field is an error: its one value cannot be extended.
// Safe for concurrent use.
func (s *Source) InputEnums(field string) ([]InputEnum, error) {
	in := s.plan.input
	if in == nil {
		return nil, nil
	}
	steps, err := parseFieldPath(field)
	if err != nil {
		return nil, fmt.Errorf("input enums of %s: %w", field, err)
	}
	segs := make([]string, len(steps))
	for i, st := range steps {
		segs[i] = st.key
		if st.elem {
			segs[i] = "[]"
		}
	}
	v := viewAt([]*checkNode{in.check}, "", segs)
	var out []InputEnum
	for _, n := range v.nodes {
		switch {
		case n.constVal != nil:
			return nil, fmt.Errorf("input enums of %s: the input schema fixes it with const %q at %s", field, n.constVal.text(), in.locs[n])
		case n.hasEnum:
			file, ptr, _ := strings.Cut(in.locs[n], "#")
			e := InputEnum{File: file, Pointer: ptr}
			for _, ev := range n.enum {
				e.Values = append(e.Values, ev.text())
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// InputNode is a schema object of a source's input schema that applies at
// a field: where it is written and what it says of the value there.
type InputNode struct {
	// File is the schema file holding the object, relative to the schemas
	// directory (slash-separated); Pointer its JSON pointer within File.
	File, Pointer string
	// Types are the JSON type names its type keyword allows (none when it
	// has no type keyword).
	Types []string
	// Required lists the properties it requires; Properties those it
	// describes; Closed says additionalProperties is false.
	Required, Properties []string
	Closed               bool
	// Format is its format keyword ("" when none).
	Format string
}

// InputNodes lists the schema objects of the source's input schema that
// apply to the value at field (a normalised path, "" for the payload),
// following allOf and $ref, in the order the schema applies them. None
// when the source has no input schema or the schema is silent about the
// field. Safe for concurrent use.
func (s *Source) InputNodes(field string) ([]InputNode, error) {
	return schemaNodes(s.plan.input, field)
}

// OutputNodes is InputNodes for the source's output (domain) schema: the
// schema objects that apply to the output field (a normalised output
// path, "" for the record).
func (s *Source) OutputNodes(field string) ([]InputNode, error) {
	return schemaNodes(s.plan.output, field)
}

func schemaNodes(in *schema, field string) ([]InputNode, error) {
	if in == nil || in.check == nil {
		return nil, nil
	}
	var segs []string
	if field != "" {
		steps, err := parseFieldPath(field)
		if err != nil {
			return nil, fmt.Errorf("schema at %s: %w", field, err)
		}
		segs = make([]string, len(steps))
		for i, st := range steps {
			segs[i] = st.key
			if st.elem {
				segs[i] = "[]"
			}
		}
	}
	v := viewAt([]*checkNode{in.check}, "", segs)
	var out []InputNode
	for _, n := range v.nodes {
		file, ptr, _ := strings.Cut(in.locs[n], "#")
		node := InputNode{File: file, Pointer: ptr, Required: append([]string(nil), n.required...), Closed: n.noAdditonal, Format: n.formatName}
		if n.types != 0 {
			node.Types = strings.Split(typeList(n.types), " or ")
		}
		for _, p := range n.props {
			node.Properties = append(node.Properties, p.name)
		}
		out = append(out, node)
	}
	return out, nil
}

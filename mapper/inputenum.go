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

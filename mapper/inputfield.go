package mapper

// InputField is what a source's input schema says of the values at one
// field: what a drift report compares the traffic against.
type InputField struct {
	// Known is true when the input schema describes the field: a property
	// of its parent, or the parent's additionalProperties schema. False
	// when the source has no input schema or the schema is silent there.
	Known bool
	// Required is true when an object schema holding the field lists it in
	// required.
	Required bool
	// Types are the JSON types the schema allows there ("null", "boolean",
	// "integer", "number", "string", "array", "object"); empty when it
	// does not restrict the type.
	Types []string
	// Enum is true when an enum or const restricts the values there.
	Enum bool
}

// InputField reads the source's input schema at field, a normalised path
// ("issue.state", "items[].sku"), following allOf and $ref. A field that
// cannot be parsed, or a source without an input schema, gives the zero
// InputField. It walks the schema (it allocates): call it once per field
// and keep the answer, not per record. Safe for concurrent use.
func (s *Source) InputField(field string) InputField {
	in := s.plan.input
	if in == nil {
		return InputField{}
	}
	steps, err := parseFieldPath(field)
	if err != nil || len(steps) == 0 {
		return InputField{}
	}
	segs := make([]string, len(steps))
	for i, st := range steps {
		segs[i] = st.key
		if st.elem {
			segs[i] = "[]"
		}
	}
	root := []*checkNode{in.check}
	v := viewAt(root, "", segs)
	var out InputField
	if last := steps[len(steps)-1]; !last.elem {
		parent := viewAt(root, "", segs[:len(segs)-1])
		for _, n := range parent.nodes {
			for _, r := range n.required {
				if r == last.key {
					out.Required = true
				}
			}
		}
	}
	if len(v.nodes) == 0 {
		return out
	}
	out.Known = true
	for _, b := range []jsonType{tNull, tBool, tInteger, tNumber, tString, tArray, tObject} {
		if v.types&b != 0 {
			out.Types = append(out.Types, typeName(b))
		}
	}
	for _, n := range v.nodes {
		if n.hasEnum || n.constVal != nil {
			out.Enum = true
		}
	}
	return out
}

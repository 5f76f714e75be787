package suggest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// optionalEdits drops field's name from the required list of each schema
// object of its parent that requires it.
func optionalEdits(src *mapper.Source, field string) []SchemaEdit {
	parent, name := parentOf(field)
	nodes, _ := src.InputNodes(parent)
	var out []SchemaEdit
	for _, n := range nodes {
		if slices.Contains(n.Required, name) {
			out = append(out, SchemaEdit{File: n.File, Pointer: n.Pointer, Op: "optional", Name: name})
		}
	}
	return out
}

// optionalSuggestion is contract_optional: a field no rule reads arrives
// absent, so the input schema stops requiring it.
func optionalSuggestion(src *mapper.Source, field string) (*Suggestion, string) {
	edits := optionalEdits(src, field)
	if len(edits) == 0 {
		return nil, field + " is required by the rules' own reading, not by a required list of the input schema"
	}
	s := &Suggestion{Kind: KindContractOptional, Field: field, SchemaEdits: edits}
	var parts []string
	for _, e := range edits {
		parts = append(parts, fmt.Sprintf("%s#%s", e.File, e.Pointer))
	}
	s.Edit = fmt.Sprintf("input schema %s: %s no longer required (no rule reads it and it arrives absent)", strings.Join(parts, ", "), field)
	return s, ""
}

// nullContract adds null to the type keywords at field that lack it.
func nullContract(src *mapper.Source, field string, kind Kind, why string) (*Suggestion, string) {
	return widenContract(src, field, map[string]int{"null": 1}, kind, why)
}

// widenContract adds the types seen at field to the input schema's type
// keywords there that lack them.
func widenContract(src *mapper.Source, field string, seen map[string]int, kind Kind, why string) (*Suggestion, string) {
	nodes, _ := src.InputNodes(field)
	s := &Suggestion{Kind: kind, Field: field}
	for _, n := range nodes {
		if len(n.Types) == 0 {
			continue
		}
		var add []string
		for _, t := range sortedKeys(seen) {
			if !slices.Contains(n.Types, t) && !(t == "integer" && slices.Contains(n.Types, "number")) {
				add = append(add, t)
			}
		}
		if len(add) > 0 {
			s.SchemaEdits = append(s.SchemaEdits, SchemaEdit{File: n.File, Pointer: n.Pointer, Op: "type", Add: add})
			s.Edit = joinEdit(s.Edit, fmt.Sprintf("input schema %s#%s type: add %s", n.File, n.Pointer, flowList(add)))
		}
	}
	if len(s.SchemaEdits) == 0 {
		return nil, fmt.Sprintf("the input schema's types at %s already allow what arrives", field)
	}
	if why != "" {
		s.Edit += " (" + why + ")"
	}
	return s, ""
}

func joinEdit(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// propertySuggestion is contract_property for a property the input schema
// does not know: added to the closed schema object of its parent with the
// types its values show (null included), and a format when every value
// has it. Values at redacted paths give their type only.
func propertySuggestion(in Input, ev *evidence, field string, ss []*samples.Sample) (*Suggestion, string) {
	if strings.Contains(field, "[]") {
		return nil, field + " is inside an array: add it to the input schema by hand"
	}
	target, name, why := propertyTarget(in.Source, field)
	if target == nil {
		return nil, why
	}
	types := map[string]int{}
	var strs []string
	for _, s := range ev.all {
		v, ok := lookup(ev.docs[s], field)
		if !ok {
			continue
		}
		types[jsonType(v)]++
		if str, ok := v.(string); ok && !in.Source.IsRedacted(field) {
			strs = append(strs, str)
		}
	}
	if len(types) == 0 {
		return nil, "no kept payload carries " + field
	}
	if types["integer"] > 0 && types["number"] > 0 {
		delete(types, "integer")
	}
	tl := sortedKeys(types)
	schema := map[string]any{}
	if len(tl) == 1 {
		schema["type"] = tl[0]
	} else {
		schema["type"] = tl
	}
	if f := formatOf(strs); f != "" && types["string"] > 0 {
		schema["format"] = f
	}
	raw, _ := json.Marshal(schema)
	s := &Suggestion{Kind: KindContractProperty, Field: field,
		SchemaEdits: []SchemaEdit{{File: target.File, Pointer: target.Pointer, Op: "property", Name: name, Schema: raw}},
		Edit:        fmt.Sprintf("input schema %s#%s: add property %s %s (as %d kept samples show it)", target.File, target.Pointer, name, spaced(raw), count(types))}
	return s, ""
}

// propertyTarget is the closed schema object of field's parent that lacks
// it, and the property's name; else why there is none.
func propertyTarget(src *mapper.Source, field string) (*mapper.InputNode, string, string) {
	parent, name := parentOf(field)
	nodes, _ := src.InputNodes(parent)
	for i := range nodes {
		if nodes[i].Closed && !slices.Contains(nodes[i].Properties, name) {
			return &nodes[i], name, ""
		}
	}
	return nil, name, "no closed schema object at " + orPayload(parent) + " to add " + name + " to"
}

// propertyOfUnknownType is contract_property with an empty schema (any
// value): a property the traffic shows whose values no kept payload
// carries.
func propertyOfUnknownType(src *mapper.Source, field string) (*Suggestion, string) {
	if strings.Contains(field, "[]") {
		return nil, field + " is inside an array: add it to the input schema by hand"
	}
	target, name, why := propertyTarget(src, field)
	if target == nil {
		return nil, why
	}
	return &Suggestion{Kind: KindContractProperty, Field: field,
		SchemaEdits: []SchemaEdit{{File: target.File, Pointer: target.Pointer, Op: "property", Name: name, Schema: []byte("{}")}},
		Edit:        fmt.Sprintf("input schema %s#%s: add property %s {} (any value: its type is for a person to give)", target.File, target.Pointer, name)}, ""
}

func count(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// formatOf is the JSON Schema format every value has: date-time or uri.
func formatOf(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	dt, uri := true, true
	for _, v := range vals {
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			dt = false
		}
		if u, err := url.Parse(v); err != nil || u.Scheme == "" || u.Host == "" {
			uri = false
		}
	}
	switch {
	case dt:
		return "date-time"
	case uri:
		return "uri"
	}
	return ""
}

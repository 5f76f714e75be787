package suggest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/mapperhq/mapper/mapper/infer"
	"github.com/mapperhq/mapper/mapper/samples"
)

// newStarter builds the starter source of a group: the input schema from
// infer over the group's structural profile, fields mapping the top-level
// scalars as they are, an output schema that takes exactly those, and
// redact paths guessed from key names. It returns what a person must
// review.
func newStarter(g samples.ShapeGroup, name string) (*Starter, []string, error) {
	var paths []infer.PathTypes
	types := map[string]map[string]uint64{}
	hidden := 0
	for _, p := range g.Paths {
		if hasOtherKey(p.Path) {
			hidden++
			continue
		}
		paths = append(paths, infer.PathTypes{Path: p.Path, Types: p.Types})
		types[p.Path] = p.Types
	}
	in := infer.New(infer.Options{})
	if err := in.AddStructure(g.Objects, paths); err != nil {
		return nil, nil, err
	}
	what := groupText(g)
	st := &Starter{
		Source:           name,
		RuleFile:         name + ".yaml",
		InputSchemaFile:  name + ".input.json",
		OutputSchemaFile: name + ".v1.json",
	}
	schema := in.Schema(name + " (starter)")
	desc := fmt.Sprintf("Starter input schema written by mapper suggest from the structure of the %s that no source accepted: "+
		"the types and required properties their payloads showed. No value of theirs was kept, so there is no enum and no format: add them. Review before use.",
		strings.TrimPrefix(what, fmt.Sprintf("%d ", g.Records)))
	if n := g.PathsDropped + g.TooDeep; n > 0 || hidden > 0 {
		desc += " Some of the structure was not profiled (paths past the profile's bounds, or keys that are not names): objects stay open."
	}
	schema["description"] = desc
	var err error
	if st.InputSchema, err = marshalSchema(schema); err != nil {
		return nil, nil, err
	}
	outProps := map[string]any{}
	var outRequired []string
	var fields strings.Builder
	for _, f := range in.TopScalars() {
		ts := types[f.Name]
		nullable := ts["null"] > 0
		rule := []string{"from: " + yamlScalar(f.Name)}
		if f.Required {
			rule = append(rule, "required: true")
			outRequired = append(outRequired, f.Name)
		}
		if nullable {
			rule = append(rule, "nullable: true")
		}
		fmt.Fprintf(&fields, "  %s: { %s }\n", yamlScalar(f.Name), strings.Join(rule, ", "))
		outProps[f.Name] = map[string]any{"type": scalarTypes(ts, nullable)}
		st.Fields = append(st.Fields, f.Name)
	}
	if len(st.Fields) == 0 {
		return nil, nil, fmt.Errorf("the payloads have no top-level scalar to map")
	}
	out := map[string]any{
		"$schema":              "http://json-schema.org/draft-07/schema#",
		"title":                name + " (starter)",
		"description":          "Starter output schema written by mapper suggest: the top-level scalars of the input, as they are. TODO: replace it with the domain schema these records map to.",
		"type":                 "object",
		"properties":           outProps,
		"additionalProperties": false,
	}
	if len(outRequired) > 0 {
		out["required"] = outRequired
	}
	if st.OutputSchema, err = marshalSchema(out); err != nil {
		return nil, nil, err
	}
	st.Redact = guessRedact(g.Paths)
	st.Rules = starterRules(g, st, fields.String())
	review := []string{
		"the starter was inferred from a structural profile (paths, JSON types and presence counts; no value was kept): its input schema has types and required properties but no enum and no format",
		fmt.Sprintf("its fields map the %s as they are into a starter output schema (%s): write the domain schema and the real mapping", fieldsText(st.Fields), st.OutputSchemaFile),
	}
	if len(st.Redact) > 0 {
		review = append(review, "redact paths guessed from key names ("+strings.Join(st.Redact, ", ")+"): add every path of personal data before it runs, or its samples keep them")
	} else {
		review = append(review, "no key name suggested personal data: list the redact paths before it runs, or its samples keep them")
	}
	return st, review, nil
}

// starterRules is the starter's rule file.
func starterRules(g samples.ShapeGroup, st *Starter, fields string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Starter source written by `mapper suggest --source unrouted` for the %s that no source accepted.\n", groupText(g))
	b.WriteString("# REVIEW before shipping. It was inferred from a structural profile of those records (the paths of\n")
	b.WriteString("# their payloads, JSON types and how often each is present), never from their values, which are not\n")
	b.WriteString("# kept for records no source accepts: the input schema has types and required properties, but no\n")
	b.WriteString("# enums and no formats, and the fields below map each top-level scalar as it is.\n")
	fmt.Fprintf(&b, "source: %s\nversion: 1\n", st.Source)
	fmt.Fprintf(&b, "topics: [%s]\n", yamlScalar(g.Topic))
	if len(g.Routing) > 0 {
		b.WriteString("accept:\n")
		for _, r := range g.Routing {
			fmt.Fprintf(&b, "  - { header: %s, in: [%s] }\n", yamlScalar(r.Header), yamlScalar(r.Value))
		}
	}
	fmt.Fprintf(&b, "input_schema: %s   # TODO: add the enums and formats the values have\n", st.InputSchemaFile)
	fmt.Fprintf(&b, "output_schema: %s   # TODO: the domain schema these records map to\n", st.OutputSchemaFile)
	b.WriteString("fields:   # TODO: rename, transform (timestamp, int, …), and map the nested fields you need\n")
	b.WriteString(fields)
	if len(st.Redact) > 0 {
		fmt.Fprintf(&b, "redact: %s   # TODO: guessed from key names; add every path of personal data\n", flowList(st.Redact))
	} else {
		b.WriteString("# redact: [PATH, …]   TODO: no key name suggested personal data; list its paths before this source keeps samples\n")
	}
	return []byte(b.String())
}

// hasOtherKey reports whether a profile path holds a key the profile did
// not keep (samples.OtherKey).
func hasOtherKey(p string) bool {
	for _, part := range strings.Split(p, ".") {
		if strings.TrimRight(part, "[]") == samples.OtherKey {
			return true
		}
	}
	return false
}

// scalarTypes is the output type of a scalar field: the JSON types seen
// (integers folded into numbers when both were), null added when
// nullable.
func scalarTypes(ts map[string]uint64, nullable bool) any {
	var out []string
	for _, t := range []string{"boolean", "integer", "number", "string"} {
		if ts[t] == 0 || t == "integer" && ts["number"] > 0 {
			continue
		}
		out = append(out, t)
	}
	if nullable {
		out = append(out, "null")
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

// piiWords are key names (whole, or as the last word of one: billing_email)
// that hold personal data as a rule.
var piiWords = []string{"email", "mail", "phone", "mobile", "address", "name", "login", "username", "ip", "password", "token", "secret", "ssn", "birthdate", "dob"}

// guessRedact lists the profile's paths whose key names say personal data,
// the outermost only (masking a path masks what is inside it).
func guessRedact(paths []samples.ShapePath) []string {
	var out []string
	for _, p := range paths {
		if hasOtherKey(p.Path) {
			continue
		}
		key := p.Path[strings.LastIndexByte(p.Path, '.')+1:]
		key = strings.ToLower(strings.TrimRight(key, "[]"))
		if !piiKey(key) {
			continue
		}
		path := strings.TrimSuffix(p.Path, strings.Repeat("[]", strings.Count(p.Path[strings.LastIndexByte(p.Path, '.')+1:], "[]")))
		inside := false
		for _, o := range out {
			inside = inside || path == o || strings.HasPrefix(path, o+".") || strings.HasPrefix(path, o+"[]")
		}
		if !inside {
			out = append(out, path)
		}
	}
	sort.Strings(out)
	return out
}

func piiKey(key string) bool {
	for _, w := range []string{"email", "phone", "password"} {
		if strings.Contains(key, w) {
			return true
		}
	}
	words := strings.FieldsFunc(key, func(r rune) bool { return r == '_' || r == '-' })
	if len(words) == 0 {
		return false
	}
	last := words[len(words)-1]
	for _, w := range piiWords {
		if key == w || last == w {
			return true
		}
	}
	return false
}

// marshalSchema is a schema document as indented JSON with sorted keys and
// a final newline.
func marshalSchema(doc map[string]any) ([]byte, error) {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

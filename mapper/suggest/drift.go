package suggest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/samples"
)

// Traffic is the drift report's evidence for a contract edit: one entry of
// the source's live drift report, counted over all its records (the
// samples keep a bounded few).
type Traffic struct {
	Kind drift.Kind `json:"kind"`
	Path string     `json:"path"`
	// Count is the records that showed the drift, of Records observed.
	Count   uint64  `json:"count"`
	Records uint64  `json:"records"`
	Share   float64 `json:"share"`
	// Types (new_type) are the JSON types seen outside the schema's.
	Types []string `json:"types,omitempty"`
}

func trafficOf(e drift.Entry, records uint64) *Traffic {
	t := &Traffic{Kind: e.Kind, Path: e.Path, Count: e.Count, Records: records, Share: e.Share}
	for _, tc := range e.Types {
		t.Types = append(t.Types, tc.Type)
	}
	return t
}

// String is the evidence as suggest prints it: "absent in 412 of 1030
// records (40%), drift report", "object in 97 of 1030 records (9%), drift
// report".
func (t Traffic) String() string {
	what := map[drift.Kind]string{
		drift.KindNewProperty:    "seen",
		drift.KindAbsentRequired: "absent",
		drift.KindNewType:        "of another type",
		drift.KindNewEnumValue:   "outside the enum",
	}[t.Kind]
	if t.Kind == drift.KindNewType && len(t.Types) > 0 {
		what = strings.Join(t.Types, " or ")
	}
	return fmt.Sprintf("%s in %d of %d records (%s), drift report", what, t.Count, t.Records, percent(t.Share))
}

func percent(f float64) string {
	if f > 0 && f < 0.01 {
		return "<1%"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

// driftCategory is the failure category a drift entry's records show.
func driftCategory(k drift.Kind, path string) string {
	r := map[drift.Kind]mapper.Reason{
		drift.KindNewProperty:    mapper.ReasonUnexpectedField,
		drift.KindAbsentRequired: mapper.ReasonMissingField,
		drift.KindNewType:        mapper.ReasonTypeMismatch,
		drift.KindNewEnumValue:   mapper.ReasonUnknownEnum,
	}[k]
	return string(r) + ":" + path
}

// driftEntry is the drift report's entry for a failure category: a
// type_mismatch or null_field is a new_type, and so on. ok is false with
// no report or no such entry.
func driftEntry(r *drift.Report, cat string) (drift.Entry, bool) {
	if r == nil {
		return drift.Entry{}, false
	}
	reason, field := samples.SplitCategory(cat)
	var k drift.Kind
	switch reason {
	case mapper.ReasonUnexpectedField:
		k = drift.KindNewProperty
	case mapper.ReasonMissingField:
		k = drift.KindAbsentRequired
	case mapper.ReasonTypeMismatch, mapper.ReasonNullField:
		k = drift.KindNewType
	case mapper.ReasonUnknownEnum:
		k = drift.KindNewEnumValue
	default:
		return drift.Entry{}, false
	}
	for _, e := range r.Entries {
		if e.Kind == k && e.Path == field {
			return e, true
		}
	}
	return drift.Entry{}, false
}

// withTraffic gives a contract edit (one that edits the input schema) the
// drift report's evidence for its category: the count over all the
// source's records, and the evidence said in the edit.
func withTraffic(s *Suggestion, r *drift.Report, cat string) {
	if !s.Fixes() || len(s.SchemaEdits) == 0 {
		return
	}
	e, ok := driftEntry(r, cat)
	if !ok {
		return
	}
	t := trafficOf(e, r.Records)
	s.Traffic = t
	s.Records = e.Count
	s.Edit += "; " + t.String()
}

// driftTypes adds to types the JSON types the drift report saw at field
// outside the input schema's (a new_type entry).
func driftTypes(r *drift.Report, field string, types map[string]int) {
	if e, ok := driftEntry(r, string(mapper.ReasonTypeMismatch)+":"+field); ok {
		for _, tc := range e.Types {
			types[tc.Type] += int(tc.Count)
		}
	}
}

// driftOnly proposes the contract edits of the drift report's entries that
// no failing category of the samples shows (the samples keep a bounded
// few; the report counts all the traffic): a new property added with the
// types the kept payloads show, a required dropped for a field no rule
// reads, a type widened at one, the enum values added to the input
// schema's enum (and to the rule's enum table when a rule reads the field
// through one). An entry no contract edit answers gets a no_fix. seen are
// the categories already answered.
func driftOnly(in Input, rf *ruleFile, ev *evidence, seen map[string]bool) []Suggestion {
	if in.Drift == nil {
		return nil
	}
	fields := rf.fieldsInfo()
	var out []Suggestion
	for _, e := range in.Drift.Entries {
		cat := driftCategory(e.Kind, e.Path)
		if seen[cat] || (e.Kind == drift.KindNewType && seen[string(mapper.ReasonNullField)+":"+e.Path]) {
			continue
		}
		seen[cat] = true
		if covered(in.Source, e) {
			continue // the report predates rules that answer it
		}
		s, why := driftSuggestion(in, fields, ev, e)
		if s == nil {
			s = &Suggestion{Kind: KindNoFix, Field: e.Path, NoFix: why, Edit: "no_fix: " + why}
		}
		s.Category, s.Records = cat, e.Count
		t := trafficOf(e, in.Drift.Records)
		s.Traffic = t
		if s.Fixes() {
			s.Edit += "; " + t.String() + ", no failing sample"
		} else {
			s.NoFix += " (" + t.String() + ")"
			s.Edit = "no_fix: " + s.NoFix
		}
		out = append(out, *s)
	}
	return out
}

// covered reports whether the source's input schema already answers a
// drift entry: a report written before a contract edit shipped.
func covered(src *mapper.Source, e drift.Entry) bool {
	f := src.InputField(e.Path)
	switch e.Kind {
	case drift.KindNewProperty:
		return f.Known
	case drift.KindAbsentRequired:
		return !f.Required
	case drift.KindNewEnumValue:
		if !f.Enum {
			return true
		}
		enums, err := src.InputEnums(e.Path)
		if err != nil {
			return false
		}
		for _, en := range enums {
			for _, v := range e.Values {
				if text, ok := stringValue(v.Value); ok && !v.Truncated && !slices.Contains(en.Values, text) {
					return false
				}
			}
		}
		return len(enums) > 0
	case drift.KindNewType:
		if !f.Known || len(f.Types) == 0 {
			return true
		}
		for _, tc := range e.Types {
			if !slices.Contains(f.Types, tc.Type) && !(tc.Type == "integer" && slices.Contains(f.Types, "number")) {
				return false
			}
		}
		return true
	}
	return false
}

// driftSuggestion is the contract edit for one drift entry no failing
// sample shows, or why there is none.
func driftSuggestion(in Input, fields []fieldInfo, ev *evidence, e drift.Entry) (*Suggestion, string) {
	read := readsFrom(fields, e.Path) != nil || readsUnder(fields, e.Path)
	switch e.Kind {
	case drift.KindNewProperty:
		s, why := propertySuggestion(in, ev, e.Path, nil)
		if s == nil && strings.HasPrefix(why, "no kept payload carries") {
			// The report counts properties, not their types: an open
			// schema for it, for a person to type.
			if s, why = propertyOfUnknownType(in.Source, e.Path); s != nil {
				s.Review = append(s.Review, fmt.Sprintf("%s: no kept payload carries it, so its type is unknown (the drift report counts properties, not their types): give it a type before shipping", e.Path))
			}
		}
		return s, why
	case drift.KindAbsentRequired:
		if read {
			return nil, e.Path + " arrives absent and the rules read it: no contract edit maps these records (see the samples of its category)"
		}
		return optionalSuggestion(in.Source, e.Path)
	case drift.KindNewType:
		if read {
			return nil, e.Path + " arrives with another type and the rules read it: no contract edit maps these records (see the samples of its category)"
		}
		types := map[string]int{}
		driftTypes(in.Drift, e.Path, types)
		return widenContract(in.Source, e.Path, types, KindContractProperty, "no rule reads it")
	case drift.KindNewEnumValue:
		if in.Source.IsRedacted(e.Path) {
			return nil, e.Path + " is redacted: its values are not read"
		}
		values := make([]Value, 0, len(e.Values))
		for _, v := range e.Values {
			if !v.Truncated {
				values = append(values, Value{Text: v.Value, Count: v.Count})
			}
		}
		s := enumSuggestion(fields, e.Path, values, nil)
		if s == nil {
			// No rule's enum table reads it: the input schema's enum alone.
			s = &Suggestion{Kind: KindEnumValue, Field: e.Path}
			for _, v := range values {
				if _, ok := stringValue(v.Text); ok {
					s.Values = append(s.Values, v)
				}
			}
		}
		if err := schemaEnumEdits(s, in.Source, e.Path); err != nil {
			s.Review = append(s.Review, err.Error())
		}
		if s.apply == nil && len(s.SchemaEdits) == 0 {
			return nil, "no enum of the input schema at " + e.Path + " takes the values the drift report saw"
		}
		s.Edit = strings.TrimPrefix(s.Edit, "; ")
		return s, ""
	}
	return nil, "no edit is known for drift of kind " + string(e.Kind)
}

package suggest

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/mapperhq/mapper/internal/didyoumean"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/samples"
)

// Kind is the kind of rule edit a suggestion makes.
type Kind string

// The kinds of suggestion.
const (
	// KindEnumValue adds failing values to a field's enum table.
	KindEnumValue Kind = "enum_value"
	// KindTimestampLayout lists layouts that parse failing timestamps.
	KindTimestampLayout Kind = "timestamp_layout"
	// KindRenamedField reads a renamed field as well as the old one.
	KindRenamedField Kind = "renamed_field"
	// KindMovedField reads a value that moved to another parent as well as
	// the old path.
	KindMovedField Kind = "moved_field"
	// KindIDOrObject reads a key of an expanded object where an id string
	// used to be, as well as the id.
	KindIDOrObject Kind = "id_or_object"
	// KindNumberTransform converts numbers sent as strings.
	KindNumberTransform Kind = "number_transform"
	// KindNullable lets a null through: nullable on the rule, or null in
	// the input schema where the rule already copes with it.
	KindNullable Kind = "nullable"
	// KindDefault fills a missing or null field with the output schema's
	// default.
	KindDefault Kind = "default"
	// KindWhen maps a field only for the records that carry it.
	KindWhen Kind = "when"
	// KindContractProperty adds a property to the input schema (or widens
	// its type) as the traffic shows it.
	KindContractProperty Kind = "contract_property"
	// KindContractOptional drops required of an unread field that arrives
	// absent.
	KindContractOptional Kind = "contract_optional"
	// KindAcceptPredicate changes a source's accept list.
	KindAcceptPredicate Kind = "accept_predicate"
	// KindNewSource is a starter source for records no source accepts.
	KindNewSource Kind = "new_source"
	// KindNoFix is a category no rule edit can fix; NoFix says why.
	KindNoFix Kind = "no_fix"
)

// Input is what Propose works from: one source's rules, samples, value
// profiles and counts.
type Input struct {
	// Source is the source as loaded from RuleFile.
	Source *mapper.Source
	// RuleFile is the text of the source's rule file.
	RuleFile []byte
	// Samples are the source's kept samples (others are ignored).
	Samples []samples.Sample
	// Profiles are the source's value profiles by category; nil or missing
	// categories fall back to the samples' own values.
	Profiles map[string]samples.ValueProfile
	// Seen counts the source's records per category (samples.Counts); nil
	// counts the samples.
	Seen map[string]uint64
	// Schemas is the schemas directory, read for the output schema's
	// defaults; nil proposes no default.
	Schemas fs.FS
	// Drift is the source's live drift report (package drift), counted over
	// all its records. When set, the contract edits take their counts and
	// evidence from it (Suggestion.Traffic), a type widened at a field no
	// rule reads takes the types it saw, and its entries no failing
	// category shows get their contract edits too. Nil: the samples alone.
	Drift *drift.Report
}

// Value is one failing value with how many records carried it.
type Value struct {
	Text  string `json:"value"`
	Count uint64 `json:"count"`
}

// Suggestion is one proposed rule edit with its evidence.
type Suggestion struct {
	Kind Kind `json:"kind"`
	// Category is the failure category it fixes; Field the output field
	// whose rule it edits.
	Category string `json:"category"`
	Field    string `json:"field"`
	// Records is how many records of the category were seen.
	Records uint64 `json:"records"`
	// Values are the failing values the edit takes up, most frequent first.
	Values []Value `json:"values,omitempty"`
	// Edit says what changes in the rule, as a person would write it.
	Edit string `json:"edit"`
	// Review lists what a person must decide before shipping (an enum
	// output that could not be inferred, an ambiguous layout); empty when
	// the edit is mechanical.
	Review []string `json:"review,omitempty"`
	// Unfixable are failing values the edit cannot take up.
	Unfixable []Value `json:"unfixable,omitempty"`
	// SchemaEdits are the changes to the input schema the edit needs: the
	// new enum values added where the schema's own enum lists the field's
	// values too. Empty when the schema does not restrict them.
	SchemaEdits []SchemaEdit `json:"schema_edits,omitempty"`
	// NoFix says why no rule edit fixes the category (Kind is KindNoFix).
	NoFix string `json:"no_fix,omitempty"`
	// Traffic is the drift report's evidence for a contract edit, over all
	// the source's records (then Records is its count); nil without a
	// report or an entry for the category.
	Traffic *Traffic `json:"drift,omitempty"`

	apply func(e *ruleEdits) error
}

// Fixes reports whether the suggestion edits the rules or the schemas.
func (s *Suggestion) Fixes() bool { return s.Kind != KindNoFix }

// Propose reads the failures of in's source and proposes an edit for each
// failing category, or says why no rule edit fixes it (KindNoFix), ordered
// by records affected (most first).
func Propose(in Input) ([]Suggestion, error) {
	rf, err := parseRuleFile(in.RuleFile)
	if err != nil {
		return nil, err
	}
	ev := newEvidence(in)
	cats := make([]string, 0, len(ev.byCat))
	for c := range ev.byCat {
		cats = append(cats, c)
	}
	for c := range in.Profiles {
		if _, ok := ev.byCat[c]; !ok {
			cats = append(cats, c)
		}
	}
	sort.Strings(cats)
	var out []Suggestion
	for _, cat := range cats {
		if cat == samples.CleanCategory || strings.HasPrefix(cat, "candidate:") {
			continue
		}
		seen := in.Seen[cat]
		if seen == 0 {
			seen = uint64(len(ev.byCat[cat]))
		}
		s := propose(in, rf, ev, cat)
		s.Category, s.Records = cat, seen
		withTraffic(s, in.Drift, cat)
		out = append(out, *s)
	}
	answered := map[string]bool{}
	for _, c := range cats {
		answered[c] = true
	}
	out = append(out, driftOnly(in, rf, ev, answered)...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Fixes() != out[j].Fixes() {
			return out[i].Fixes()
		}
		return out[i].Records > out[j].Records
	})
	return out, nil
}

// propose is the suggestion for one category: an edit, or why none.
func propose(in Input, rf *ruleFile, ev *evidence, cat string) *Suggestion {
	fields := rf.fieldsInfo()
	reason, field := samples.SplitCategory(cat)
	ss := ev.byCat[cat]
	values := failingValues(in, cat, ss)
	var s *Suggestion
	var why string
	switch reason {
	case mapper.ReasonUnknownEnum:
		if s = enumSuggestion(fields, field, values, cooccurrence(ev, field)); s != nil {
			if err := schemaEnumEdits(s, in.Source, field); err != nil {
				s.Review = append(s.Review, err.Error())
			}
		} else {
			why = "no rule reads " + field + " through an enum table, or no failing value is a string: the input schema's own enum refuses it (widen it by hand)"
		}
	case mapper.ReasonInvalidFormat:
		if f := inputFormat(in.Source, field); f != "" {
			why = "the input schema requires format " + f + " at " + field + ": a timestamp layout cannot take these values until the contract allows them (a change for a person)"
		} else if s = layoutSuggestion(fields, field, values); s == nil {
			why = "the values of " + field + " lack the format the input schema or a transform requires, and no timestamp layout reads them: the partner sends values no rule can repair"
		}
	case mapper.ReasonTypeMismatch:
		s, why = typeSuggestion(in, fields, ev, field, values, ss)
	case mapper.ReasonOutputInvalid:
		// A field mapped as it came: numbers sent as strings show here
		// when the domain schema wants a number.
		if fi := fieldByName(fields, field); fi != nil && len(fi.from) > 0 {
			s = transformSuggestion(fields, fi.from[0], failingValues(in, string(mapper.ReasonOutputInvalid)+":"+fi.from[0], ss))
		}
		if s == nil {
			why = "the mapped record fails the domain schema at " + orPayload(field) + ": the rules make a value the domain refuses (a bug in the rules or the domain schema, for a person)"
		}
	case mapper.ReasonMissingField, mapper.ReasonNullField:
		s, why = absentSuggestion(in, rf, fields, ev, reason, field, ss)
	case mapper.ReasonUnexpectedField:
		s, why = propertySuggestion(in, ev, field, ss)
	case mapper.ReasonDefaulted:
		why = "a default filled " + field + ": the rule already copes, and the record is degraded by design (drop the default to reject such records)"
	case mapper.ReasonMalformedPayload:
		why = "the bytes are not a JSON object within the limits: no rule reads them; the producer must fix them"
	case mapper.ReasonOutOfRange:
		why = "values of " + field + " fall outside the input schema's bounds: a change of the partner's contract for a person to confirm"
	case mapper.ReasonUnknownSource:
		why = "no source accepts these records and their payloads are not kept: look at them with mapper tap, then mapper infer a starter source"
	default:
		why = "no edit is known for " + string(reason)
	}
	if s == nil {
		if why == "" {
			why = "no edit found"
		}
		return &Suggestion{Kind: KindNoFix, NoFix: why, Field: field, Edit: "no_fix: " + why}
	}
	return s
}

func orPayload(field string) string {
	if field == "" {
		return "the record"
	}
	return field
}

// failingValues are a category's failing values with counts: from its
// value profile when there is one, else from its samples' payloads.
func failingValues(in Input, cat string, ss []*samples.Sample) []Value {
	if p, ok := in.Profiles[cat]; ok && len(p.Values) > 0 && !strings.HasPrefix(cat, string(mapper.ReasonOutputInvalid)) {
		out := make([]Value, len(p.Values))
		for i, v := range p.Values {
			out[i] = Value{Text: v.Value, Count: v.Count}
		}
		return out
	}
	_, field := samples.SplitCategory(cat)
	counts := map[string]uint64{}
	var vs mapper.ValueScanner
	for _, s := range ss {
		if p, ok := s.PayloadBytes(); ok {
			vs.Scan(in.Source, p, field, 8, func(b []byte) { counts[string(b)]++ })
		}
	}
	out := make([]Value, 0, len(counts))
	for t, n := range counts {
		out = append(out, Value{Text: t, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Text < out[j].Text
	})
	return out
}

func fieldByName(fields []fieldInfo, out string) *fieldInfo {
	for i := range fields {
		if fields[i].out == out {
			return &fields[i]
		}
	}
	return nil
}

// readsFrom returns the top-level field whose from lists path.
func readsFrom(fields []fieldInfo, path string) *fieldInfo {
	for i := range fields {
		for _, f := range fields[i].from {
			if f == path {
				return &fields[i]
			}
		}
	}
	return nil
}

// stringValue decodes a value's JSON text when it is a string.
func stringValue(text string) (string, bool) {
	var s string
	if json.Unmarshal([]byte(text), &s) != nil {
		return "", false
	}
	return s, true
}

func norm(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func enumSuggestion(fields []fieldInfo, path string, values []Value, rank func(v string, enum []enumEntry) []ranked) *Suggestion {
	fi := readsFrom(fields, path)
	if fi == nil || len(fi.enum) == 0 {
		return nil
	}
	s := &Suggestion{Kind: KindEnumValue, Field: fi.out}
	known := map[string]bool{}
	outputs := map[string]bool{}
	var outList []string
	for _, e := range fi.enum {
		known[e.key] = true
		if !outputs[e.value] {
			outputs[e.value] = true
			outList = append(outList, e.value)
		}
	}
	var added []string
	var newEntries []enumEntry
	for _, v := range values {
		text, ok := stringValue(v.Text)
		if !ok || text == "" || known[text] {
			if !ok || text == "" {
				s.Unfixable = append(s.Unfixable, v)
			}
			continue
		}
		known[text] = true
		out, raw, inferred := inferOutput(text, fi.enum)
		var why string
		if !inferred && rank != nil {
			// The outputs ranked by how alike their records are to the
			// records carrying the value; the first is the placeholder
			// when it stands out (a quarter above the second), else the
			// nearest spelling stays.
			if r := rank(text, fi.enum); len(r) > 0 {
				var parts []string
				for _, x := range r {
					parts = append(parts, fmt.Sprintf("%s %.0f%%", x.out, 100*x.score))
				}
				why = "; outputs by what co-occurs in its records: " + strings.Join(parts, ", ")
				if len(r) == 1 || r[0].score >= 1.25*r[1].score {
					why += " (the first stands out: it is the placeholder)"
					for _, e := range fi.enum {
						if e.value == r[0].out {
							out, raw = e.value, e.raw
							break
						}
					}
				}
			}
		}
		newEntries = append(newEntries, enumEntry{key: text, value: out, raw: raw, placeholder: !inferred})
		s.Values = append(s.Values, v)
		if inferred {
			added = append(added, fmt.Sprintf("%s → %s", text, out))
		} else {
			added = append(added, fmt.Sprintf("%s → %s (PLACEHOLDER)", text, out))
			s.Review = append(s.Review, fmt.Sprintf("%s.enum %q → %s is a placeholder: no output value could be inferred; choose one of %s%s",
				fi.out, text, out, strings.Join(outList, ", "), why))
		}
	}
	if len(s.Values) == 0 {
		return nil
	}
	s.Edit = fmt.Sprintf("%s.enum: add %s", fi.out, strings.Join(added, ", "))
	out := fi.out
	s.apply = func(e *ruleEdits) error {
		fe := e.field(out)
		fe.enumAdd = append(fe.enumAdd, newEntries...)
		return nil
	}
	return s
}

// schemaEnumEdits adds to s the input-schema edits its new enum keys
// need: each enum of the input schema at field gets the keys it lacks.
// The error says what cannot be edited (a const).
func schemaEnumEdits(s *Suggestion, src *mapper.Source, field string) error {
	enums, err := src.InputEnums(field)
	if err != nil {
		return fmt.Errorf("%v: change the input schema by hand", err)
	}
	for _, e := range enums {
		have := map[string]bool{}
		for _, v := range e.Values {
			have[v] = true
		}
		edit := SchemaEdit{File: e.File, Pointer: e.Pointer}
		for _, v := range s.Values {
			if text, ok := stringValue(v.Text); ok && !have[text] {
				have[text] = true
				edit.Add = append(edit.Add, text)
			}
		}
		if len(edit.Add) > 0 {
			s.SchemaEdits = append(s.SchemaEdits, edit)
			s.Edit += fmt.Sprintf("; input schema %s#%s enum: add %s", e.File, e.Pointer, quotedList(edit.Add))
		}
	}
	return nil
}

// inferOutput finds the output of a new enum value: the output of a known
// value or an output value equal to it once case and punctuation are
// ignored ("Paid", "PAID" → the output of paid). Otherwise the output of
// the known value nearest in spelling, as a placeholder (inferred false).
func inferOutput(v string, enum []enumEntry) (out string, raw, inferred bool) {
	n := norm(v)
	for _, e := range enum {
		if norm(e.key) == n || norm(e.value) == n {
			return e.value, e.raw, true
		}
	}
	best, bestD := enum[0], -1
	for _, e := range enum {
		if d := didyoumean.Distance(n, norm(e.key)); bestD < 0 || d < bestD {
			best, bestD = e, d
		}
	}
	return best.value, best.raw, false
}

// layouts are the timestamp layouts tried on failing values, most common
// first. Day-first and month-first forms come in pairs (see layoutSuggestion).
var layouts = []string{
	"2006-01-02 15:04:05", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05 -0700", "2006/01/02 15:04:05", "2006/01/02 15:04",
	"02/01/2006 15:04:05", "01/02/2006 15:04:05", "02/01/2006 15:04", "01/02/2006 15:04", "02/01/2006", "01/02/2006",
	"02.01.2006 15:04:05", "02.01.2006 15:04", "02.01.2006", "02-01-2006 15:04:05", "02-01-2006 15:04",
	time.RFC1123Z, time.RFC1123, time.RFC850, time.RFC822Z, time.RFC822, time.ANSIC, time.UnixDate, "2006-01-02",
	"2 Jan 2006 15:04", "2 Jan 2006", "2 January 2006", "Jan 2, 2006", "January 2, 2006",
}

// swapDayMonth returns the layout with day and month swapped ("02/01" ↔
// "01/02"), or "" when it has no such pair.
func swapDayMonth(l string) string {
	for _, sep := range []string{"/", ".", "-"} {
		dm, md := "02"+sep+"01"+sep, "01"+sep+"02"+sep
		if strings.HasPrefix(l, dm) {
			return md + l[len(dm):]
		}
		if strings.HasPrefix(l, md) {
			return dm + l[len(md):]
		}
	}
	return ""
}

func layoutSuggestion(fields []fieldInfo, path string, values []Value) *Suggestion {
	fi := readsFrom(fields, path)
	if fi == nil {
		return nil
	}
	hasTimestamp := false
	for _, t := range fi.transforms {
		hasTimestamp = hasTimestamp || t == "timestamp"
	}
	if !hasTimestamp {
		return nil
	}
	s := &Suggestion{Kind: KindTimestampLayout, Field: fi.out}
	chosen := append([]string(nil), fi.layouts...)
	have := map[string]bool{}
	for _, l := range chosen {
		have[l] = true
	}
	var newLayouts []string
	for _, v := range values {
		text, ok := stringValue(v.Text)
		if !ok {
			s.Unfixable = append(s.Unfixable, v)
			continue
		}
		var fits []string
		for _, l := range layouts {
			if _, err := time.Parse(l, text); err == nil {
				fits = append(fits, l)
			}
		}
		if len(fits) == 0 {
			s.Unfixable = append(s.Unfixable, v)
			continue
		}
		l := fits[0]
		if other := swapDayMonth(l); other != "" {
			_, errOther := time.Parse(other, text)
			if errOther == nil {
				// Both orders read it: keep an order already chosen, else
				// day first, and say so.
				if have[other] {
					l = other
				} else if !have[l] {
					s.Review = append(s.Review, fmt.Sprintf("%s: %q reads as day/month (%s) and as month/day (%s); day/month chosen — check the partner's convention",
						fi.out, text, l, other))
				}
			} else if !have[l] {
				s.Review = append(s.Review, fmt.Sprintf("%s: %q can only be day/month (%s), not month/day", fi.out, text, l))
			}
		}
		s.Values = append(s.Values, v)
		if !have[l] {
			have[l] = true
			chosen = append(chosen, l)
			newLayouts = append(newLayouts, l)
		}
	}
	if len(newLayouts) == 0 {
		return nil
	}
	// Day/month facts are notes, not decisions, unless ambiguous.
	var review []string
	for _, r := range s.Review {
		if strings.Contains(r, "check the partner") {
			review = append(review, r)
		}
	}
	notes := len(s.Review) - len(review)
	s.Review = review
	s.Edit = fmt.Sprintf("%s: timestamp layouts %s", fi.out, flowList(newLayouts))
	if notes > 0 {
		s.Edit += " (day/month order read from values whose day is over 12)"
	}
	out := fi.out
	layoutReview := ""
	if len(review) > 0 {
		layoutReview = "day/month chosen where month/day reads the values too (see the candidate's " + SummaryFile + ")"
	}
	s.apply = func(e *ruleEdits) error {
		fe := e.field(out)
		fe.layouts, fe.layoutReview = chosen, layoutReview
		return nil
	}
	return s
}

// transformSuggestion converts numbers sent as strings for a field the
// rules read: int when every such value is a whole number, float otherwise.
func transformSuggestion(fields []fieldInfo, path string, values []Value) *Suggestion {
	fi := readsFrom(fields, path)
	if fi == nil {
		return nil
	}
	for _, t := range fi.transforms {
		if t == "int" || t == "float" || t == "decimal_to_minor" || t == "count" || t == "timestamp" {
			return nil
		}
	}
	s := &Suggestion{Kind: KindNumberTransform, Field: fi.out}
	whole := true
	for _, v := range values {
		text, ok := stringValue(v.Text)
		var n json.Number
		if !ok || json.Unmarshal([]byte(strings.TrimSpace(text)), &n) != nil {
			s.Unfixable = append(s.Unfixable, v)
			continue
		}
		if strings.ContainsAny(string(n), ".eE") {
			whole = false
		}
		s.Values = append(s.Values, v)
	}
	if len(s.Values) == 0 {
		return nil
	}
	tf := "int"
	if !whole {
		tf = "float"
	}
	s.Edit = fmt.Sprintf("%s: transform %s first (numbers sent as strings, e.g. %s)", fi.out, tf, s.Values[0].Text)
	out := fi.out
	s.apply = func(e *ruleEdits) error {
		e.field(out).prepend = tf
		return nil
	}
	return s
}

func joinPath(parent, k string) string {
	if parent == "" {
		return k
	}
	return parent + "." + k
}

// keysAt lists the keys of the object at the dotted path of a JSON payload.
func keysAt(payload []byte, path string) []string {
	var doc any
	if json.Unmarshal(payload, &doc) != nil {
		return nil
	}
	if path != "" {
		for _, k := range strings.Split(path, ".") {
			m, ok := doc.(map[string]any)
			if !ok {
				return nil
			}
			doc = m[k]
		}
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// similarName: one name contains the other (email, email_address) or they
// are a small edit apart (colour, color).
func similarName(a, b string) bool {
	na, nb := norm(a), norm(b)
	if na == "" || nb == "" {
		return false
	}
	if strings.Contains(na, nb) || strings.Contains(nb, na) {
		return true
	}
	return didyoumean.Distance(na, nb) <= max(1, min(len(na), len(nb))/4)
}

// SummaryFile is the file, beside DIR/rules and DIR/schemas, where mapper
// suggest lists each edit, REVIEW item and no_fix of a candidate: the
// candidate's own files hold only the edited lines.
const SummaryFile = "SUGGESTIONS.txt"

// Apply writes the suggestions into the rule file's text with the version
// bumped to version. Only the edited lines and the version line change:
// the rest of the file is kept byte for byte. An enum entry whose output
// is a placeholder, and layouts chosen between day/month and month/day,
// carry a trailing "# REVIEW: …" comment on their edited line; the full
// list of edits, REVIEW items and no_fix is for the caller to show (mapper
// suggest writes it to SummaryFile).
func Apply(ruleFile []byte, ss []Suggestion, version int) ([]byte, error) {
	rf, err := parseRuleFile(ruleFile)
	if err != nil {
		return nil, err
	}
	edits := newRuleEdits(rf)
	for _, s := range ss {
		if s.apply == nil {
			continue
		}
		if err := s.apply(edits); err != nil {
			return nil, fmt.Errorf("apply %s for %s: %w", s.Kind, s.Category, err)
		}
	}
	return edits.render(version)
}

// oneLine keeps a comment on one line.
func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// inputFormat is the format keyword the input schema gives the field, or "".
func inputFormat(src *mapper.Source, field string) string {
	nodes, _ := src.InputNodes(field)
	for _, n := range nodes {
		if n.Format != "" {
			return n.Format
		}
	}
	return ""
}

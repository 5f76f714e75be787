package drift

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mapperhq/mapper/mapper/profile"
	"github.com/mapperhq/mapper/mapper/samples"
)

// Kind is a kind of drift between the traffic and the input schema.
type Kind string

// The kinds of drift, in the order reports list them.
const (
	KindNewProperty    Kind = "new_property"
	KindAbsentRequired Kind = "absent_required"
	KindNewType        Kind = "new_type"
	KindNewEnumValue   Kind = "new_enum_value"
)

// Kinds lists every kind, in report order.
var Kinds = []Kind{KindNewProperty, KindAbsentRequired, KindNewType, KindNewEnumValue}

func (k Kind) rank() int {
	for i, x := range Kinds {
		if x == k {
			return i
		}
	}
	return len(Kinds)
}

// Bounds of the reports read back (ReadFile, Decode): a report past them is
// not one an Observer wrote.
const (
	MaxReadPaths  = 4096
	MaxReadValues = 1024
)

// TypeCount is how many values of one JSON type arrived where the schema
// allows other types.
type TypeCount struct {
	Type  string `json:"type"`
	Count uint64 `json:"count"`
}

// Entry is one kind of drift at one field of a source.
type Entry struct {
	Kind Kind `json:"kind"`
	// Path is the normalised field path ("issue.reactions", "items[].sku"):
	// never an index.
	Path string `json:"path"`
	// Count is how many records showed this drift.
	Count uint64 `json:"count"`
	// Share is Count over the source's records (Report.Records).
	Share     float64   `json:"share"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Types (new_type only) are the types seen outside the schema's, most
	// counted first; Expected the schema's types there.
	Types    []TypeCount `json:"types,omitempty"`
	Expected []string    `json:"expected,omitempty"`
	// Values (new_enum_value only) are the values outside the schema's
	// enum, most counted first, as compact JSON text ("\"archived\"", 3):
	// at most Report.MaxValues, counts as package profile bounds them
	// (each true count in [Count-Error, Count]). ValuesTotal is how many
	// values were counted; it is less than Count when some were at a
	// redacted path (never recorded).
	Values      []profile.Entry `json:"values,omitempty"`
	ValuesTotal uint64          `json:"values_total,omitempty"`
}

// Report is one source's drift: the input contract as its traffic shows it.
//
// It is what package suggest reads for its contract edits: each
// KindNewProperty entry is a property to add to the input schema
// (contract_property), each KindAbsentRequired entry a required to drop
// (contract_optional) when the share says the field is often absent; Of
// lists the entries of one kind. A Report is a value: it holds no lock and
// shares nothing with the Observer that made it.
type Report struct {
	Source string `json:"source"`
	// RulesVersion is the latest rules version that observed the source.
	RulesVersion int `json:"rules_version,omitempty"`
	// Records is how many records of the source were observed, drifting
	// or not: the denominator of every share.
	Records   uint64    `json:"records"`
	UpdatedAt time.Time `json:"updated_at"`
	// MaxPaths and MaxValues are the bounds the report was kept under.
	MaxPaths  int `json:"max_paths"`
	MaxValues int `json:"max_values"`
	// Untracked counts drift at kind and path pairs past MaxPaths.
	Untracked uint64  `json:"untracked,omitempty"`
	Entries   []Entry `json:"entries"`
}

// Of returns the report's entries of one kind, most counted first.
func (r Report) Of(k Kind) []Entry {
	var out []Entry
	for _, e := range r.Entries {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// Fields counts the report's entries (drifting fields) of each kind.
func (r Report) Fields() map[Kind]int {
	out := make(map[Kind]int, len(Kinds))
	for _, k := range Kinds {
		out[k] = 0
	}
	for _, e := range r.Entries {
		out[e.Kind]++
	}
	return out
}

// finish sorts the entries (by kind, then count, most first, then path)
// and sets their shares.
func (r *Report) finish() {
	for i := range r.Entries {
		e := &r.Entries[i]
		e.Share = 0
		if r.Records > 0 {
			e.Share = float64(e.Count) / float64(r.Records)
		}
	}
	sort.Slice(r.Entries, func(i, j int) bool {
		a, b := &r.Entries[i], &r.Entries[j]
		if a.Kind != b.Kind {
			return a.Kind.rank() < b.Kind.rank()
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Path < b.Path
	})
}

type entryKey struct {
	kind Kind
	path string
}

// Merge folds reports of one source kept by different workers (each over
// its own records) into one: records, counts and type counts add up, first
// seen is the earliest and last seen the latest, enum values combine as
// profile.Combine does (the error bound of one sketch). The merged report
// keeps the MaxPaths (the largest of the parts') most counted entries; the
// counts of the others go to Untracked. The source is the first report's;
// none gives the zero Report. The parts are not changed.
func Merge(reports ...Report) Report {
	if len(reports) == 0 {
		return Report{}
	}
	out := Report{Source: reports[0].Source}
	byKey := map[entryKey]*Entry{}
	parts := map[entryKey][]profile.Summary{}
	var order []entryKey
	for _, r := range reports {
		out.Records += r.Records
		out.Untracked += r.Untracked
		out.RulesVersion = max(out.RulesVersion, r.RulesVersion)
		out.MaxPaths = max(out.MaxPaths, r.MaxPaths)
		out.MaxValues = max(out.MaxValues, r.MaxValues)
		if r.UpdatedAt.After(out.UpdatedAt) {
			out.UpdatedAt = r.UpdatedAt
		}
		for _, e := range r.Entries {
			k := entryKey{e.Kind, e.Path}
			m := byKey[k]
			if m == nil {
				m = &Entry{Kind: e.Kind, Path: e.Path, FirstSeen: e.FirstSeen, LastSeen: e.LastSeen, Expected: e.Expected}
				byKey[k] = m
				order = append(order, k)
			}
			m.Count += e.Count
			m.ValuesTotal += e.ValuesTotal
			if !e.FirstSeen.IsZero() && (m.FirstSeen.IsZero() || e.FirstSeen.Before(m.FirstSeen)) {
				m.FirstSeen = e.FirstSeen
			}
			if e.LastSeen.After(m.LastSeen) {
				m.LastSeen = e.LastSeen
			}
			m.Types = addTypes(m.Types, e.Types)
			if len(e.Values) > 0 {
				parts[k] = append(parts[k], profile.Summary{Entries: e.Values, Total: e.ValuesTotal, Capacity: r.MaxValues})
			}
		}
	}
	if out.MaxPaths <= 0 {
		out.MaxPaths = DefaultMaxPaths
	}
	if out.MaxValues <= 0 {
		out.MaxValues = DefaultMaxValues
	}
	for _, k := range order {
		e := byKey[k]
		if ps := parts[k]; len(ps) > 0 {
			e.Values = profile.Combine(out.MaxValues, ps...).Entries
		}
		out.Entries = append(out.Entries, *e)
	}
	if len(out.Entries) > out.MaxPaths {
		sort.SliceStable(out.Entries, func(i, j int) bool { return out.Entries[i].Count > out.Entries[j].Count })
		for _, e := range out.Entries[out.MaxPaths:] {
			out.Untracked += e.Count
		}
		out.Entries = out.Entries[:out.MaxPaths]
	}
	out.finish()
	return out
}

// addTypes adds the counts of b to a, by type, most counted first.
func addTypes(a, b []TypeCount) []TypeCount {
	for _, t := range b {
		found := false
		for i := range a {
			if a[i].Type == t.Type {
				a[i].Count += t.Count
				found = true
			}
		}
		if !found {
			a = append(a, t)
		}
	}
	sort.SliceStable(a, func(i, j int) bool { return a[i].Count > a[j].Count })
	return a
}

// FileName is the report's file in a source's folder of a samples
// directory.
const FileName = "drift.json"

// Path is the file of a source's report, relative to the samples
// directory: beside the source's sample folders.
func Path(source string) string {
	return filepath.Join(filepath.Dir(samples.CategoryPath(source, samples.CleanCategory)), FileName)
}

// WriteFile replaces the report file of r's source in the samples
// directory dir, atomically.
func WriteFile(dir string, r Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err == nil {
		err = samples.WriteFileAtomic(filepath.Join(dir, Path(r.Source)), append(b, '\n'))
	}
	if err != nil {
		return fmt.Errorf("drift: write report of %s in %s: %w", r.Source, dir, err)
	}
	return nil
}

// ErrNoReport is wrapped by ReadFile's error when the directory holds no
// report of the source.
var ErrNoReport = errors.New("no drift report")

// ReadFile reads the report of source from the samples directory dir.
func ReadFile(dir, source string) (Report, error) {
	p := filepath.Join(dir, Path(source))
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Report{}, fmt.Errorf("%w of %s in %s", ErrNoReport, source, dir)
	}
	if err != nil {
		return Report{}, fmt.Errorf("drift: %w", err)
	}
	r, err := Decode(b)
	if err != nil {
		return Report{}, fmt.Errorf("drift: %s: %w", p, err)
	}
	if r.Source != source {
		return Report{}, fmt.Errorf("drift: %s holds the report of %q, not %q", p, r.Source, source)
	}
	return r, nil
}

// ReadDir reads every source's report in the samples directory dir, by
// source name. A file that is not a report is an error naming it.
func ReadDir(dir string) ([]Report, error) {
	var out []Report
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("drift: %w", err)
	}
	for _, d := range ents {
		if !d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, d.Name(), FileName)
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("drift: %w", err)
		}
		r, err := Decode(b)
		if err != nil {
			return out, fmt.Errorf("drift: %s: %w", p, err)
		}
		out = append(out, r)
	}
	sortReports(out)
	return out, nil
}

// Decode reads a report as WriteFile and the samples topic hold it,
// refusing one past the read bounds (MaxReadPaths entries, MaxReadValues
// values an entry, values longer than profile.MaxValueBytes) or with an
// unknown kind.
func Decode(b []byte) (Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return Report{}, fmt.Errorf("not a drift report: %w", err)
	}
	if r.Source == "" {
		return Report{}, errors.New("not a drift report: no source")
	}
	if len(r.Entries) > MaxReadPaths {
		return Report{}, fmt.Errorf("a drift report of %d entries, more than %d", len(r.Entries), MaxReadPaths)
	}
	for _, e := range r.Entries {
		if e.Kind.rank() == len(Kinds) {
			return Report{}, fmt.Errorf("drift entry at %q: unknown kind %q", e.Path, e.Kind)
		}
		if len(e.Values) > MaxReadValues || len(e.Types) > 8 {
			return Report{}, fmt.Errorf("drift entry %s at %q: %d values, more than %d", e.Kind, e.Path, len(e.Values), MaxReadValues)
		}
		for _, v := range e.Values {
			if len(v.Value) > profile.MaxValueBytes {
				return Report{}, fmt.Errorf("drift entry %s at %q: a value of %d bytes, more than %d", e.Kind, e.Path, len(v.Value), profile.MaxValueBytes)
			}
		}
	}
	return r, nil
}

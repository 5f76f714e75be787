package sampletopic

import (
	"fmt"
	"sort"

	"github.com/mapperhq/mapper/mapper/drift"
)

// Drift implements drift.Sink: this worker's drift report of a source
// becomes the value of its drift key, written at the next flush (the
// observer calls Drift only for reports that changed, on its own flush
// cadence). A report holds no value at a redacted path: the observer
// never records one.
func (w *Writer) Drift(r drift.Report) {
	w.putJSON(Key{Kind: KindDrift, Source: r.Source, Worker: w.cfg.Worker}, r)
}

type driftRecord struct {
	report drift.Report
	size   int64
}

// applyDrift folds one drift record in; it returns why the record was
// skipped, or "".
func (s *Snapshot) applyDrift(k Key, value []byte) string {
	dk := recordsKey{k.Source, k.Worker}
	if old, ok := s.drift[dk]; ok {
		s.bytes -= old.size
		delete(s.drift, dk)
	}
	if value == nil {
		return ""
	}
	r, err := drift.Decode(value)
	if err != nil {
		return fmt.Sprintf("%s: %v", k, err)
	}
	if r.Source != k.Source {
		return fmt.Sprintf("%s: value is the drift report of %q", k, r.Source)
	}
	s.drift[dk] = driftRecord{report: r, size: int64(len(value))}
	s.bytes += int64(len(value))
	return ""
}

// Drift returns the group's drift report of a source: the workers'
// reports merged (drift.Merge); ok is false when no worker wrote one.
func (s *Snapshot) Drift(source string) (drift.Report, bool) {
	var rs []drift.Report
	for k, v := range s.drift {
		if k.source == source {
			rs = append(rs, v.report)
		}
	}
	if len(rs) == 0 {
		return drift.Report{}, false
	}
	return drift.Merge(rs...), true
}

// DriftReports returns the group's drift report of every source, by
// source name.
func (s *Snapshot) DriftReports() []drift.Report {
	names := map[string]bool{}
	for k := range s.drift {
		names[k.source] = true
	}
	out := make([]drift.Report, 0, len(names))
	for n := range names {
		r, _ := s.Drift(n)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

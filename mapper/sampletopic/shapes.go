package sampletopic

import (
	"encoding/json"
	"fmt"

	"github.com/mapperhq/mapper/mapper/samples"
)

// Bounds of a shapes record read from the topic: a worker writes at most
// its store's groups and paths (64 and 256 by default); a record with
// more is not ours.
const (
	maxShapeGroups = 1024
	maxShapePaths  = 4096
)

// Shapes implements samples.ShapesSink: this worker's structural profiles
// of the records no source accepts become the value of its shapes key,
// written at the next flush. A profile holds no payload value.
func (w *Writer) Shapes(sh samples.Shapes) {
	w.putJSON(Key{Kind: KindShapes, Worker: w.cfg.Worker}, sh)
}

// putJSON makes v, as JSON, the value of k at the next flush; nothing once
// the writer is closed.
func (w *Writer) putJSON(k Key, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return // strings, numbers and times only: cannot fail
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.pending[string(k.Bytes())] = b
}

type shapesRecord struct {
	shapes samples.Shapes
	size   int64
}

// applyShapes folds one shapes record in; it returns why the record was
// skipped, or "".
func (s *Snapshot) applyShapes(k Key, value []byte) string {
	if old, ok := s.shapes[k.Worker]; ok {
		s.bytes -= old.size
		delete(s.shapes, k.Worker)
	}
	if value == nil {
		return ""
	}
	if k.Source != "" {
		return fmt.Sprintf("%s: a shapes key names no source", k)
	}
	var sh samples.Shapes
	if err := json.Unmarshal(value, &sh); err != nil {
		return fmt.Sprintf("%s: value is not a structural profile: %v", k, err)
	}
	if len(sh.Groups) > maxShapeGroups {
		return fmt.Sprintf("%s: %d groups, more than %d", k, len(sh.Groups), maxShapeGroups)
	}
	for _, g := range sh.Groups {
		if len(g.Paths) > maxShapePaths {
			return fmt.Sprintf("%s: a group of %d paths, more than %d", k, len(g.Paths), maxShapePaths)
		}
	}
	s.shapes[k.Worker] = shapesRecord{shapes: sh, size: int64(len(value))}
	s.bytes += int64(len(value))
	return ""
}

// Shapes returns the group's structural profiles of the records no source
// accepts: the workers' merged (samples.MergeShapes); ok is false when no
// worker wrote one.
func (s *Snapshot) Shapes() (samples.Shapes, bool) {
	if len(s.shapes) == 0 {
		return samples.Shapes{}, false
	}
	shs := make([]samples.Shapes, 0, len(s.shapes))
	for _, r := range s.shapes {
		shs = append(shs, r.shapes)
	}
	// Map order must not pick the bounds: the largest profile's first.
	for i := 1; i < len(shs); i++ {
		if len(shs[i].Groups) > len(shs[0].Groups) {
			shs[0], shs[i] = shs[i], shs[0]
		}
	}
	return samples.MergeShapes(shs...), true
}

package sampletopic

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/samples"
)

// MarkerFile, in a samples directory, names the topic it was pulled from.
const MarkerFile = ".pulled-from"

// ErrNotPulled is wrapped by WriteDir's error for a directory that holds
// files it did not write: samples a worker keeps there, say.
var ErrNotPulled = errors.New("directory is not empty and was not pulled from a samples topic")

// WriteDir materialises the snapshot as a samples directory, the layout a
// samples.Store writes (category files and index.json, counts summed over
// the workers; each category's value profile, the workers' merged, see
// Profiles; each source's drift report, see DriftReports; the unrouted
// records' structural profiles, see Shapes), so that every reader of a samples directory works on it. A
// directory that WriteDir wrote before is replaced whole; any other
// directory must be absent or empty. It returns the category files
// written.
func (s *Snapshot) WriteDir(dir string) (int, error) {
	if err := prepareDir(dir); err != nil {
		return 0, err
	}
	n := 0
	for c, lines := range s.categories() {
		if err := samples.WriteCategory(dir, c[0], c[1], lines); err != nil {
			return n, err
		}
		n++
	}
	for _, p := range s.Profiles() {
		if err := samples.WriteValues(dir, p); err != nil {
			return n, err
		}
	}
	for _, r := range s.DriftReports() {
		if err := drift.WriteFile(dir, r); err != nil {
			return n, err
		}
	}
	if sh, ok := s.Shapes(); ok {
		if err := samples.WriteShapes(dir, sh); err != nil {
			return n, err
		}
	}
	if err := samples.WriteIndex(dir, s.Index()); err != nil {
		return n, err
	}
	if err := os.WriteFile(filepath.Join(dir, MarkerFile), []byte(s.Topic+"\n"), 0o600); err != nil {
		return n, fmt.Errorf("pull samples into %s: %w", dir, err)
	}
	return n, nil
}

// prepareDir creates dir, or empties one that WriteDir wrote.
func prepareDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return fmt.Errorf("pull samples into %s: %w", dir, err)
	}
	if len(ents) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, MarkerFile)); err != nil {
		return fmt.Errorf("pull samples into %s: %w (choose a new --samples directory)", dir, ErrNotPulled)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(d.Name(), ".jsonl") || strings.HasSuffix(d.Name(), ".values.json") || d.Name() == "index.json" || d.Name() == drift.FileName || d.Name() == samples.ShapesFile) {
			return os.Remove(p)
		}
		return nil
	})
}

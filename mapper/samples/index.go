package samples

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// indexFile is the store's index of counts, in the samples directory.
const indexFile = "index.json"

// index is what index.json holds: per source, how many records the store
// was told of, and per category how many and when.
type index struct {
	UpdatedAt time.Time     `json:"updated_at"`
	Sources   []indexSource `json:"sources"`
}

type indexSource struct {
	Source       string          `json:"source"`
	RulesVersion int             `json:"rules_version"`
	Records      uint64          `json:"records"`
	Delivered    uint64          `json:"delivered"`
	Categories   []indexCategory `json:"categories"`
}

type indexCategory struct {
	Category  string    `json:"category"`
	Seen      uint64    `json:"seen"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

func readIndex(dir string) (index, error) {
	var idx index
	b, err := os.ReadFile(filepath.Join(dir, indexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return idx, nil
	}
	if err != nil {
		return idx, fmt.Errorf("read samples index: %w", err)
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return idx, fmt.Errorf("read samples index %s: %w", filepath.Join(dir, indexFile), err)
	}
	return idx, nil
}

// SourceCounts are the store's counts for one source: how many records it
// was told of and how many of them were delivered (mapped or degraded).
type SourceCounts struct {
	Source       string
	RulesVersion int
	Records      uint64
	Delivered    uint64
	// Seen is the number of records per category (CleanCategory included).
	Seen map[string]uint64
}

// Counts reads the per-source counts of a samples directory's index. A
// directory without an index (one filled by hand, say) has no counts.
func Counts(dir string) (map[string]SourceCounts, error) {
	idx, err := readIndex(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]SourceCounts{}
	for _, s := range idx.Sources {
		sc := SourceCounts{Source: s.Source, RulesVersion: s.RulesVersion, Records: s.Records, Delivered: s.Delivered, Seen: map[string]uint64{}}
		for _, c := range s.Categories {
			sc.Seen[c.Category] = c.Seen
		}
		out[s.Source] = sc
	}
	return out, nil
}

// writeAtomic replaces path with data: it writes a temporary file in the
// same directory, syncs it and renames it over path, so that a reader or a
// crash sees either the old file or the new one, never a part. Directories
// are created 0700 and the file is 0600.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// WriteFileAtomic replaces the file at path with data as the store writes
// its own files (see writeAtomic): a reader sees the old file or the new
// one, never a part.
func WriteFileAtomic(path string, data []byte) error { return writeAtomic(path, data) }

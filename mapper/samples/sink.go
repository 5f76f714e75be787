package samples

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Sink is told what a Store keeps, so that it can be shared beyond the
// samples directory (package sampletopic writes it to a compacted Kafka
// topic). Config.Sink, when set, receives it.
//
// Both methods are called from the store's writer goroutine, one call at a
// time, never from Observe: they may take a lock but must not wait on the
// network (queue the work and return).
type Sink interface {
	// Slot is told of each sample line the store puts in a reservoir slot
	// of a source's category (slot 0 holds the category's first record,
	// slots 1..K-1 the uniform sample of the rest). seen is the record's
	// position in the category (1 for its first record): slots 1..K-1 take
	// records 2..K in turn, then record seen replaces a given slot with
	// probability 1/(seen-1). line is exactly the JSON line the category
	// file holds, already redacted; the sink may keep it but must not
	// change it.
	Slot(source, category string, slot int, seen uint64, line []byte)
	// Index is told, at each flush in which anything was counted (and
	// whenever Store.ShareCounts asks), of every count the store holds: what index.json holds, cumulative since the
	// directory was first used (counts restored at Open included).
	Index(idx Index)
}

// Index is what a samples directory's index.json holds: per source the
// records the store was told of, and per category how many and when.
type Index = index

// IndexSource is one source of an Index.
type IndexSource = indexSource

// IndexCategory is one category of an IndexSource.
type IndexCategory = indexCategory

// WriteIndex replaces dir's index.json with idx, atomically (see the
// package documentation). It is how a directory is materialised from
// counts kept elsewhere; a Store writes its own.
func WriteIndex(dir string, idx Index) error {
	b, err := marshalIndex(idx)
	if err == nil {
		err = writeAtomic(filepath.Join(dir, indexFile), b)
	}
	if err != nil {
		return fmt.Errorf("samples: write index in %s: %w", dir, err)
	}
	return nil
}

// WriteCategory replaces the file of one source's category in dir with
// lines, one JSON sample each, in order, atomically. Lines must be samples
// as a Store writes them (already redacted); each is checked to be one.
func WriteCategory(dir, source, category string, lines [][]byte) error {
	var b []byte
	for i, l := range lines {
		if !validSampleLine(l) {
			return fmt.Errorf("samples: %s %s line %d is not a JSON sample", source, category, i+1)
		}
		b = append(append(b, l...), '\n')
	}
	if err := writeAtomic(filepath.Join(dir, CategoryPath(source, category)), b); err != nil {
		return fmt.Errorf("samples: write %s %s in %s: %w", source, category, dir, err)
	}
	return nil
}

func validSampleLine(l []byte) bool {
	return len(l) > 0 && l[0] == '{' && !strings.ContainsAny(string(l), "\n\r") && json.Valid(l)
}

// workerIDFile holds the directory's worker id (see WorkerID).
const workerIDFile = "worker-id"

// WorkerID returns the id of the worker that keeps its samples in dir,
// creating it (random, 16 hex digits) on first use. The id stays with the
// directory: a worker restarted on the same directory takes up its counts
// (Open restores them) under the same id, and a worker on a new, empty
// directory is a new worker whose counts start at zero. So counts shared
// per worker id are never counted twice nor reset.
func WorkerID(dir string) (string, error) {
	p := filepath.Join(dir, workerIDFile)
	b, err := os.ReadFile(p)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if id == "" || len(id) > 64 || strings.ContainsAny(id, " \t/") {
			return "", fmt.Errorf("samples: %s holds %q, not a worker id", p, id)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("samples: read worker id: %w", err)
	}
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("samples: worker id: %w", err)
	}
	id := hex.EncodeToString(r[:])
	if err := writeAtomic(p, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("samples: write worker id: %w", err)
	}
	return id, nil
}

// marshalIndex is index.json's content.
func marshalIndex(idx Index) ([]byte, error) {
	b, err := json.MarshalIndent(idx, "", "  ")
	return append(b, '\n'), err
}

package samples

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
)

// recordingSink keeps what a Store tells its Sink.
type recordingSink struct {
	mu    sync.Mutex
	slots map[string][][]byte // category → lines by slot
	index []Index
}

func (r *recordingSink) Slot(source, category string, slot int, _ uint64, line []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := source + " " + category
	for len(r.slots[k]) <= slot {
		r.slots[k] = append(r.slots[k], nil)
	}
	r.slots[k][slot] = line
}

func (r *recordingSink) Index(idx Index) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.index = append(r.index, idx)
}

func TestTheSinkGetsExactlyWhatTheFilesHold(t *testing.T) {
	dir := t.TempDir()
	sink := &recordingSink{slots: map[string][][]byte{}}
	st, err := Open(Config{Dir: dir, PerCategory: 3, Rand: seeded(1), Now: fixedNow, FlushInterval: time.Hour, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		st.Observe(&mapper.Origin{Topic: "t", Offset: int64(i)}, nil, []byte(`{}`), rejected(mapper.Failure{Reason: mapper.ReasonUnknownSource}), 0)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(dir, CategoryPath("", "unknown_source")))
	if err != nil {
		t.Fatal(err)
	}
	got := append(bytes.Join(sink.slots[" unknown_source"], []byte("\n")), '\n')
	if !bytes.Equal(got, file) {
		t.Errorf("sink lines differ from the category file:\nsink:\n%s\nfile:\n%s", got, file)
	}
	if len(sink.index) == 0 {
		t.Fatal("the sink was told no counts")
	}
	want, err := os.ReadFile(filepath.Join(dir, indexFile))
	if err != nil {
		t.Fatal(err)
	}
	last, _ := marshalIndex(sink.index[len(sink.index)-1])
	if !bytes.Equal(last, want) {
		t.Errorf("last counts told to the sink differ from index.json:\n%s\n%s", last, want)
	}
	if c := sink.index[len(sink.index)-1].Sources[0].Categories[0]; c.Seen != 50 {
		t.Errorf("sink told %d seen; want 50", c.Seen)
	}
}

func TestWorkerIDStaysWithTheDirectory(t *testing.T) {
	dir := t.TempDir()
	a, err := WorkerID(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := WorkerID(dir)
	if err != nil || a != b || len(a) != 16 {
		t.Errorf("WorkerID = %q then %q (%v); want one 16-digit id", a, b, err)
	}
	if c, _ := WorkerID(t.TempDir()); c == a {
		t.Errorf("two directories share the worker id %q", a)
	}
	if err := os.WriteFile(filepath.Join(dir, workerIDFile), []byte("a b/c"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := WorkerID(dir); err == nil || !strings.Contains(err.Error(), "not a worker id") {
		t.Errorf("a damaged worker-id file: %v; want an error naming it", err)
	}
}

func TestWriteCategoryTakesOnlySampleLines(t *testing.T) {
	dir := t.TempDir()
	good, _ := json.Marshal(Sample{Source: "orders", Category: "clean", Outcome: mapper.OutcomeMapped})
	if err := WriteCategory(dir, "orders", "clean", [][]byte{good}); err != nil {
		t.Fatal(err)
	}
	ss, err := Read(dir, "orders", "clean")
	if err != nil || len(ss) != 1 {
		t.Errorf("read back %d samples, %v", len(ss), err)
	}
	for _, bad := range []string{"", "[1]", "{\"a\":1}\n{\"b\":2}", "{not json"} {
		if err := WriteCategory(dir, "orders", "clean", [][]byte{[]byte(bad)}); err == nil {
			t.Errorf("WriteCategory(%q) took it", bad)
		}
	}
}

package sampletopic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

func TestCheckRefusesMissingAndUncompactedTopics(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			ctx := context.Background()
			compact := createTopic(t, b, "samples", 3, "compact")
			if n, err := Check(ctx, topicConfig(b, compact)); err != nil || n != 3 {
				t.Errorf("Check(compacted topic) = %d, %v; want 3 partitions", n, err)
			}
			both := createTopic(t, b, "samples-both", 1, "compact,delete")
			if _, err := Check(ctx, topicConfig(b, both)); err != nil {
				t.Errorf("Check(compact,delete) = %v; want it accepted", err)
			}
			del := createTopic(t, b, "samples-delete", 1, "delete")
			_, err := Check(ctx, topicConfig(b, del))
			if !errors.Is(err, ErrNotCompacted) || !strings.Contains(err.Error(), "cleanup.policy=delete") {
				t.Errorf("Check(delete topic) = %v; want ErrNotCompacted naming the policy", err)
			}
			_, err = Check(ctx, topicConfig(b, kafkatest.UniqueName("nowhere")))
			if !errors.Is(err, ErrNoTopic) {
				t.Errorf("Check(missing topic) = %v; want ErrNoTopic", err)
			}
		})
	}
}

// worker is one sample store feeding the topic, as mapper run wires it.
type worker struct {
	store  *samples.Store
	values *samples.Values
	writer *Writer
	dir    string
}

func startWorker(t *testing.T, cfg Config, k int) *worker {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	id, err := samples.WorkerID(dir)
	if err != nil {
		t.Fatal(err)
	}
	start, err := Read(ctx, cfg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(ctx, WriterConfig{Config: cfg, Worker: id, Start: start, FlushInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err := samples.Open(samples.Config{Dir: dir, PerCategory: k, Clean: k, FlushInterval: 50 * time.Millisecond, Sink: w})
	if err != nil {
		t.Fatal(err)
	}
	v, err := samples.OpenValues(samples.ValuesConfig{Dir: dir, FlushInterval: 50 * time.Millisecond, Sink: w})
	if err != nil {
		t.Fatal(err)
	}
	return &worker{store: st, values: v, writer: w, dir: dir}
}

// close closes the store and the profiles first: their last flush goes to
// the writer, which writes it as it closes.
func (w *worker) close(t *testing.T) {
	t.Helper()
	if err := w.store.Close(); err != nil {
		t.Error(err)
	}
	if err := w.values.Close(); err != nil {
		t.Error(err)
	}
	if err := w.writer.Close(); err != nil {
		t.Error(err)
	}
}

func TestWorkersShareOneViewOfSamplesAndCounts(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			cfg := topicConfig(b, createTopic(t, b, "samples", 3, "compact"))
			eng := loadEngine(t)
			src := eng.Source("orders")
			payloads := orderPayloads(t)
			const k = 5
			workers := []*worker{startWorker(t, cfg, k), startWorker(t, cfg, k), startWorker(t, cfg, k)}
			want := map[string]uint64{}
			var delivered uint64
			for i, p := range payloads {
				res := src.Map(p)
				for _, c := range categoriesOf(&res) {
					want[c]++
				}
				if res.Outcome.Delivered() {
					delivered++
				}
				workers[i%3].store.Observe(&mapper.Origin{Topic: "partner.orders.raw", Partition: i % 3, Offset: int64(i)}, src, p, &res, 0)
			}
			for _, w := range workers {
				w.close(t)
			}

			snap, err := Read(context.Background(), cfg, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if snap.Skipped != 0 || snap.Workers() != 3 {
				t.Errorf("snapshot: %d skipped (%v), %d workers; want 0 and 3", snap.Skipped, snap.SkippedWhy, snap.Workers())
			}
			counts := snap.Counts()["orders"]
			if counts.Records != uint64(len(payloads)) || counts.Delivered != delivered {
				t.Errorf("records %d delivered %d; want %d and %d", counts.Records, counts.Delivered, len(payloads), delivered)
			}
			for c, n := range want {
				if counts.Seen[c] != n {
					t.Errorf("category %s seen %d; want %d", c, counts.Seen[c], n)
				}
			}
			if len(counts.Seen) != len(want) {
				t.Errorf("categories %v; want %v", counts.Seen, want)
			}

			dir := filepath.Join(t.TempDir(), "pulled")
			if _, err := snap.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			list, err := samples.List(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range list {
				if c.Seen != want[c.Category] {
					t.Errorf("pulled %s: SEEN %d, want %d", c.Category, c.Seen, want[c.Category])
				}
				if c.Kept < 1 || c.Kept > k || uint64(c.Kept) > c.Seen {
					t.Errorf("pulled %s: KEPT %d of %d seen; want 1..%d", c.Category, c.Kept, c.Seen, k)
				}
			}
			all, err := samples.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			fromSnap, err := snap.Samples()
			if err != nil || len(fromSnap) != len(all) {
				t.Errorf("Snapshot.Samples: %d samples, %v; the pulled directory has %d", len(fromSnap), err, len(all))
			}

			// Nothing at a redacted path left the process unmasked: no email
			// of the payloads is in any record of the topic.
			emails := regexp.MustCompile(`"email":"([^"]+@[^"]+)"`)
			masked := regexp.MustCompile(`^[xX0@.\s-]*$`)
			raw := b.ReadAll(t, cfg.Topic)
			for _, p := range payloads {
				for _, m := range emails.FindAllSubmatch(p, -1) {
					if masked.Match(m[1]) {
						continue // nothing to tell apart from its mask
					}
					for _, r := range raw {
						if bytes.Contains(r.Value, m[1]) {
							t.Fatalf("record %s holds the unredacted email %s", r.Key, m[1])
						}
					}
				}
			}
		})
	}
}

func categoriesOf(res *mapper.Result) []string {
	if len(res.Failures) == 0 {
		if res.Outcome == mapper.OutcomeMapped {
			return []string{samples.CleanCategory}
		}
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range res.Failures {
		c := f.Category().String()
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func TestARestartedWorkerKeepsTheGroupsFirstRecordAndCounts(t *testing.T) {
	b := kafkatest.StartKfake(t)
	cfg := topicConfig(b, createTopic(t, b, "samples", 2, "compact"))
	src := loadEngine(t).Source("orders")
	payloads := orderPayloads(t)
	feed := func(w *worker, ps [][]byte, base int) {
		for i, p := range ps {
			res := src.Map(p)
			w.store.Observe(&mapper.Origin{Topic: "partner.orders.raw", Offset: int64(base + i)}, src, p, &res, 0)
		}
	}
	first := startWorker(t, cfg, 3)
	feed(first, payloads[:100], 0)
	first.close(t)
	before, err := Read(context.Background(), cfg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A new worker (a rescheduled pod: new, empty directory) goes on.
	second := startWorker(t, cfg, 3)
	feed(second, payloads[100:], 100)
	second.close(t)
	after, err := Read(context.Background(), cfg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Counts()["orders"].Records; got != uint64(len(payloads)) {
		t.Errorf("records after the restart: %d; want %d (both workers' counts)", got, len(payloads))
	}
	k := slotKey{"orders", samples.CleanCategory, 0}
	if !bytes.Equal(before.slots[k], after.slots[k]) {
		t.Errorf("the restarted worker replaced the group's first clean record:\nbefore %s\nafter  %s", before.slots[k], after.slots[k])
	}
}

func TestOneWorkerAnnouncesEachCategory(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			ctx := context.Background()
			cfg := topicConfig(b, createTopic(t, b, "samples", 3, "compact"))
			start, err := Read(ctx, cfg, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cats := []string{"missing_field:order_id", "unknown_enum:status", "malformed_payload", "invalid_format:created"}
			var mu sync.Mutex
			wins := map[string][]string{}
			var wg sync.WaitGroup
			for w := range 3 {
				l, err := NewLedger(cfg, fmt.Sprint("w", w), start)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cats {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ok, err := l.Announce(ctx, "orders", 1, c)
						if err != nil {
							t.Error(err)
						}
						if ok {
							mu.Lock()
							wins[c] = append(wins[c], fmt.Sprint("w", w))
							mu.Unlock()
						}
					}()
				}
			}
			wg.Wait()
			for _, c := range cats {
				if len(wins[c]) != 1 {
					t.Errorf("%s announced by %v; want exactly one worker", c, wins[c])
				}
			}
			// A worker started later knows them all from its start snapshot,
			// but a new rules version is a new category.
			later, err := Read(ctx, cfg, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			l, err := NewLedger(cfg, "w9", later)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cats {
				if !later.Announced("orders", 1, c) {
					t.Errorf("%s not in the snapshot's announced keys", c)
				}
				if ok, err := l.Announce(ctx, "orders", 1, c); ok || err != nil {
					t.Errorf("restarted worker: Announce(%s) = %t, %v; want false", c, ok, err)
				}
			}
			if ok, err := l.Announce(ctx, "orders", 2, cats[0]); !ok || err != nil {
				t.Errorf("Announce(rules v2) = %t, %v; want true", ok, err)
			}
		})
	}
}

func TestRecordsThatAreNotOursAreSkippedAndReported(t *testing.T) {
	b := kafkatest.StartKfake(t)
	cfg := topicConfig(b, createTopic(t, b, "samples", 1, "compact"))
	good := []byte(`{"captured_at":"2026-01-02T03:04:05Z","source":"orders","rules_version":1,"category":"clean","partition":0,"offset":1,"payload":{"order_id":"A"},"outcome":"mapped","failures":[]}`)
	b.Produce(t, cfg.Topic,
		kafka.Message{Key: []byte("not a key"), Value: []byte("x")},
		kafka.Message{Key: Key{Kind: KindSample, Source: "orders", Category: "clean", Slot: 0}.Bytes(), Value: []byte("{not json")},
		kafka.Message{Key: Key{Kind: KindSample, Source: "orders", Category: "clean", Slot: 1}.Bytes(), Value: good},
		kafka.Message{Key: Key{Kind: KindSample, Source: "other", Category: "clean", Slot: 2}.Bytes(), Value: good},
		kafka.Message{Key: Key{Kind: KindSeen, Source: "orders", Category: "clean", Worker: "w"}.Bytes(), Value: []byte(`{"seen":"many"}`)},
		kafka.Message{Key: Key{Kind: KindSeen, Source: "orders", Category: "clean", Worker: "w"}.Bytes(), Value: []byte(`{"seen":7}`)},
	)
	snap, err := Read(context.Background(), cfg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Records != 6 || snap.Skipped != 4 {
		t.Errorf("read %d records, skipped %d (%v); want 6 and 4", snap.Records, snap.Skipped, snap.SkippedWhy)
	}
	for _, want := range []string{"not a JSON array", "value is not a sample", `sample of "orders" "clean"`, "value is not a count"} {
		if !strings.Contains(strings.Join(snap.SkippedWhy, "\n"), want) {
			t.Errorf("skipped reasons lack %q: %v", want, snap.SkippedWhy)
		}
	}
	if got := snap.Counts()["orders"].Seen["clean"]; got != 7 {
		t.Errorf("clean seen %d; want 7", got)
	}
	if _, err := Read(context.Background(), cfg, ReadOptions{MaxKeys: 1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Read with MaxKeys 1 = %v; want ErrTooLarge", err)
	}
}

func TestPullReplacesOnlyDirectoriesItWrote(t *testing.T) {
	snap := newSnapshot("t")
	snap.slots[slotKey{"orders", "clean", 0}] = []byte(`{"source":"orders","category":"clean","outcome":"mapped","failures":[]}`)
	dir := t.TempDir()
	if _, err := snap.WriteDir(dir); err != nil {
		t.Fatalf("into an empty directory: %v", err)
	}
	if _, err := snap.WriteDir(dir); err != nil {
		t.Fatalf("into a directory pulled before: %v", err)
	}
	mine := t.TempDir()
	if err := os.WriteFile(filepath.Join(mine, "index.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := snap.WriteDir(mine); !errors.Is(err, ErrNotPulled) {
		t.Errorf("into a worker's directory: %v; want ErrNotPulled", err)
	}
}

func TestWritersLearnEachOthersCountsFromTheTopic(t *testing.T) {
	b := kafkatest.StartKfake(t)
	cfg := topicConfig(b, createTopic(t, b, "samples", 2, "compact"))
	ctx := context.Background()
	start, err := Read(ctx, cfg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewWriter(ctx, WriterConfig{Config: cfg, Worker: "a", Start: start, FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	other, err := NewWriter(ctx, WriterConfig{Config: cfg, Worker: "b", Start: start, FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a.Index(samples.Index{Sources: []samples.IndexSource{{Source: "orders", Categories: []samples.IndexCategory{{Category: "clean", Seen: 700}}}}})
	deadline := time.Now().Add(30 * time.Second)
	for {
		other.mu.Lock()
		got := other.groupSeen("orders", "clean", 5)
		other.mu.Unlock()
		a.mu.Lock()
		own := a.groupSeen("orders", "clean", 700)
		a.mu.Unlock()
		if got == 705 && own == 700 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker b counts the group at %d (want 705), worker a at %d (want its own 700)", got, own)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A worker started later takes the others' counts from its start.
	later, err := Read(ctx, cfg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewWriter(ctx, WriterConfig{Config: cfg, Worker: "c", Start: later})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if got := c.groupSeen("orders", "clean", 1); got != 701 {
		t.Errorf("a worker started later counts the group at %d; want 701", got)
	}
}

func TestTheLedgerFollowsTheWritersReads(t *testing.T) {
	b := kafkatest.StartKfake(t)
	cfg := topicConfig(b, createTopic(t, b, "samples", 1, "compact"))
	ctx := context.Background()
	start, err := Read(ctx, cfg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Another worker announces a category while this one runs.
	other, err := NewLedger(cfg, "other", start)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := other.Announce(ctx, "orders", 1, "unknown_enum:status"); !ok || err != nil {
		t.Fatalf("Announce = %t, %v", ok, err)
	}
	l, err := NewLedger(cfg, "me", start)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(ctx, WriterConfig{Config: cfg, Worker: "me", Start: start, Ledger: l, FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := range 50 { // counts keep coming, as they do once a second
		w.Index(samples.Index{Sources: []samples.IndexSource{{Source: "orders", Records: uint64(i + 1)}}})
		time.Sleep(5 * time.Millisecond)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		end, err := b.End(ctx, cfg.Topic)
		if err != nil {
			t.Fatal(err)
		}
		l.mu.Lock()
		from, known := l.from[0], l.known[announcedKey{"orders", 1, "unknown_enum:status"}]
		l.mu.Unlock()
		if known && from == end && w.Stats().Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ledger starts reading at %d of %d and knows the other's announcement: %t", from, end, known)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ok, err := l.Announce(ctx, "orders", 1, "unknown_enum:status"); ok || err != nil {
		t.Errorf("Announce of the other's category = %t, %v; want false", ok, err)
	}
}

package sampletopic

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/samples"
)

// TestWorkersShareTheirDriftReports has three workers observe the orders
// fixtures, each its share, and write their drift reports to the samples
// topic: the group's report read back (and pulled into a directory)
// counts what one observer of every record counts.
func TestWorkersShareTheirDriftReports(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			cfg := topicConfig(b, createTopic(t, b, "samples", 3, "compact"))
			src := loadEngine(t).Source("orders")
			payloads := append(orderPayloads(t), hostileOrders...)
			truth, err := drift.Open(drift.Config{FlushInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			var workers []*Writer
			var observers []*drift.Observer
			for range 3 {
				dir := t.TempDir()
				id, err := samples.WorkerID(dir)
				if err != nil {
					t.Fatal(err)
				}
				w, err := NewWriter(context.Background(), WriterConfig{Config: cfg, Worker: id, FlushInterval: 50 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				o, err := drift.Open(drift.Config{Dir: dir, FlushInterval: 50 * time.Millisecond, Sink: w})
				if err != nil {
					t.Fatal(err)
				}
				workers, observers = append(workers, w), append(observers, o)
			}
			for i, p := range payloads {
				res := src.Map(p)
				observers[i%3].Observe(&mapper.Origin{}, src, p, &res, 0)
				truth.Observe(&mapper.Origin{}, src, p, &res, 0)
			}
			for i := range workers {
				if err := observers[i].Close(); err != nil {
					t.Fatal(err)
				}
				if err := workers[i].Close(); err != nil {
					t.Fatal(err)
				}
			}
			want, _ := truth.Report("orders")
			_ = truth.Close()
			if len(want.Entries) == 0 {
				t.Fatal("the fixtures show no drift: nothing to share")
			}

			snap, err := Read(context.Background(), cfg, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if snap.Skipped != 0 {
				t.Fatalf("skipped %v", snap.SkippedWhy)
			}
			got, ok := snap.Drift("orders")
			if !ok {
				t.Fatal("no drift report in the topic")
			}
			if got.Records != want.Records || len(got.Entries) != len(want.Entries) {
				t.Fatalf("group report: %d records, %d entries; one observer: %d, %d", got.Records, len(got.Entries), want.Records, len(want.Entries))
			}
			for i, e := range want.Entries {
				g := got.Entries[i]
				if g.Kind != e.Kind || g.Path != e.Path || g.Count != e.Count || g.Share != e.Share {
					t.Errorf("entry %d: group %s %s %d (%.4f), one observer %s %s %d (%.4f)", i, g.Kind, g.Path, g.Count, g.Share, e.Kind, e.Path, e.Count, e.Share)
				}
			}

			dir := filepath.Join(t.TempDir(), "pulled")
			if _, err := snap.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			pulled, err := drift.ReadFile(dir, "orders")
			if err != nil || pulled.Records != want.Records {
				t.Fatalf("pulled report: %+v, %v", pulled, err)
			}
			file, _ := os.ReadFile(filepath.Join(dir, drift.Path("orders")))
			for _, s := range secrets {
				if strings.Contains(string(file), s) {
					t.Errorf("%s leaked into the pulled drift report", s)
				}
			}
		})
	}
}

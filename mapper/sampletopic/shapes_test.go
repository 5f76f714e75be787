package sampletopic

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// TestWorkersShareTheirUnroutedShapes has three workers' sample stores
// profile their share of records no source accepts and write the profiles
// to the samples topic: the group's profile read back (and pulled into a
// directory) counts what one store of every record counts.
func TestWorkersShareTheirUnroutedShapes(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			cfg := topicConfig(b, createTopic(t, b, "samples", 3, "compact"))
			shapes := samples.ShapeConfig{RoutingHeaders: []string{"X-Kind"}}
			open := func(dir string, sink samples.Sink) *samples.Store {
				st, err := samples.Open(samples.Config{Dir: dir, FlushInterval: 50 * time.Millisecond, Shapes: shapes, Sink: sink})
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
			truthDir := t.TempDir()
			truth := open(truthDir, nil)
			var workers []*Writer
			var stores []*samples.Store
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
				workers, stores = append(workers, w), append(stores, open(dir, w))
			}
			for i := range 60 {
				kind := []string{"refund", "invoice"}[i%2]
				origin := &mapper.Origin{Topic: "billing", Headers: []mapper.Header{{Key: "X-Kind", Value: []byte(kind)}}}
				p := fmt.Appendf(nil, `{"id":"%d","amount":%d,"lines":[{"sku":"a"}]}`, i, i)
				if i%3 == 0 {
					p = fmt.Appendf(nil, `{"id":"%d","note":null}`, i)
				}
				res := mapper.UnknownSource("billing")
				stores[i%3].Observe(origin, nil, p, &res, 0)
				truth.Observe(origin, nil, p, &res, 0)
			}
			for i := range workers {
				if err := stores[i].Close(); err != nil {
					t.Fatal(err)
				}
				if err := workers[i].Close(); err != nil {
					t.Fatal(err)
				}
			}
			if err := truth.Close(); err != nil {
				t.Fatal(err)
			}
			snap, err := Read(context.Background(), cfg, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if snap.Skipped != 0 {
				t.Fatalf("skipped %v", snap.SkippedWhy)
			}
			got, ok := snap.Shapes()
			if !ok {
				t.Fatal("no profile in the topic")
			}
			dir := filepath.Join(t.TempDir(), "pulled")
			if _, err := snap.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			pulled, ok, err := samples.ReadShapes(dir)
			if err != nil || !ok {
				t.Fatalf("pulled profile: ok %v, %v", ok, err)
			}
			want, _, err := samples.ReadShapes(truthDir)
			if err != nil {
				t.Fatal(err)
			}
			for name, sh := range map[string]samples.Shapes{"read": got, "pulled": pulled} {
				if g, w := groupsText(sh), groupsText(want); g != w {
					t.Errorf("%s profile:\n%s\nwant, as one store of every record counts it:\n%s", name, g, w)
				}
			}
		})
	}
}

// groupsText is the counts of a profile, one line per group and path.
func groupsText(sh samples.Shapes) string {
	var s string
	for _, g := range sh.Groups {
		s += fmt.Sprintf("%s %v: %d records, %d objects\n", g.Topic, g.Routing, g.Records, g.Objects)
		for _, p := range g.Paths {
			s += fmt.Sprintf("  %s %d %d %v\n", p.Path, p.Records, p.Present, p.Types)
		}
	}
	return s
}

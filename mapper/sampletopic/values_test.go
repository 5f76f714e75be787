package sampletopic

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// hostileOrders are orders that fail at redacted paths with values that
// must never leave the process: a card number where the email goes, an
// object where the name goes.
var hostileOrders = [][]byte{
	[]byte(`{"order_id":"ORD-1","source":"partner-alpha","customer":{"email":4111111111111111,"name":{"first":"SECRETNAME"},"address":{"line1":"1 Main St","city":"Lisbon","postcode":"10000","country":"PT","geo":"SECRETGEO"}},"meta":{"ip":12345},"items":[{"sku":"SKU-10001","qty":2,"price":"12.30","title":"Widget 1"}],"amount":"24.60","currency":"EUR","status":"on-hold","created":"2024-05-01T12:00:00Z"}`),
	[]byte(`{"order_id":"ORD-2","customer":{"email":["4111111111111111"],"name":7},"items":[],"amount":"1.00","currency":"EUR","status":"paid","created":"2024-05-01T12:00:00Z"}`),
}

var secrets = []string{"4111111111111111", "SECRETNAME", "SECRETGEO"}

func TestWorkersShareTheirValueProfiles(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			cfg := topicConfig(b, createTopic(t, b, "samples", 3, "compact"))
			src := loadEngine(t).Source("orders")
			payloads := append(orderPayloads(t), hostileOrders...)
			// The truth: one profiler over every record, large enough to
			// count every distinct value exactly.
			truthDir := t.TempDir()
			truth, err := samples.OpenValues(samples.ValuesConfig{Dir: truthDir, PerCategory: 1 << 14, FlushInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			workers := []*worker{startWorker(t, cfg, 5), startWorker(t, cfg, 5), startWorker(t, cfg, 5)}
			for round := range 3 { // several flushes: profiles are rewritten as they change
				for i, p := range payloads {
					res := src.Map(p)
					origin := &mapper.Origin{Topic: "partner.orders.raw", Offset: int64(round*len(payloads) + i)}
					workers[(i+round)%3].values.Observe(origin, src, p, &res, 0)
					truth.Observe(origin, src, p, &res, 0)
				}
				time.Sleep(60 * time.Millisecond)
			}
			for _, w := range workers {
				w.close(t)
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
			want := map[string]map[string]uint64{}
			wantTotal := map[string]uint64{}
			exact, err := samples.ReadAllValues(truthDir)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range exact {
				want[p.Category] = map[string]uint64{}
				for _, e := range p.Values {
					want[p.Category][e.Value] = e.Count
				}
				wantTotal[p.Category] = p.Total
			}
			if want["unknown_enum:status"][`"on-hold"`] == 0 {
				t.Fatalf("the fixtures have no on-hold status: %v", want["unknown_enum:status"])
			}
			got := snap.Profiles()
			if len(got) != len(exact) {
				t.Errorf("the topic holds %d profiles; mapping every record gives %d", len(got), len(exact))
			}
			for _, p := range got {
				if p.Total != wantTotal[p.Category] {
					t.Errorf("%s: total %d; want %d", p.Category, p.Total, wantTotal[p.Category])
				}
				for _, e := range p.Values {
					tc := want[p.Category][e.Value]
					if tc > e.Count || e.Count-e.Error > tc {
						t.Errorf("%s %s: true count %d outside [%d, %d]", p.Category, e.Value, tc, e.Count-e.Error, e.Count)
					}
					if e.Error > p.Total/uint64(p.Capacity) {
						t.Errorf("%s %s: error %d over Total/Capacity %d", p.Category, e.Value, e.Error, p.Total/uint64(p.Capacity))
					}
				}
			}
			status, ok := snap.Profile("orders", "unknown_enum:status")
			if !ok {
				t.Fatal("no profile of unknown_enum:status")
			}
			for _, e := range status.Values {
				if e.Error != 0 || e.Count != want["unknown_enum:status"][e.Value] {
					t.Errorf("status %s counted %d ±%d; want exactly %d", e.Value, e.Count, e.Error, want["unknown_enum:status"][e.Value])
				}
			}
			if len(status.Values) != len(want["unknown_enum:status"]) {
				t.Errorf("statuses %v; want %v", status.Values, want["unknown_enum:status"])
			}

			t.Logf("%d profiles from %d workers; unknown_enum:status: %d values counted, %v", len(got), snap.Workers(), status.Total, status.Values)

			// The pulled directory holds the merged profiles, as a worker's does.
			dir := filepath.Join(t.TempDir(), "pulled")
			if _, err := snap.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			onDisk, ok, err := samples.ReadValues(dir, "orders", "unknown_enum:status")
			if err != nil || !ok || fmt.Sprint(onDisk.Values) != fmt.Sprint(status.Values) || onDisk.Total != status.Total {
				t.Errorf("pulled profile %v (%t, %v); want %v", onDisk, ok, err, status)
			}
			// A second pull replaces the profiles too.
			if _, err := snap.WriteDir(dir); err != nil {
				t.Fatal(err)
			}

			// No value at a redacted path is in the topic, in any record.
			for _, r := range b.ReadAll(t, cfg.Topic) {
				for _, s := range secrets {
					if bytes.Contains(r.Value, []byte(s)) || bytes.Contains(r.Key, []byte(s)) {
						t.Errorf("record %s holds %s, a value at a redacted path", r.Key, s)
					}
				}
			}
		})
	}
}

func TestValueProfilesThatAreNotOursAreSkipped(t *testing.T) {
	b := kafkatest.StartKfake(t)
	cfg := topicConfig(b, createTopic(t, b, "samples", 1, "compact"))
	key := func(w string) []byte {
		return Key{Kind: KindValues, Source: "orders", Category: "unknown_enum:status", Worker: w}.Bytes()
	}
	many := `{"total":2000,"capacity":32,"values":[` + strings.TrimSuffix(strings.Repeat(`{"value":"\"x\"","count":1},`, maxProfileValues+1), ",") + `]}`
	long := `{"total":1,"capacity":32,"values":[{"value":"` + strings.Repeat("y", 200) + `","count":1}]}`
	b.Produce(t, cfg.Topic,
		kafka.Message{Key: key("a"), Value: []byte(`{"values":"on-hold"}`)},
		kafka.Message{Key: key("b"), Value: []byte(many)},
		kafka.Message{Key: key("c"), Value: []byte(long)},
		kafka.Message{Key: key("d"), Value: []byte(`{"total":3,"capacity":32,"values":[{"value":"\"on-hold\"","count":3}]}`)},
		kafka.Message{Key: key("e"), Value: []byte(`{"total":2,"capacity":32,"values":[{"value":"\"on-hold\"","count":1},{"value":"\"PAID_OUT\"","count":1}]}`)},
	)
	snap, err := Read(context.Background(), cfg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	why := strings.Join(snap.SkippedWhy, "\n")
	if snap.Skipped != 3 {
		t.Errorf("skipped %d: %s; want 3", snap.Skipped, why)
	}
	for _, want := range []string{"not a value profile", "more than 1024", "a profiled value of 200 bytes"} {
		if !strings.Contains(why, want) {
			t.Errorf("skipped reasons lack %q: %s", want, why)
		}
	}
	p, ok := snap.Profile("orders", "unknown_enum:status")
	want := `[{"on-hold" 4 0 false} {"PAID_OUT" 1 0 false}]`
	if !ok || fmt.Sprint(p.Values) != want || p.Total != 5 {
		t.Errorf("merged profile %v total %d (%t); want %s total 5", p.Values, p.Total, ok, want)
	}
}

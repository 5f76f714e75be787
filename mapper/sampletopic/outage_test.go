package sampletopic

import (
	"context"
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper/samples"
)

func TestTheWriterKeepsWhatTheBrokerDidNotTakeAndWritesItLater(t *testing.T) {
	dir, port := t.TempDir(), kafkatest.FreePort(t)
	c, err := kafkatest.NewKfake(kafkatest.Persist(dir, port)...)
	if err != nil {
		t.Fatal(err)
	}
	b := kafkatest.FromKfake(c)
	cfg := topicConfig(b, createTopic(t, b, "samples", 2, "compact"))
	cfg.Timeout = 2 * time.Second
	w, err := NewWriter(context.Background(), WriterConfig{Config: cfg, Worker: "w", FlushInterval: 50 * time.Millisecond, CloseTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c.Close() // the broker goes away
	line := []byte(`{"source":"orders","category":"clean","outcome":"mapped","failures":[]}`)
	w.Slot("orders", "clean", 1, 2, line)
	w.Index(samples.Index{Sources: []samples.IndexSource{{Source: "orders", RulesVersion: 1, Records: 7, Delivered: 7,
		Categories: []samples.IndexCategory{{Category: "clean", Seen: 7}}}}})
	deadline := time.Now().Add(60 * time.Second)
	for w.Stats().Failed == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no write failed while the broker was down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if p := w.Stats().Pending; p < 3 {
		t.Errorf("%d records pending while the broker is down; want the 3 not written", p)
	}
	c, err = kafkatest.NewKfake(kafkatest.Persist(dir, port)...)
	if err != nil {
		t.Fatalf("restart broker: %v", err)
	}
	defer c.Close()
	for w.Stats().Pending > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still %d records pending after the broker came back", w.Stats().Pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	snap, err := Read(context.Background(), cfg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Counts()["orders"]; got.Records != 7 || got.Seen["clean"] != 7 || snap.Kept() != 1 {
		t.Errorf("after the outage the topic holds %+v and %d samples; want 7 records, 7 clean, 1 sample", got, snap.Kept())
	}
}

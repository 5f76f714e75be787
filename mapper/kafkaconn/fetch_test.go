package kafkaconn_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
)

// TestFetcherBoundsThePagesOfSmallBatches reads a partition written one
// record a batch (as a producer that sends each record alone writes it).
// kafka-go decodes every batch of a fetch into a 64 KiB page of its own;
// when the Fetcher has kafka-go decode (records older than the v2 batch),
// it asks for no more records than fill its MaxPageBytes of pages, one
// page a batch, and still reads every record, in order, byte for byte.
// Read into one buffer, a fetch of 4 MiB takes them all at once, with
// or without the Fetcher.
func TestFetcherBoundsThePagesOfSmallBatches(t *testing.T) {
	const n, maxPages = 120, 1 << 20 // 16 pages of 64 KiB
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			topic := b.Topic(t, "small-batches", 1)
			want := make([][]byte, n)
			for i := range want {
				want[i] = fmt.Appendf(nil, `{"order_id":"o-%d","note":"%s"}`, i, bytes.Repeat([]byte("x"), 500))
				// One call, one record: a batch of its own.
				b.Produce(t, topic, kafka.Message{Partition: 0, Value: want[i]})
			}
			client := &kafka.Client{Addr: kafka.TCP(b.Addr), Transport: b.Transport}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			all, _, err := kafkaconn.Fetch(ctx, client, topic, 0, 0, 4<<20, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != n {
				t.Fatalf("a plain fetch of 4 MiB returned %d records, want all %d (the contrast this test relies on)", len(all), n)
			}

			own := &kafkaconn.Fetcher{Client: client, MaxWait: time.Second, MaxPageBytes: maxPages}
			if mine, _, err := own.Fetch(ctx, topic, 0, 0, 4<<20); err != nil || len(mine) != n {
				t.Fatalf("the Fetcher reading the response itself: %d records, %v; want all %d in one fetch", len(mine), err, n)
			}

			f := &kafkaconn.Fetcher{Client: client, MaxWait: time.Second, MaxPageBytes: maxPages}
			kafkaconn.DecodeWithKafkaGo(f)
			var got [][]byte
			fetches := 0
			for off := int64(0); len(got) < n; fetches++ {
				if fetches > n {
					t.Fatalf("%d fetches for %d records", fetches, len(got))
				}
				msgs, next, err := f.Fetch(ctx, topic, 0, off, 4<<20)
				if err != nil {
					t.Fatal(err)
				}
				if len(msgs) > maxPages/(64<<10) {
					t.Errorf("fetch %d at %d returned %d one-record batches: more than %d pages of 64 KiB", fetches, off, len(msgs), maxPages/(64<<10))
				}
				for _, m := range msgs {
					got = append(got, m.Value)
				}
				off = next
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("record %d: got %q, want %q", i, got[i], want[i])
				}
			}
			if fetches < n/16 {
				t.Errorf("%d fetches for %d records: the pages were not bounded", fetches, n)
			}
		})
	}
}

// TestFetcherLimit sizes a fetch by the batches last seen: small batches
// take a page each, large ones several.
func TestFetcherLimit(t *testing.T) {
	f := &kafkaconn.Fetcher{MaxPageBytes: 8 << 20}
	if got := f.Limit("t", 0, 4<<20); got != 128*512 {
		t.Errorf("before any fetch: limit %d, want 128 pages of a 512-byte guess (%d)", got, 128*512)
	}
	if got := f.Limit("t", 0, 100); got != 100 {
		t.Errorf("the caller's smaller maxBytes: limit %d, want 100", got)
	}
}

// TestFetchIntoReadsIntoTheMemoryGiven fetches a partition in small
// fetches, each into the memory of the fetch before it: every record comes
// in order and byte for byte as Fetch reads it, and the fetches after the
// first are read into that memory (records and response) rather than new.
func TestFetchIntoReadsIntoTheMemoryGiven(t *testing.T) {
	const n = 60
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			topic := b.Topic(t, "fetch-into", 1)
			want := make([]kafka.Message, n)
			for i := range want {
				want[i] = kafka.Message{Partition: 0, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, `{"order_id":"o-%d"}`, i),
					Headers: []kafka.Header{{Key: "h", Value: fmt.Appendf(nil, "v%d", i)}}}
				b.Produce(t, topic, want[i])
			}
			client := &kafka.Client{Addr: kafka.TCP(b.Addr), Transport: b.Transport}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			f := &kafkaconn.Fetcher{Client: client, MaxWait: time.Second}
			mem := &kafkaconn.Memory{Msgs: make([]kafka.Message, 0, n), Body: make([]byte, 0, 64<<10)}
			msgsInto, bodyInto := 0, 0
			var got []kafka.Message
			for off, fetches := int64(0), 0; len(got) < n; fetches++ {
				if fetches > n {
					t.Fatalf("%d fetches for %d records", fetches, len(got))
				}
				msgs0, body0 := &mem.Msgs[:1][0], &mem.Body[:1][0]
				msgs, next, err := f.FetchInto(ctx, mem, topic, 0, off, 200)
				if err != nil {
					t.Fatal(err)
				}
				if len(msgs) > 0 {
					if &msgs[0] == msgs0 {
						msgsInto++
					}
					if &mem.Body[:1][0] == body0 {
						bodyInto++
					}
				}
				for _, m := range msgs {
					m.Key, m.Value = bytes.Clone(m.Key), bytes.Clone(m.Value)
					m.Headers = []kafka.Header{{Key: m.Headers[0].Key, Value: bytes.Clone(m.Headers[0].Value)}}
					got = append(got, m)
				}
				off = next
			}
			for i := range want {
				g := got[i]
				if g.Offset != int64(i) || !bytes.Equal(g.Key, want[i].Key) || !bytes.Equal(g.Value, want[i].Value) ||
					len(g.Headers) != 1 || !bytes.Equal(g.Headers[0].Value, want[i].Headers[0].Value) {
					t.Fatalf("record %d: offset %d key %q value %q headers %v, want %q %q %v", i, g.Offset, g.Key, g.Value, g.Headers, want[i].Key, want[i].Value, want[i].Headers)
				}
			}
			if msgsInto == 0 || bodyInto == 0 {
				t.Errorf("fetches read into the records given %d times, into the response given %d times: want both", msgsInto, bodyInto)
			}
		})
	}
}

// TestFetchIntoLeavesAFetchItsMemoryWhenItsContextEnds starts a fetch
// that waits on the broker (at the end of the partition, with a long wait)
// and ends its context first, as a rebalance or a shutdown does. kafka-go's
// transport returns then, while the connection still reads the response
// when it comes: into the memory FetchInto was handed. That memory must
// leave mem, so that the caller's next fetch into mem reads into memory of
// its own and not into memory the late response is written to (which the
// race detector reports, and which would mix two responses' bytes).
func TestFetchIntoLeavesAFetchItsMemoryWhenItsContextEnds(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			topic := b.Topic(t, "canceled-fetch", 1)
			// A first record: once it is written the partition has its
			// leader, and a fetch after it waits for the next.
			b.Produce(t, topic, kafka.Message{Partition: 0, Value: []byte(`{"order_id":"o-0"}`)})
			client := &kafka.Client{Addr: kafka.TCP(b.Addr), Transport: b.Transport}
			f := &kafkaconn.Fetcher{Client: client, MaxWait: 3 * time.Second}
			body, msgs := make([]byte, 0, 64<<10), make([]kafka.Message, 0, 16)
			mem := kafkaconn.Memory{Body: body, Msgs: msgs}

			ctx, cancel := context.WithCancel(context.Background())
			stop := time.AfterFunc(200*time.Millisecond, cancel)
			defer stop.Stop()
			start := time.Now()
			got, _, err := f.FetchInto(ctx, &mem, topic, 0, 1, 1<<20)
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("a fetch at the end of the partition returned %d records and %v after %v; want it to wait until its context ended (this test needs that)", len(got), err, time.Since(start))
			}
			if cap(mem.Body) > 0 && &mem.Body[:1][0] == &body[:1][0] {
				t.Error("after a fetch whose context ended, mem still holds the body memory the connection may read the response into")
			}
			if cap(mem.Msgs) > 0 && &mem.Msgs[:1][0] == &msgs[:1][0] {
				t.Error("after a fetch whose context ended, mem still holds the records memory the response may be decoded into")
			}

			// The late response now comes (the record answers the waiting
			// fetch) while the next fetch reads into mem.
			want := []byte(`{"order_id":"o-1"}`)
			b.Produce(t, topic, kafka.Message{Partition: 0, Value: want})
			ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got, next, err := f.FetchInto(ctx, &mem, topic, 0, 1, 1<<20)
			if err != nil || len(got) != 1 || !bytes.Equal(got[0].Value, want) || next != 2 {
				t.Fatalf("the next fetch into mem: %d records, next %d, %v; want the one record, %s", len(got), next, err, want)
			}
		})
	}
}

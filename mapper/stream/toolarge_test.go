package stream_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/internal/syncbuf"
)

func readyz(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestRecordTooLargeHoldsOnlyItsPartition dead-letters a record larger than
// the dead-letter topic's max.message.bytes: its partition stops there
// (/readyz 503 naming the record and its size, logged once) while another
// partition is delivered in full; once the topic's limit is raised the
// record is written and the partition catches up, nothing lost.
func TestRecordTooLargeHoldsOnlyItsPartition(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in := b.Topic(t, "orders", 1)
			other := b.Topic(t, "unclaimed", 1)
			out := b.Topic(t, "out", 1)
			dlq := b.TopicWithConfig(t, "dlq", 1, map[string]string{"max.message.bytes": "8192"})
			e := loadEngine(t, in)
			msgs := mixed(30)
			msgs[10] = kafka.Message{Key: []byte("big"), Value: bytes.Repeat([]byte("x"), 20000)} // not JSON: dead-lettered
			b.Produce(t, in, msgs...)
			b.Produce(t, other, mixed(20)...)

			var logs syncbuf.Buffer
			cfg := testConfig(b, e, kafkatest.UniqueName("g"), []string{in, other}, out, dlq)
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			cfg.BatchSize = 5
			cfg.PartitionBatches = 2
			cfg.RetryBackoffMax = 300 * time.Millisecond
			r := start(t, cfg)
			srv := httptest.NewServer(r.w.Handler())
			defer srv.Close()

			// The other partition is delivered in full; this one stops
			// before the large record.
			var lags string
			deadline := time.Now().Add(60 * time.Second)
			for {
				ls, err := r.w.Lag(context.Background())
				var otherDone, held bool
				for _, l := range ls {
					otherDone = otherDone || (l.Topic == other && l.Lag == 0)
					held = held || (l.Topic == in && l.Committed == 10)
				}
				if err == nil && otherDone && held {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("want %s delivered and %s committed up to the large record at offset 10: %+v (%v)", other, in, ls, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			code, body := readyz(t, srv.URL)
			t.Logf("/readyz while blocked: %d %s", code, body)
			if code != http.StatusServiceUnavailable || !strings.Contains(body, in+"/0 blocked") || !strings.Contains(body, in+"/0@10") || !strings.Contains(body, "max.message.bytes 8192") {
				t.Errorf("/readyz: %d %q; want 503 naming %s/0@10 and the topic's limit", code, body, in)
			}
			time.Sleep(time.Second) // several retries
			if n := strings.Count(logs.String(), "partition blocked"); n != 1 {
				t.Errorf("the blocked partition was logged %d times, want once per interval:\n%s", n, lags+logs.String())
			}

			// Raise the limit: the record goes through, the partition catches up.
			if err := b.SetTopicConfig(context.Background(), dlq, map[string]string{"max.message.bytes": "1048588"}); err != nil {
				t.Fatal(err)
			}
			waitLagZero(t, r.w, 60*time.Second)
			if code, body := readyz(t, srv.URL); code != http.StatusOK {
				t.Errorf("/readyz after the limit was raised: %d %q", code, body)
			}
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			verifyDelivered(t, b, e, []string{in, other}, out, dlq)
			if !strings.Contains(logs.String(), "partition unblocked") {
				t.Errorf("no log line says the partition was unblocked")
			}
		})
	}
}

// TestLargeBatchesStayUnderTheTopicLimit dead-letters batches of several
// MiB (--batch-size 5000, records of ~1.6 KB) into a topic that takes 1 MiB
// a request: every record is delivered, none of the writes fails.
func TestLargeBatchesStayUnderTheTopicLimit(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in := b.Topic(t, "orders", 2)
			out := b.Topic(t, "out", 2)
			dlq := b.TopicWithConfig(t, "dlq", 2, map[string]string{"max.message.bytes": "1048588"})
			e := loadEngine(t, in)
			const n = 6000
			msgs := mixed(n)
			for i := range msgs {
				if i%10 < 3 { // 30% rejected, each ~1.6 KB
					msgs[i].Value = append(bytes.Repeat([]byte("x"), 1500), fmt.Sprint(i)...)
				}
			}
			b.Produce(t, in, msgs...)
			cfg := testConfig(b, e, kafkatest.UniqueName("g"), []string{in}, out, dlq)
			cfg.BatchSize = 5000
			r := start(t, cfg)
			waitLagZero(t, r.w, 90*time.Second)
			waitCommitted(r.w, n, 10*time.Second)
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			c := r.w.Counts(0)
			if c.WriteErrors != 0 || c.Committed != n {
				t.Errorf("write errors %d, committed %d; want 0 and %d", c.WriteErrors, c.Committed, n)
			}
			nOut, nDLQ := verifyDelivered(t, b, e, []string{in}, out, dlq)
			t.Logf("%d records → %d output, %d dead letters", n, nOut, nDLQ)
		})
	}
}

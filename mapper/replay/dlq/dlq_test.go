package dlq

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/stream"
)

// createTopic creates a topic of two partitions with a unique name, so
// tests sharing a real broker do not see each other's records.
func createTopic(t *testing.T, addr, prefix string) string {
	t.Helper()
	return (&kafkatest.Broker{Addr: addr, Transport: &kafka.Transport{}}).Topic(t, prefix, 2)
}

var base = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

// deadLetter is a dead-letter message as the worker writes it.
func deadLetter(i int, failure, detail string) kafka.Message {
	return kafka.Message{
		Key:   []byte(fmt.Sprint("key-", i)),
		Value: []byte(fmt.Sprintf(`{"order_id":"A%d"}`, i)),
		Time:  base.Add(time.Duration(i) * time.Minute),
		Headers: []kafka.Header{
			{Key: "trace-id", Value: []byte(fmt.Sprint("t", i))},
			{Key: HeaderSource, Value: []byte("shop-orders")},
			{Key: HeaderRulesVersion, Value: []byte("1")},
			{Key: HeaderOutcome, Value: []byte("rejected")},
			{Key: HeaderFailure, Value: []byte(failure)},
			{Key: HeaderOriginTopic, Value: []byte("shop.orders")},
			{Key: HeaderOriginPartition, Value: []byte(strconv.Itoa(i % 2))},
			{Key: HeaderOriginOffset, Value: []byte(strconv.Itoa(100 + i))},
			{Key: HeaderFailureDetail, Value: []byte(detail)},
			{Key: HeaderOriginTime, Value: []byte(base.Format(time.RFC3339Nano))},
			{Key: HeaderDeadLetteredAt, Value: []byte(base.Format(time.RFC3339Nano))},
		},
	}
}

func produce(t *testing.T, addr, topic string, msgs ...kafka.Message) {
	t.Helper()
	(&kafkatest.Broker{Addr: addr, Transport: &kafka.Transport{}}).Produce(t, topic, msgs...)
}

func TestParseSplitsOriginalAndWorkerHeaders(t *testing.T) {
	m := deadLetter(3, "unknown_enum:state", `"REFUNDED" is not one of "OPEN", "PAID"`)
	m.Topic, m.Partition, m.Offset = "dlq", 1, 9
	r := Parse(m)
	want := Record{Topic: "dlq", Partition: 1, Offset: 9, DeadLetter: stream.DeadLetter{Source: "shop-orders", RulesVersion: 1,
		OriginTopic: "shop.orders", OriginPartition: 1, OriginOffset: 103, OriginTime: base}}
	if r.Source != want.Source || r.RulesVersion != 1 || r.OriginTopic != want.OriginTopic || r.OriginPartition != 1 || r.OriginOffset != 103 || !r.OriginTime.Equal(base) {
		t.Errorf("Parse = %+v", r)
	}
	if len(r.Headers) != 1 || r.Headers[0].Key != "trace-id" {
		t.Errorf("original headers = %+v, want only trace-id", r.Headers)
	}
	if len(r.Failures) != 1 || r.Failures[0] != (mapper.Failure{Reason: mapper.ReasonUnknownEnum, Field: "state", Detail: `"REFUNDED" is not one of "OPEN", "PAID"`}) {
		t.Errorf("failures = %+v", r.Failures)
	}
	s := r.Sample()
	if s.Category != "unknown_enum:state" || s.Topic != "shop.orders" || s.Offset != 103 || string(s.PayloadBase64) != string(m.Value) {
		t.Errorf("Sample = %+v", s)
	}
}

func TestReadIsBounded(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) { testReadIsBounded(t, target.Start(t).Addr) })
	}
}

func testReadIsBounded(t *testing.T, addr string) {
	topic := createTopic(t, addr, "dlq")
	var msgs []kafka.Message
	for i := 0; i < 10; i++ {
		msgs = append(msgs, deadLetter(i, "missing_field:id", "absent"))
	}
	produce(t, addr, topic, msgs...)
	tests := []struct {
		name   string
		bounds Bounds
		want   int
	}{
		{"everything up to the end offsets", Bounds{}, 10},
		{"from an offset in each partition", Bounds{StartOffset: 3}, 4},
		{"up to an offset in each partition", Bounds{EndOffset: 2}, 4},
		{"since a time", Bounds{Since: base.Add(6 * time.Minute)}, 4},
		{"until a time", Bounds{Until: base.Add(2 * time.Minute)}, 3},
		{"since after the last record", Bounds{Since: base.Add(time.Hour)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var told int
			recs, err := Read(ctx, Config{Kafka: kafkaconn.Config{Brokers: []string{addr}}, Topic: topic, Bounds: tt.bounds,
				Progress: func(n int) { told += n }})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != tt.want {
				t.Fatalf("read %d records, want %d: %s", len(recs), tt.want, Summary(recs))
			}
			if told != len(recs) {
				t.Errorf("Progress told of %d records, %d were read", told, len(recs))
			}
			for _, r := range recs {
				if r.Source != "shop-orders" || len(r.Failures) != 1 {
					t.Errorf("record %s parsed as %+v", r.Ref(), r)
				}
			}
		})
	}
}

func TestReadMissingTopicFails(t *testing.T) {
	addr := kafkatest.StartKfake(t).Addr
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Read(ctx, Config{Kafka: kafkaconn.Config{Brokers: []string{addr}}, Topic: "nope"}); err == nil {
		t.Fatal("Read of a missing topic succeeded")
	}
}

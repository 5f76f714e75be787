package kafkaconn_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
)

// recordSet is a ProducePartition of partition carrying one record batch
// of values, after room for the request's framing.
func recordSet(client *kafka.Client, topic string, partition int, values ...string) kafkaconn.ProducePartition {
	batch := kafkaconn.TestBatch(0, values...)
	buf := make([]byte, kafkaconn.ProduceRoom(client, topic), 1024)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(batch)))
	return kafkaconn.ProducePartition{Partition: partition, Buf: append(buf, batch...)}
}

// TestProduceWritesRecordSetsKafkaReadsBack produces record sets of three
// partitions in one request, twice, with and without a client ID, on the
// embedded broker, on one that requires SASL, and on the real one when
// there is one: each partition is acknowledged and holds its records in
// order, the second request's after the first's.
func TestProduceWritesRecordSetsKafkaReadsBack(t *testing.T) {
	targets := append(kafkatest.Targets(), kafkatest.Target{Name: "kfake with SASL", Start: func(t testing.TB) *kafkatest.Broker {
		b := kafkatest.StartKfake(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "admin", "secret"))
		mech, err := scram.Mechanism(scram.SHA256, "admin", "secret")
		if err != nil {
			t.Fatal(err)
		}
		return b.WithAuth(nil, mech)
	}})
	for _, target := range targets {
		for _, clientID := range []string{"", "mapper-produce-test"} {
			t.Run(fmt.Sprintf("%s/client id %q", target.Name, clientID), func(t *testing.T) {
				b := target.Start(t)
				topic := b.Topic(t, "raw-produce", 3)
				tr := &kafka.Transport{TLS: b.Transport.TLS, SASL: b.Transport.SASL, ClientID: clientID}
				client := &kafka.Client{Addr: kafka.TCP(b.Addr), Transport: tr, Timeout: 15 * time.Second}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				want := map[int][]string{}
				for round := range 2 {
					var parts []kafkaconn.ProducePartition
					for p := range 3 {
						var values []string
						for i := range p + 2 {
							values = append(values, fmt.Sprintf(`{"round":%d,"partition":%d,"i":%d}`, round, p, i))
						}
						want[p] = append(want[p], values...)
						parts = append(parts, recordSet(client, topic, p, values...))
					}
					// A new topic's leaders may not all be elected yet on a
					// real broker: the partitions refused with a temporary
					// error are sent again, alone (those acknowledged are
					// not, or their records would be written twice).
					pending := parts
					for try := 0; len(pending) > 0; try++ {
						err := kafkaconn.Produce(ctx, client, topic, kafka.RequireAll, 10*time.Second, pending)
						if err != nil {
							t.Fatalf("round %d: %v", round, err)
						}
						var again []kafkaconn.ProducePartition
						for _, p := range pending {
							var ke kafka.Error
							switch {
							case p.Err == nil:
							case errors.As(p.Err, &ke) && ke.Temporary() && try < 50:
								again = append(again, p)
							default:
								t.Fatalf("round %d partition %d: %v", round, p.Partition, p.Err)
							}
						}
						pending = again
						if len(pending) > 0 {
							time.Sleep(100 * time.Millisecond)
						}
					}
				}
				got := map[int][]string{}
				for _, m := range b.ReadAll(t, topic) {
					got[m.Partition] = append(got[m.Partition], string(m.Value))
				}
				for p := range 3 {
					if strings.Join(got[p], "\n") != strings.Join(want[p], "\n") {
						t.Errorf("partition %d holds\n%s\nwant\n%s", p, strings.Join(got[p], "\n"), strings.Join(want[p], "\n"))
					}
				}
			})
		}
	}
}

// TestProduceReadsEachPartitionsAnswer has the broker answer a request of
// three partitions with one acknowledged, one refused with a message, and
// one missing: each partition's Err says which.
func TestProduceReadsEachPartitionsAnswer(t *testing.T) {
	b := kafkatest.StartKfake(t, kfake.SeedTopics(3, "answers"))
	c := b.Cluster
	c.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = req.Topics[0].Topic
		ok := kmsg.NewProduceResponseTopicPartition()
		ok.Partition = 0
		moved := kmsg.NewProduceResponseTopicPartition()
		moved.Partition = 1
		moved.ErrorCode = int16(kafka.NotLeaderForPartition)
		msg := "leader moved to broker 7"
		moved.ErrorMessage = &msg
		rt.Partitions = append(rt.Partitions, ok, moved)
		other := kmsg.NewProduceResponseTopic()
		other.Topic = "some-other-topic"
		stray := kmsg.NewProduceResponseTopicPartition()
		stray.Partition = 2
		other.Partitions = append(other.Partitions, stray)
		resp.Topics = append(resp.Topics, rt, other)
		return resp, nil, true
	})
	client := &kafka.Client{Addr: kafka.TCP(b.Addr), Transport: b.Transport, Timeout: 15 * time.Second}
	parts := []kafkaconn.ProducePartition{
		recordSet(client, "answers", 0, `{"a":1}`),
		recordSet(client, "answers", 1, `{"b":2}`),
		recordSet(client, "answers", 2, `{"c":3}`),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafkaconn.Produce(ctx, client, "answers", kafka.RequireAll, 10*time.Second, parts); err != nil {
		t.Fatal(err)
	}
	if parts[0].Err != nil {
		t.Errorf("partition 0: %v, want acknowledged", parts[0].Err)
	}
	if err := parts[1].Err; !errors.Is(err, kafka.NotLeaderForPartition) || !strings.Contains(fmt.Sprint(err), "leader moved to broker 7") {
		t.Errorf("partition 1: %v, want NotLeaderForPartition with the broker's message", err)
	}
	if err := parts[2].Err; !errors.Is(err, protocol.ErrNoPartition) {
		t.Errorf("partition 2 (answered for another topic only): %v, want ErrNoPartition", err)
	}
}

// TestProduceRefusesABrokerBeforeKafka011 has a broker that speaks
// Produce v2 at most, before the v2 record batch: the request is refused
// with ErrProduceVersion and nothing is written.
func TestProduceRefusesABrokerBeforeKafka011(t *testing.T) {
	v := kversion.Stable()
	v.SetMaxKeyVersion(int16(kmsg.Produce), 2)
	b := kafkatest.StartKfake(t, kfake.MaxVersions(v), kfake.SeedTopics(1, "old"))
	client := &kafka.Client{Addr: kafka.TCP(b.Addr), Transport: b.Transport, Timeout: 15 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := kafkaconn.Produce(ctx, client, "old", kafka.RequireAll, 10*time.Second, []kafkaconn.ProducePartition{recordSet(client, "old", 0, `{}`)})
	if !errors.Is(err, kafkaconn.ErrProduceVersion) || !strings.Contains(err.Error(), "Produce v2") {
		t.Fatalf("produce to a broker of Produce v2: %v, want ErrProduceVersion naming v2", err)
	}
	if end, err := b.End(ctx, "old"); err != nil || end != 0 {
		t.Fatalf("the topic ends at %d (%v), want 0: nothing written", end, err)
	}
}

// TestProduceRefusesARecordSetWithoutRoom checks the framing's room is
// asked for: a record set without it is an error, not a write over it;
// and that a request of no partition is no request.
func TestProduceRefusesARecordSetWithoutRoom(t *testing.T) {
	b := kafkatest.StartKfake(t, kfake.SeedTopics(1, "room"))
	client := &kafka.Client{Addr: kafka.TCP(b.Addr), Transport: b.Transport, Timeout: 15 * time.Second}
	err := kafkaconn.Produce(context.Background(), client, "room", kafka.RequireAll, time.Second, []kafkaconn.ProducePartition{{Partition: 0, Buf: []byte{0, 0, 0, 0}}})
	if err == nil || !strings.Contains(err.Error(), "room") {
		t.Fatalf("a record set without room: %v, want an error", err)
	}
	// No partition: nothing is written, and nothing waited for.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := kafkaconn.Produce(ctx, client, "room", kafka.RequireAll, time.Second, nil); err != nil {
		t.Fatalf("a request of no partition: %v, want nil", err)
	}
}

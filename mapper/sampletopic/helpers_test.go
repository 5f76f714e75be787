package sampletopic

import (
	"bufio"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
)

// createTopic creates a topic with the given cleanup.policy ("" for the
// broker's default) and returns its name.
func createTopic(t testing.TB, b *kafkatest.Broker, prefix string, partitions int, policy string) string {
	t.Helper()
	name := kafkatest.UniqueName(prefix)
	tc := kafka.TopicConfig{Topic: name, NumPartitions: partitions, ReplicationFactor: 1}
	if policy != "" {
		tc.ConfigEntries = []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: policy}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := &kafka.Client{Addr: kafka.TCP(b.Addr), Transport: b.Transport, Timeout: 15 * time.Second}
	resp, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{tc}})
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	if err := resp.Errors[name]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		t.Fatalf("create topic %s: %v", name, err)
	}
	// Wait for leaders (a real broker takes a moment), with the shared helper.
	if err := b.CreateTopic(ctx, name, partitions); err != nil {
		t.Fatal(err)
	}
	return name
}

func topicConfig(b *kafkatest.Broker, topic string) Config {
	return Config{Kafka: b.Conn(), Topic: topic, Timeout: 15 * time.Second}
}

func loadEngine(t testing.TB) *mapper.Engine {
	t.Helper()
	eng, err := mapper.Load("../../rules", "../../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// orderPayloads returns the shipped order fixtures: generated orders and
// the defective ones.
func orderPayloads(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, f := range []string{"../../fixtures/orders/generated.jsonl", "../../fixtures/orders/defects.jsonl"} {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if len(sc.Bytes()) > 0 {
				out = append(out, append([]byte(nil), sc.Bytes()...))
			}
		}
		fh.Close()
	}
	return out
}

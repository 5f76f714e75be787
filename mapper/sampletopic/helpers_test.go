package sampletopic

import (
	"bufio"
	"os"
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
)

// createTopic creates a topic with the given cleanup.policy and returns
// its name.
func createTopic(t testing.TB, b *kafkatest.Broker, prefix string, partitions int, policy string) string {
	t.Helper()
	return b.TopicWithPolicy(t, prefix, partitions, policy)
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

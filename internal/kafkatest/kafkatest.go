// Package kafkatest starts Kafka-protocol brokers for tests and reads and
// writes their topics over TCP.
//
// Every test that needs a broker runs against the embedded kfake broker
// (in-process, on a loopback port), and also against a real Kafka when
// MAPPER_TEST_KAFKA=host:port is set (see Targets). Topics get unique names
// so that tests sharing one real broker do not see each other's records.
//
// Functions taking a testing.TB fail the test on error; they are safe for
// concurrent use by parallel tests.
package kafkatest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/mapperhq/mapper/internal/loopback"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
)

// EnvVar names the variable that points the tests at a real broker.
const EnvVar = "MAPPER_TEST_KAFKA"

// Broker is a running broker the tests can reach.
type Broker struct {
	// Name is "kfake" or "kafka".
	Name string
	// Addr is host:port.
	Addr string
	// Cluster is the embedded broker, nil for a real one.
	Cluster *kfake.Cluster
	// Transport connects to it (TLS and SASL included, when set).
	Transport *kafka.Transport
	// Dialer connects to it (TLS and SASL included, when set).
	Dialer *kafka.Dialer
}

// Target is a kind of broker a test runs against.
type Target struct {
	Name  string
	Start func(t testing.TB) *Broker
}

// Targets returns the embedded broker and, when MAPPER_TEST_KAFKA is set,
// the real one. Run each as a subtest named after it.
func Targets() []Target {
	ts := []Target{{Name: "kfake", Start: func(t testing.TB) *Broker { return StartKfake(t) }}}
	if addr := os.Getenv(EnvVar); addr != "" {
		ts = append(ts, Target{Name: "kafka", Start: func(t testing.TB) *Broker { return External(t, addr) }})
	}
	return ts
}

// StartKfake starts an embedded single-node broker on a loopback port and
// closes it when the test ends.
func StartKfake(t testing.TB, opts ...kfake.Opt) *Broker {
	t.Helper()
	c, err := NewKfake(opts...)
	if err != nil {
		t.Fatalf("start embedded broker: %v", err)
	}
	t.Cleanup(c.Close)
	return FromKfake(c)
}

// NewKfake starts an embedded single-node broker listening on loopback.
// Options given after the defaults override them.
func NewKfake(opts ...kfake.Opt) (*kfake.Cluster, error) {
	base := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.DefaultNumPartitions(1),
		kfake.ListenFn(loopback.Listen),
	}
	return kfake.NewCluster(append(base, opts...)...)
}

// FromKfake describes an embedded broker.
func FromKfake(c *kfake.Cluster) *Broker {
	addr := c.ListenAddrs()[0]
	return &Broker{Name: "kfake", Addr: addr, Cluster: c, Transport: &kafka.Transport{}, Dialer: &kafka.Dialer{Timeout: 10 * time.Second}}
}

// External describes the real broker at addr, failing the test if it does
// not answer.
func External(t testing.TB, addr string) *Broker {
	t.Helper()
	b := &Broker{Name: "kafka", Addr: addr, Transport: &kafka.Transport{}, Dialer: &kafka.Dialer{Timeout: 10 * time.Second}}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := b.client().Metadata(ctx, &kafka.MetadataRequest{}); err != nil {
		t.Fatalf("%s=%s does not answer: %v", EnvVar, addr, err)
	}
	return b
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (b *Broker) client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(b.Addr), Transport: b.Transport, Timeout: 15 * time.Second}
}

// UniqueName returns prefix followed by a random suffix.
func UniqueName(prefix string) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return prefix + "-" + hex.EncodeToString(r[:])
}

// Topic creates a topic with a unique name starting with prefix and returns
// its name.
func (b *Broker) Topic(t testing.TB, prefix string, partitions int) string {
	t.Helper()
	name := UniqueName(prefix)
	if err := b.CreateTopic(context.Background(), name, partitions); err != nil {
		t.Fatal(err)
	}
	return name
}

// TopicWithPolicy is Topic for a topic with the given cleanup.policy
// ("compact", "delete", "compact,delete").
func (b *Broker) TopicWithPolicy(t testing.TB, prefix string, partitions int, policy string) string {
	return b.TopicWithConfig(t, prefix, partitions, map[string]string{"cleanup.policy": policy})
}

// TopicWithConfig is Topic with topic configuration (name → value), like
// max.message.bytes.
func (b *Broker) TopicWithConfig(t testing.TB, prefix string, partitions int, config map[string]string) string {
	t.Helper()
	name := UniqueName(prefix)
	var entries []kafka.ConfigEntry
	for k, v := range config {
		entries = append(entries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
	}
	if err := b.CreateTopic(context.Background(), name, partitions, entries...); err != nil {
		t.Fatal(err)
	}
	return name
}

// SetTopicConfig changes a topic's configuration (name → value).
func (b *Broker) SetTopicConfig(ctx context.Context, topic string, config map[string]string) error {
	res := kafka.AlterConfigRequestResource{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic}
	for k, v := range config {
		res.Configs = append(res.Configs, kafka.AlterConfigRequestConfig{Name: k, Value: v})
	}
	resp, err := b.client().AlterConfigs(ctx, &kafka.AlterConfigsRequest{Resources: []kafka.AlterConfigRequestResource{res}})
	if err != nil {
		return fmt.Errorf("alter config of %s: %w", topic, err)
	}
	for _, err := range resp.Errors {
		if err != nil {
			return fmt.Errorf("alter config of %s: %w", topic, err)
		}
	}
	return nil
}

// CreateTopic creates a topic with the given configuration and waits until
// its partitions have leaders.
func (b *Broker) CreateTopic(ctx context.Context, name string, partitions int, configs ...kafka.ConfigEntry) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := b.client().CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: name, NumPartitions: partitions, ReplicationFactor: 1, ConfigEntries: configs,
	}}})
	if err != nil {
		return fmt.Errorf("create topic %s: %w", name, err)
	}
	if err := resp.Errors[name]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", name, err)
	}
	for {
		meta, err := b.client().Metadata(ctx, &kafka.MetadataRequest{Topics: []string{name}})
		if err == nil && len(meta.Topics) == 1 && meta.Topics[0].Error == nil && len(meta.Topics[0].Partitions) == partitions {
			ready := true
			for _, p := range meta.Topics[0].Partitions {
				ready = ready && p.Leader.ID >= 0 && p.Leader.Host != ""
			}
			if ready {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topic %s has no leaders: %w", name, errors.Join(ctx.Err(), err))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Produce writes msgs to topic (acks=all), failing the test on error. Records
// with a Partition of -1 or more than the topic has are spread by key hash.
func (b *Broker) Produce(t testing.TB, topic string, msgs ...kafka.Message) {
	t.Helper()
	if err := b.ProduceCtx(context.Background(), topic, msgs...); err != nil {
		t.Fatal(err)
	}
}

// ProduceCtx writes msgs to topic with acks=all.
func (b *Broker) ProduceCtx(ctx context.Context, topic string, msgs ...kafka.Message) error {
	w := &kafka.Writer{
		Addr: kafka.TCP(b.Addr), Topic: topic, Transport: b.Transport,
		Balancer: &kafka.RoundRobin{}, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond,
		BatchSize: 1000, MaxAttempts: 10,
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		err := w.WriteMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		// A real broker may not know a topic created a moment ago yet.
		if !errors.Is(err, kafka.UnknownTopicOrPartition) || ctx.Err() != nil {
			return fmt.Errorf("produce %d records to %s: %w", len(msgs), topic, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// End returns the sum of the high watermarks of topic's partitions: the
// number of records ever written to it.
func (b *Broker) End(ctx context.Context, topic string) (int64, error) {
	lo, hi, err := b.offsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	for p := range hi {
		n += hi[p] - lo[p]
	}
	return n, nil
}

func (b *Broker) offsets(ctx context.Context, topic string) (first, last map[int]int64, err error) {
	return kafkaconn.Offsets(ctx, b.client(), topic)
}

// WaitEnd waits until topic holds at least n records in all.
func (b *Broker) WaitEnd(ctx context.Context, topic string, n int64) error {
	for {
		got, err := b.End(ctx, topic)
		if err == nil && got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topic %s has %d records, want %d: %w", topic, got, n, errors.Join(ctx.Err(), err))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ReadAll reads every record of every partition of topic, up to the high
// watermarks as they are when it starts, in partition then offset order,
// null and empty keys, values and header values told apart (nil is null).
func (b *Broker) ReadAll(t testing.TB, topic string) []kafka.Message {
	t.Helper()
	msgs, err := b.ReadAllCtx(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// ReadAllCtx is ReadAll returning its error.
func (b *Broker) ReadAllCtx(ctx context.Context, topic string) ([]kafka.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	first, last, err := b.offsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	parts := make([]int, 0, len(first))
	for p := range first {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	var all []kafka.Message
	for _, p := range parts {
		if last[p] <= first[p] {
			continue
		}
		cl := b.Conn().Client(b.Transport, 0)
		for off := first[p]; off < last[p]; {
			msgs, next, err := kafkaconn.Fetch(ctx, cl, topic, p, off, 16<<20, 100*time.Millisecond)
			if err != nil {
				return nil, fmt.Errorf("read %s/%d at %d of %d: %w", topic, p, off, last[p], err)
			}
			for _, m := range msgs {
				if m.Offset < last[p] {
					all = append(all, m)
				}
			}
			off = next
		}
	}
	return all, nil
}

// Header returns the value of the last header named key, and whether there
// is one.
func Header(m kafka.Message, key string) (string, bool) {
	for i := len(m.Headers) - 1; i >= 0; i-- {
		if m.Headers[i].Key == key {
			return string(m.Headers[i].Value), true
		}
	}
	return "", false
}

// Coord is a record's topic, partition and offset.
type Coord struct {
	Topic     string
	Partition int
	Offset    int64
}

func (c Coord) String() string {
	return c.Topic + "/" + strconv.Itoa(c.Partition) + "@" + strconv.FormatInt(c.Offset, 10)
}

// Persist returns the options for an embedded broker that keeps its data in
// dir and listens on port, so that it can be stopped and started again.
func Persist(dir string, port int) []kfake.Opt {
	return []kfake.Opt{kfake.DataDir(dir), kfake.Ports(port)}
}

// Conn is how to reach b: its address and its TLS and SASL settings.
func (b *Broker) Conn() kafkaconn.Config {
	return kafkaconn.Config{Brokers: []string{b.Addr}, TLS: b.Transport.TLS, SASL: b.Transport.SASL}
}

// WithAuth returns a copy of b that connects with tlsCfg and mech (either
// may be nil).
func (b *Broker) WithAuth(tlsCfg *tls.Config, mech sasl.Mechanism) *Broker {
	c := *b
	c.Transport = &kafka.Transport{TLS: tlsCfg, SASL: mech}
	c.Dialer = &kafka.Dialer{Timeout: 10 * time.Second, TLS: tlsCfg, SASLMechanism: mech}
	return &c
}

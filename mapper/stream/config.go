package stream

import (
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/release"
)

// Config configures a Worker. The zero value is not usable: Kafka.Brokers,
// GroupID, OutputTopic, DeadLetterTopic and Engine are required; every other
// field has a documented default that New fills in.
type Config struct {
	// GroupID is the consumer group. Required.
	GroupID string
	// Topics are the input topics. Empty means every topic the engine's
	// sources claim. A topic no source claims is consumed too: its records
	// are rejected as unknown_source and dead-lettered.
	Topics []string
	// OutputTopic receives mapped and degraded records. Required.
	OutputTopic string
	// DeadLetterTopic receives rejected records, byte for byte. Required,
	// and different from OutputTopic and the input topics.
	DeadLetterTopic string
	// Engine maps the records. Required.
	Engine *mapper.Engine
	// Release, when not nil, chooses the rules of each record instead of
	// Engine: live and candidate rule sets, canary, hot reload and the
	// reject-ratio breaker (see package release). Engine still gives the
	// default Topics.
	Release *release.Controller
	// Observers are told of every mapped record, from the mapping
	// goroutines; those that also implement DeliveryObserver are told of
	// every acknowledged write, and those that implement CommitObserver are
	// asked before every offset commit. Nil entries are not allowed.
	Observers []Observer
	// Framing, when not nil, frames output values and unframes input ones
	// (the Confluent wire format of a schema registry). Nil means plain
	// JSON: values are written and read as they are.
	Framing Framing

	// Concurrency is how many goroutines map records. Zero means
	// runtime.GOMAXPROCS(0).
	Concurrency int
	// BatchSize is the most records of one partition mapped and handed to
	// the writers as one unit (a fetch returns up to FetchMaxBytes of
	// records, cut into batches of at most BatchSize). It does not size
	// produce requests: those stay under each topic's max.message.bytes,
	// read from the brokers at start. Zero means 500.
	BatchSize int
	// MaxInflightBytes bounds the bytes of input records fetched and not
	// yet committed, over all partitions: past it, fetching waits. (Each
	// partition may go over by one fetch's records.) Zero means 32 MiB.
	MaxInflightBytes int64
	// FetchMaxBytes is the most bytes one fetch of one partition asks for
	// (a record larger than that still comes, alone). Zero means 1 MiB:
	// larger fetches keep more records in flight for no less CPU.
	FetchMaxBytes int64
	// FetchMaxWait is how long a fetch waits for records when the
	// partition has none. Zero means 250ms.
	FetchMaxWait time.Duration
	// PartitionBatches is how many batches of one partition may be in
	// flight (written, not yet acknowledged) at once. Zero means 4.
	PartitionBatches int
	// LogInterval is how often a repeating problem (a fetch or write
	// failing, a record too large for its topic) is logged. Zero means 1m.
	LogInterval time.Duration
	// WriteBatchTimeout is the BatchTimeout of the writers that retry a
	// failed write: how long a partly filled produce batch waits. (The
	// first write of each record needs none: each partition's records go
	// out as soon as the partition's previous request is answered.) Zero
	// means 5ms.
	WriteBatchTimeout time.Duration
	// CommitInterval is the least time between two commits of the
	// group's offsets: offsets acknowledged meanwhile wait, and go in the
	// next commit. A busy worker then sends one OffsetCommit an interval,
	// not one a batch; after a crash or kill, up to an interval more of
	// records (already delivered) are consumed again. Zero means
	// DefaultCommitInterval; a negative value commits as soon as offsets
	// move.
	CommitInterval time.Duration
	// ShutdownTimeout bounds how long Run drains in-flight records after its
	// context is canceled. Zero means 30s; a negative value means do not
	// drain (records in flight are left uncommitted and come again).
	ShutdownTimeout time.Duration
	// RetryBackoffMin and RetryBackoffMax bound the exponential backoff of
	// retried writes, commits and start-up checks. Zero means 100ms and 5s.
	RetryBackoffMin, RetryBackoffMax time.Duration

	// SessionTimeout is how long the group's coordinator waits for a
	// heartbeat before it declares this member dead and gives its
	// partitions to the others: after a crash (SIGKILL, a lost node), the
	// partitions move, and a restarted worker holds them again, within
	// about this long. Zero means DefaultSessionTimeout. Brokers refuse
	// values outside their group.min/max.session.timeout.ms (Kafka's
	// defaults: 6s to 30m).
	SessionTimeout time.Duration
	// HeartbeatInterval, RebalanceTimeout and JoinGroupBackoff tune the
	// consumer group further. Zero means a third of SessionTimeout (at most
	// 3s), 30s and 2s.
	HeartbeatInterval, RebalanceTimeout, JoinGroupBackoff time.Duration

	// Kafka is how to reach the cluster (brokers, client id, TLS, SASL,
	// connect timeout); see package kafkaconn. Kafka.Brokers is required.
	Kafka kafkaconn.Config

	// Logger receives the worker's log lines. Nil means discard.
	Logger *slog.Logger
}

// DefaultCommitInterval is Config.CommitInterval's default: one commit a
// second at most, whatever the traffic (Kafka's Java consumer auto-commits
// every 5s), and a second of records at most consumed again after a crash.
const DefaultCommitInterval = time.Second

// DefaultSessionTimeout is Config.SessionTimeout's default: a dead
// member's partitions move within seconds, and a worker paused by a long
// garbage collection or a slow node is not taken for dead.
const DefaultSessionTimeout = 10 * time.Second

func (c Config) withDefaults() Config {
	if len(c.Topics) == 0 && c.Engine != nil {
		c.Topics = c.Engine.Topics()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Concurrency == 0 {
		c.Concurrency = runtime.GOMAXPROCS(0)
	}
	if c.BatchSize == 0 {
		c.BatchSize = 500
	}
	if c.MaxInflightBytes == 0 {
		c.MaxInflightBytes = 32 << 20
	}
	if c.FetchMaxBytes == 0 {
		c.FetchMaxBytes = 1 << 20
	}
	if c.PartitionBatches == 0 {
		c.PartitionBatches = 4
	}
	def(&c.FetchMaxWait, 250*time.Millisecond)
	def(&c.LogInterval, time.Minute)
	def(&c.WriteBatchTimeout, 5*time.Millisecond)
	def(&c.CommitInterval, DefaultCommitInterval)
	def(&c.ShutdownTimeout, 30*time.Second)
	def(&c.RetryBackoffMin, 100*time.Millisecond)
	def(&c.RetryBackoffMax, 5*time.Second)
	def(&c.SessionTimeout, DefaultSessionTimeout)
	def(&c.HeartbeatInterval, min(3*time.Second, c.SessionTimeout/3))
	def(&c.RebalanceTimeout, 30*time.Second)
	def(&c.JoinGroupBackoff, 2*time.Second)
	c.Kafka = c.Kafka.WithDefaults()
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// ConfigError lists every problem of a Config.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return "invalid configuration: " + strings.Join(e.Problems, "; ")
}

// validate returns a *ConfigError listing every problem, or nil.
func (c Config) validate() error {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	p = append(p, c.Kafka.Problems()...)
	if c.GroupID == "" {
		add("no consumer group id given")
	}
	if c.Engine == nil {
		add("no rules engine given")
	} else if len(c.Topics) == 0 {
		add("no input topics: no rule file claims a topic and none were given")
	}
	if c.OutputTopic == "" {
		add("no output topic given")
	}
	if c.DeadLetterTopic == "" {
		add("no dead-letter topic given")
	}
	if c.OutputTopic != "" && c.OutputTopic == c.DeadLetterTopic {
		add("output topic and dead-letter topic are both %q", c.OutputTopic)
	}
	for _, t := range c.Topics {
		if t == "" {
			add("empty input topic name")
		}
		if t != "" && (t == c.OutputTopic || t == c.DeadLetterTopic) {
			add("topic %q is both an input and an output topic", t)
		}
	}
	for i, o := range c.Observers {
		if o == nil {
			add("observer %d is nil", i)
		}
	}
	if c.Concurrency < 0 {
		add("concurrency %d is negative", c.Concurrency)
	}
	if c.BatchSize < 0 {
		add("batch size %d is negative", c.BatchSize)
	}
	if c.MaxInflightBytes < 0 {
		add("max in-flight bytes %d is negative", c.MaxInflightBytes)
	}
	if c.FetchMaxBytes < 0 {
		add("fetch max bytes %d is negative", c.FetchMaxBytes)
	}
	if c.PartitionBatches < 0 {
		add("partition batches %d is negative", c.PartitionBatches)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"fetch max wait", c.FetchMaxWait}, {"log interval", c.LogInterval}, {"write batch timeout", c.WriteBatchTimeout},
		{"retry backoff min", c.RetryBackoffMin}, {"retry backoff max", c.RetryBackoffMax},
		{"session timeout", c.SessionTimeout}, {"heartbeat interval", c.HeartbeatInterval},
		{"rebalance timeout", c.RebalanceTimeout}, {"join group backoff", c.JoinGroupBackoff},
	} {
		if d.v < 0 {
			add("%s %v is negative", d.name, d.v)
		}
	}
	if c.HeartbeatInterval > 0 && c.SessionTimeout > 0 && c.HeartbeatInterval >= c.SessionTimeout {
		add("heartbeat interval %v is not shorter than the session timeout %v", c.HeartbeatInterval, c.SessionTimeout)
	}
	if len(p) > 0 {
		return &ConfigError{Problems: p}
	}
	return nil
}

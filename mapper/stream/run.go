package stream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// DeliveryObserver is a second, optional hook of an Observer: when an
// Observer also implements it, the worker tells it each time the brokers
// acknowledge a batch's writes, once per topic and source. It is called
// from the acknowledgement goroutines, concurrently, and must not block.
type DeliveryObserver interface {
	Delivered(d Delivery)
}

// CommitObserver is a third, optional hook of an Observer: when an
// Observer also implements it, the worker calls BeforeCommit before each
// offset commit, once every record the commit covers has been observed and
// its writes acknowledged, and the commit waits for it to return. It lets
// an observer make what it derived from those records durable before they
// can no longer be consumed again. It is called from the committer's
// goroutine, one call at a time; ctx ends when the worker stops draining.
// It must bound its own time: while it runs, no offset is committed and
// records in flight are not released.
type CommitObserver interface {
	BeforeCommit(ctx context.Context)
}

// Delivery is an acknowledged write of records of one source to the output
// or the dead-letter topic.
type Delivery struct {
	// Topic is the output or dead-letter topic written.
	Topic string
	// DeadLetter is true for the dead-letter topic.
	DeadLetter bool
	// Source is the records' source; empty when no source claimed them.
	Source string
	// Records is how many records the brokers acknowledged.
	Records int
}

// asyncWriter enqueues records for writing and reports on each later.
// WriteAsync enqueues msgs in call order and returns at once; every
// message carries a *pendingWrite in WriterData, whose settle the writer
// calls once the message is acknowledged or has failed. An error from
// WriteAsync means none of msgs was enqueued.
type asyncWriter interface {
	WriteAsync(msgs []kafka.Message) error
	Close() error
}

// topicLimit reads a topic's max.message.bytes from the brokers.
func (w *Worker) topicLimit(ctx context.Context, topic string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp, err := w.client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: []string{"max.message.bytes"},
	}}})
	if err != nil {
		return 0, fmt.Errorf("read max.message.bytes of %s: %w", topic, err)
	}
	for _, r := range resp.Resources {
		if r.Error != nil {
			return 0, fmt.Errorf("read max.message.bytes of %s: %w", topic, r.Error)
		}
		for _, e := range r.ConfigEntries {
			if e.ConfigName == "max.message.bytes" {
				n, err := strconv.ParseInt(e.ConfigValue, 10, 64)
				if err != nil || n <= 0 {
					return 0, fmt.Errorf("max.message.bytes of %s is %q", topic, e.ConfigValue)
				}
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("read max.message.bytes of %s: not in the broker's answer", topic)
}

// limits are the output and dead-letter topics' max.message.bytes.
type limits struct{ out, dlq int64 }

// topicLimits reads both limits; a limit the brokers do not tell is
// Kafka's default, with a warning.
func (w *Worker) topicLimits(ctx context.Context) (limits, error) {
	l := limits{out: defaultMaxMessageBytes, dlq: defaultMaxMessageBytes}
	for _, t := range []struct {
		topic string
		v     *int64
	}{{w.cfg.OutputTopic, &l.out}, {w.cfg.DeadLetterTopic, &l.dlq}} {
		n, err := w.topicLimit(ctx, t.topic)
		if err != nil {
			if ctx.Err() != nil {
				return l, ctx.Err()
			}
			w.cfg.Logger.Warn("assuming Kafka's default max.message.bytes", "topic", t.topic, "bytes", defaultMaxMessageBytes, "error", err)
			continue
		}
		*t.v = n
	}
	w.cfg.Logger.Info("produce requests sized by the topics' max.message.bytes", "output", l.out, "dead_letter", l.dlq)
	return l, nil
}

// newSink builds the writers of one topic. Produce requests stay under
// limit bytes whatever the batch size.
func (w *Worker) newSink(topic string, limit int64) *topicSink {
	mk := func(limit int64) *kafka.Writer {
		wr := w.cfg.Kafka.Writer(w.transport, topic)
		wr.MaxAttempts = 3
		wr.WriteBackoffMin, wr.WriteBackoffMax = w.cfg.RetryBackoffMin, w.cfg.RetryBackoffMax
		wr.BatchSize = max(w.cfg.BatchSize, 1000)
		wr.BatchBytes = limit - recordBatchOverhead
		wr.BatchTimeout = w.cfg.WriteBatchTimeout
		return wr
	}
	enqueue := newProduceWriter(w.cfg.Kafka.Client(w.transport, 0), topic, limit-recordBatchOverhead,
		max(w.cfg.BatchSize, 1000), w.cfg.RetryBackoffMin, w.cfg.RetryBackoffMax)
	s := &topicSink{topic: topic, enqueue: enqueue, retry: mk(limit)}
	s.limit.Store(limit)
	s.refresh = func(ctx context.Context) (int64, error) { return w.topicLimit(ctx, topic) }
	s.writerFor = func(limit int64) closingWriter {
		return mk(limit)
	}
	return s
}

// leaveGrace is how long, past the shutdown deadline, leaving the group may
// take before its connections are cut, and again after.
const leaveGrace = 250 * time.Millisecond

// run consumes as a member of the group until ctx ends, then drains and
// leaves the group within the shutdown timeout.
func (w *Worker) run(ctx context.Context, lim limits) error {
	cfg := &w.cfg
	log := cfg.Logger
	hard, hardCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hardCancel()
	tracker := &connTracker{}
	gd := cfg.Kafka.Dialer()
	gd.DialFunc = tracker.dial
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID: cfg.GroupID, Brokers: cfg.Kafka.Brokers, Dialer: gd, Topics: cfg.Topics,
		HeartbeatInterval: cfg.HeartbeatInterval, SessionTimeout: cfg.SessionTimeout,
		RebalanceTimeout: cfg.RebalanceTimeout, JoinGroupBackoff: cfg.JoinGroupBackoff,
		StartOffset: kafka.FirstOffset, Timeout: 10 * time.Second,
		ErrorLogger: groupErrorLogger(ctx, log),
	})
	if err != nil {
		return fmt.Errorf("consumer group %s: %w", cfg.GroupID, err)
	}

	// On cancel: drain until the deadline, and start leaving the group at
	// once (it waits for the generation's drain, then sends LeaveGroup),
	// so that no new generation is joined.
	left := make(chan struct{})
	var timer *time.Timer
	var timerMu sync.Mutex
	stopAfter := context.AfterFunc(ctx, func() {
		w.state.Store(StateDraining)
		log.Info("stopping: delivering and committing records in flight", "deadline", cfg.ShutdownTimeout)
		if cfg.ShutdownTimeout < 0 {
			hardCancel()
		} else {
			timerMu.Lock()
			timer = time.AfterFunc(cfg.ShutdownTimeout, hardCancel)
			timerMu.Unlock()
		}
		go func() {
			defer close(left)
			_ = group.Close()
		}()
	})
	defer func() {
		stopAfter()
		timerMu.Lock()
		if timer != nil {
			timer.Stop()
		}
		timerMu.Unlock()
	}()

	fetcher := newClientFetcher(cfg.Kafka.Client(w.transport, 0), cfg.FetchMaxWait)
	out := w.newSink(cfg.OutputTopic, lim.out)
	dlq := w.newSink(cfg.DeadLetterTopic, lim.dlq)
	p := newPipeline(w, hard, fetcher, out, dlq)
	w.pipe.Store(p)
	w.state.Store(StateRunning)
	log.Info("worker running", "group", cfg.GroupID, "topics", cfg.Topics,
		"output", cfg.OutputTopic, "dead_letter", cfg.DeadLetterTopic, "concurrency", cfg.Concurrency)

	bo := backoff{min: cfg.RetryBackoffMin, max: cfg.RetryBackoffMax}
	for ctx.Err() == nil {
		gen, err := group.Next(ctx)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			if errors.Is(err, kafka.ErrGroupClosed) {
				break
			}
			if errors.Is(err, kafka.RebalanceInProgress) {
				continue
			}
			// Readiness is measured when asked (see ready): a partition-less
			// worker is not ready while its topics have lag, and the reason
			// given is what the brokers answer then, not this error.
			log.Warn("joining the consumer group failed; retrying", "group", cfg.GroupID, "error", err)
			bo.wait(ctx)
			continue
		}
		bo.reset()
		done := make(chan struct{})
		w.held.Store(int64(countPartitions(gen.Assignments)))
		gen.Start(func(gctx context.Context) {
			defer close(done)
			p.runGeneration(ctx, gctx, gen, gen.Assignments)
		})
		<-done
		w.held.Store(0)
	}

	// Leave the group; half a second past the deadline, cut its
	// connections (a join waiting on a rebalance would otherwise hold Close
	// for up to the rebalance timeout). The half second lets a LeaveGroup
	// go out when the drain ended just at the deadline.
	if ctx.Err() != nil {
		select {
		case <-left:
		case <-hard.Done():
			select {
			case <-left:
			case <-time.After(leaveGrace):
				tracker.closeAll()
				select {
				case <-left:
				case <-time.After(leaveGrace):
					log.Warn("leaving the consumer group did not finish; the brokers will time this member out")
				}
			}
		}
	} else {
		_ = group.Close()
	}
	p.close()
	for _, s := range []*topicSink{out, dlq} {
		if err := s.enqueue.Close(); err != nil {
			log.Warn("close producer", "topic", s.topic, "error", err)
		}
		if c, ok := s.retry.(interface{ Close() error }); ok {
			_ = c.Close()
		}
	}
	if n := p.left.Load(); n > 0 {
		log.Warn("records left uncommitted at shutdown; they will be consumed again", "records", n)
		return fmt.Errorf("%w: %d records uncommitted", ErrShutdownTimeout, n)
	}
	log.Info("stopped cleanly")
	return nil
}

// countPartitions is how many partitions an assignment holds.
func countPartitions(a map[string][]kafka.PartitionAssignment) int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

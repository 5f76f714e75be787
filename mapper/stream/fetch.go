package stream

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/mapper/kafkaconn"
)

// partitionFetcher reads records of one partition.
//
// Fetch returns the records of topic/partition from offset on (never one
// before it), about maxBytes of them at most but at least one when there is
// one, and the offset to fetch next. With nothing new it waits up to its
// max wait and returns no records. offset may be kafka.FirstOffset. Key,
// Value and header values are nil exactly when the record's were null. It
// reads into mem where it can (the memory of an earlier fetch whose
// records are all written: its records and the response their bytes are
// slices of, as kafkaconn.Fetcher.FetchInto does) and leaves in mem what
// it used; records it returns elsewhere are simply not read into mem. It
// must be safe for concurrent use by one goroutine per partition.
type partitionFetcher interface {
	Fetch(ctx context.Context, mem *kafkaconn.Memory, topic string, partition int, offset, maxBytes int64) ([]kafka.Message, int64, error)
}

// clientFetcher fetches with kafkaconn.Fetcher: one Fetch request per
// call, null and empty kept apart (kafka-go's Reader turns an empty key,
// value or header value into nil, so a dead letter would not be the
// original byte for byte), and the pages kafka-go decodes a fetch into
// bounded however small the partition's record batches.
type clientFetcher struct {
	f       kafkaconn.Fetcher
	maxWait time.Duration
}

func newClientFetcher(client *kafka.Client, maxWait time.Duration) *clientFetcher {
	return &clientFetcher{f: kafkaconn.Fetcher{Client: client, MaxWait: maxWait}, maxWait: maxWait}
}

func (f *clientFetcher) Fetch(ctx context.Context, mem *kafkaconn.Memory, topic string, partition int, offset, maxBytes int64) ([]kafka.Message, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, f.maxWait+30*time.Second)
	defer cancel()
	return f.f.FetchInto(ctx, mem, topic, partition, offset, maxBytes)
}

// connTracker dials the consumer group's connections and can close them
// all at once, so that a join or sync blocked on a rebalance ends at the
// shutdown deadline instead of after the rebalance timeout. Once shut it
// refuses new connections. Safe for concurrent use.
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	shut  bool
	d     net.Dialer
}

var errTrackerShut = errors.New("shutting down: no new group connections")

func (t *connTracker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	t.mu.Lock()
	shut := t.shut
	t.mu.Unlock()
	if shut {
		return nil, errTrackerShut
	}
	c, err := t.d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shut {
		c.Close()
		return nil, errTrackerShut
	}
	if t.conns == nil {
		t.conns = map[net.Conn]struct{}{}
	}
	tc := &trackedConn{Conn: c, t: t}
	t.conns[tc] = struct{}{}
	return tc, nil
}

// closeAll closes every open connection and refuses new ones.
func (t *connTracker) closeAll() {
	t.mu.Lock()
	t.shut = true
	conns := t.conns
	t.conns = nil
	t.mu.Unlock()
	for c := range conns {
		c.(*trackedConn).Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	t *connTracker
}

func (c *trackedConn) Close() error {
	c.t.mu.Lock()
	delete(c.t.conns, c)
	c.t.mu.Unlock()
	return c.Conn.Close()
}

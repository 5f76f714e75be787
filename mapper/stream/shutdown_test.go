package stream_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper/stream"
)

// joinStale makes a group member that joins once and then never rejoins
// nor heartbeats: a rebalance then waits for it until its rebalance (or
// session) timeout, as it would for a member that hangs.
func joinStale(t *testing.T, b *kafkatest.Broker, group, topic string, timeout time.Duration) {
	t.Helper()
	cl := b.Conn().Client(b.Transport, 2*timeout)
	ctx, cancel := context.WithTimeout(context.Background(), 2*timeout)
	defer cancel()
	req := &kafka.JoinGroupRequest{
		GroupID: group, SessionTimeout: timeout, RebalanceTimeout: timeout, ProtocolType: "consumer",
		Protocols: []kafka.GroupProtocol{{Name: "range", Metadata: kafka.GroupProtocolSubscription{Topics: []string{topic}}}},
	}
	for range 3 {
		resp, err := cl.JoinGroup(ctx, req)
		if err != nil {
			t.Fatalf("join stale member: %v", err)
		}
		if errors.Is(resp.Error, kafka.MemberIDRequired) {
			req.MemberID = resp.MemberID
			continue
		}
		if resp.Error != nil {
			t.Fatalf("join stale member: %v", resp.Error)
		}
		return
	}
	t.Fatal("join stale member: the broker kept asking for a member id")
}

// TestShutdownDuringRebalanceKeepsDeadline stops a worker while its group
// is re-forming around a member that does not answer (the join waits for up
// to that member's 40s rebalance timeout) and checks that Run returns within
// the shutdown timeout plus a second; then a fresh worker delivers every
// record, so whatever was not committed is consumed again.
func TestShutdownDuringRebalanceKeepsDeadline(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in := b.Topic(t, "orders", 2)
			out, dlq := b.Topic(t, "out", 1), b.Topic(t, "dlq", 1)
			e := loadEngine(t, in)
			b.Produce(t, in, mixed(200)...)
			group := kafkatest.UniqueName("g")
			joinStale(t, b, group, in, 40*time.Second)

			cfg := testConfig(b, e, group, []string{in}, out, dlq)
			cfg.ShutdownTimeout = 3 * time.Second
			r := start(t, cfg)
			// Wait until the worker is running and so joining: the join
			// cannot finish while the stale member holds the rebalance.
			deadline := time.Now().Add(20 * time.Second)
			for r.w.State() != stream.StateRunning && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(time.Second)
			if c := r.w.Counts(0); c.Committed != 0 {
				t.Fatalf("the worker committed %d records: the group was not re-forming", c.Committed)
			}
			began := time.Now()
			err := r.stop()
			took := time.Since(began)
			t.Logf("Run returned after %v: %v", took.Round(time.Millisecond), err)
			if err != nil && !errors.Is(err, stream.ErrShutdownTimeout) {
				t.Fatalf("Run: %v", err)
			}
			if limit := cfg.ShutdownTimeout + time.Second; took > limit {
				t.Errorf("Run took %v to stop during a rebalance, want at most %v", took, limit)
			}

			// Remove the members left behind (the stale one and the stopped
			// worker's pending join; a real broker times them out by
			// itself, the embedded one may keep them), then a fresh member
			// delivers everything.
			evictMembers(t, b, group)
			fresh := testConfig(b, e, group, []string{in}, out, dlq)
			fresh.RebalanceTimeout = 60 * time.Second
			r2 := start(t, fresh)
			waitLagZero(t, r2.w, 90*time.Second)
			if err := r2.stop(); err != nil {
				t.Fatal(err)
			}
			verifyDelivered(t, b, e, []string{in}, out, dlq)
		})
	}
}

// evictMembers makes every member of group leave it.
func evictMembers(t *testing.T, b *kafkatest.Broker, group string) {
	t.Helper()
	cl := b.Conn().Client(b.Transport, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := cl.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil {
		t.Fatalf("describe group: %v", err)
	}
	var members []kafka.LeaveGroupRequestMember
	for _, g := range d.Groups {
		for _, m := range g.Members {
			members = append(members, kafka.LeaveGroupRequestMember{ID: m.MemberID})
		}
	}
	if len(members) == 0 {
		return
	}
	if _, err := cl.LeaveGroup(ctx, &kafka.LeaveGroupRequest{GroupID: group, Members: members}); err != nil {
		t.Fatalf("evict %d members: %v", len(members), err)
	}
	t.Logf("evicted %d members left behind", len(members))
}

package main

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/observe"
	"github.com/mapperhq/mapper/mapper/stream"
)

// TestDeadLetterCountCountsAcknowledgedWrites checks over real UDP that
// mapper.dlq.records counts the dead-letter writes the worker reports
// acknowledged, by source, and nothing for mapping alone or output writes.
func TestDeadLetterCountCountsAcknowledgedWrites(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	e := telemetryEnv(map[string]string{"DD_DOGSTATSD_URL": "udp://" + conn.LocalAddr().String()})
	c, err := observe.NewMetrics(parseTelemetryFlags(t, e).settings(e, nil))
	if err != nil || c == nil {
		t.Fatalf("newMetrics = %v, %v", c, err)
	}
	d := observe.DeadLetterCounter{Metrics: c}
	res := mapper.UnknownSource("t")
	d.Observe(&mapper.Origin{Topic: "t"}, nil, nil, &res, time.Millisecond) // mapped, not yet written
	d.Delivered(stream.Delivery{Topic: "out", Source: "orders", Records: 7})
	d.Delivered(stream.Delivery{Topic: "dlq", DeadLetter: true, Source: "orders", Records: 5})
	d.Delivered(stream.Delivery{Topic: "dlq", DeadLetter: true, Records: 2})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got := readDatagrams(conn)
	var dlq [][]byte
	for _, line := range bytes.Split(got, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("mapper.dlq.records:")) {
			dlq = append(dlq, line)
		}
	}
	counts := map[string]string{} // source tag → count, in whatever order the client flushed them
	for _, line := range dlq {
		name, tags, _ := bytes.Cut(line, []byte("|c|#"))
		for _, tag := range bytes.Split(tags, []byte(",")) {
			if src, ok := bytes.CutPrefix(tag, []byte("source:")); ok {
				counts[string(src)] = string(bytes.TrimPrefix(name, []byte("mapper.dlq.records:")))
			}
		}
	}
	if len(dlq) != 2 || counts["orders"] != "5" || counts["unknown"] != "2" {
		t.Errorf("dlq.records datagrams %q, want 5 for source orders and 2 for unknown:\n%s", dlq, got)
	}
}

// readDatagrams reads what arrives on conn until it is quiet for half a
// second.
func readDatagrams(conn net.PacketConn) []byte {
	var got []byte
	buf := make([]byte, 1<<16)
	for {
		conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return got
		}
		got = append(got, buf[:n]...)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper/replay/dlq"
)

func TestReplayExitsOneOnlyOnRegression(t *testing.T) {
	dir := addPayloads(t)
	tests := []struct {
		name  string
		rules string
		code  int
		want  []string
	}{
		{"unchanged rules", "rules-v1", exitOK, []string{"ok: 11 samples, 0 now mapped, none newly failing"}},
		{"fixed enum", "rules-v2-fixed", exitOK, []string{"ok: 11 samples, 3 now mapped", "objective 0.900"}},
		{"broken rules", "rules-v3-broken", exitFailure, []string{"REGRESSION: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"replay", "--samples", dir, "--show", "1"}, rulesArgs(tt.rules)...)
			code, out, errOut := runMapperCLI(t, nil, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		args := append([]string{"replay", "--samples", dir, "--json"}, rulesArgs("rules-v3-broken")...)
		code, out, _ := runMapperCLI(t, nil, args...)
		var rep struct {
			Samples      int `json:"samples"`
			NewlyFailing int `json:"newly_failing"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("--json output is not JSON: %v\n%s", err, out)
		}
		if code != exitFailure || rep.Samples != 11 || rep.NewlyFailing == 0 {
			t.Errorf("exit %d, report %+v", code, rep)
		}
	})
}

func TestReplayUsage(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"redrive needs a topic", []string{"replay", "--redrive"}, exitUsage, "need --from-topic"},
		{"bad time", append([]string{"replay", "--from-topic", "d", "--since", "yesterday"}, rulesArgs("rules-v1")...), exitUsage, "neither an RFC 3339 time"},
		{"missing samples", append([]string{"replay", "--samples", "/nonexistent/samples"}, rulesArgs("rules-v1")...), exitFailure, "no samples in"},
		{"unknown source", append([]string{"replay", "--source", "nope"}, rulesArgs("rules-v1")...), exitFailure, `no source "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runMapperCLI(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.wantErr)
			}
		})
	}
}

// TestReplayRedrivesWhatMapsNow writes dead letters as the worker does to
// the embedded broker, replays them with fixed rules and --redrive, and
// reads the input topic back.
func TestReplayRedrivesWhatMapsNow(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) { testRedrive(t, target.Start(t).Addr) })
	}
}

// createTestTopic creates a two-partition topic with a unique name.
func createTestTopic(t *testing.T, addr, prefix string) string {
	t.Helper()
	return (&kafkatest.Broker{Addr: addr, Transport: &kafka.Transport{}}).Topic(t, prefix, 2)
}

func testRedrive(t *testing.T, addr string) {
	input, dlqTopic := createTestTopic(t, addr, "shop.orders"), createTestTopic(t, addr, "shop.orders.dlq")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	payloads := []struct {
		value, failure string
		partition      int
	}{
		{`{"order_id":"A3","customer":{"email":"cy@example.org"},"state":"REFUNDED"}`, "unknown_enum:state", 1},
		{`{"order_id":"A5","customer":{},"state":"PAID"}`, "missing_field:customer.email", 0},
		{`{"order_id":"A6","customer":{"email":"eve@example.com"},"state":"REFUNDED"}`, "unknown_enum:state", 0},
	}
	var msgs []kafka.Message
	for i, p := range payloads {
		msgs = append(msgs, kafka.Message{
			Key: []byte(fmt.Sprint("k", i)), Value: []byte(p.value),
			Headers: []kafka.Header{
				{Key: "trace", Value: []byte(fmt.Sprint("t", i))},
				{Key: dlq.HeaderSource, Value: []byte("shop-orders")},
				{Key: dlq.HeaderRulesVersion, Value: []byte("1")},
				{Key: dlq.HeaderOutcome, Value: []byte("rejected")},
				{Key: dlq.HeaderFailure, Value: []byte(p.failure)},
				{Key: dlq.HeaderOriginTopic, Value: []byte(input)},
				{Key: dlq.HeaderOriginPartition, Value: []byte(strconv.Itoa(p.partition))},
				{Key: dlq.HeaderOriginOffset, Value: []byte(strconv.Itoa(40 + i))},
				{Key: dlq.HeaderFailureDetail, Value: []byte("detail")},
			},
		})
	}
	(&kafkatest.Broker{Addr: addr, Transport: &kafka.Transport{}}).Produce(t, dlqTopic, msgs...)

	args := append([]string{"replay", "--from-topic", dlqTopic, "--redrive"}, rulesArgs("rules-v2-fixed")...)
	code, out, errOut := runMapperCLI(t, map[string]string{"MAPPER_BROKERS": addr}, args...)
	if code != exitOK {
		t.Fatalf("replay --redrive: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "redrove 2 of 3 records") {
		t.Errorf("stderr lacks the redrive count:\n%s", errOut)
	}
	// A second redrive of the same range publishes nothing.
	code, out, errOut = runMapperCLI(t, map[string]string{"MAPPER_BROKERS": addr}, args...)
	if code != exitOK {
		t.Fatalf("second replay --redrive: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "redrove 0 of 3 records to their origin topics (2 skipped") {
		t.Errorf("second redrive: stderr lacks the skipped count:\n%s", errOut)
	}

	got := map[string]kafka.Message{}
	for _, p := range []int{0, 1} {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: input, Partition: p, MaxWait: 100 * time.Millisecond})
		conn, err := kafka.DialLeader(ctx, "tcp", addr, input, p)
		if err != nil {
			t.Fatal(err)
		}
		last, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		for i := int64(0); i < last; i++ {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got[string(m.Key)] = m
		}
		r.Close()
	}
	if len(got) != 2 {
		t.Fatalf("input topic holds %d records, want the 2 that map now, each once: %v", len(got), got)
	}
	for _, i := range []int{0, 2} {
		m, ok := got[fmt.Sprint("k", i)]
		if !ok {
			t.Fatalf("record k%d not redriven", i)
		}
		if string(m.Value) != payloads[i].value || m.Partition != payloads[i].partition {
			t.Errorf("k%d: value %s partition %d, want the original on partition %d", i, m.Value, m.Partition, payloads[i].partition)
		}
		var keys []string
		for _, h := range m.Headers {
			keys = append(keys, h.Key+"="+string(h.Value))
		}
		if len(keys) != 2 || keys[0] != fmt.Sprint("trace=t", i) || !strings.HasPrefix(keys[1], dlq.HeaderRedrivenFrom+"="+dlqTopic+"/") {
			t.Errorf("k%d headers %v, want the original ones and %s", i, keys, dlq.HeaderRedrivenFrom)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
)

// TestTap runs the worker on a broker (the embedded one, and a real Kafka
// when MAPPER_TEST_KAFKA is set), then taps what it wrote.
func TestTap(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) { testTap(t, target.Start(t)) })
	}
}

func testTap(t *testing.T, b *kafkatest.Broker) {
	in, unclaimed := b.Topic(t, "partner.orders", 1), b.Topic(t, "partner.unclaimed", 1)
	out, dlq := b.Topic(t, "orders.mapped", 1), b.Topic(t, "orders.dead-letter", 1)
	// The shipped orders rules, on this test's own input topic.
	rules := t.TempDir()
	yaml, err := os.ReadFile("../../rules/orders.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rules, "orders.yaml"), bytes.ReplaceAll(yaml, []byte("partner.orders.raw"), []byte(in)), 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "Ana.Silva.Secret@Example.COM"
	order := func(status string) []byte {
		return fmt.Appendf(nil, `{"order_id":"ORD-1","customer":{"email":%q,"name":"Ana Silva"},"items":[{"sku":"SKU-10001","qty":1,"price":"1.00","title":"W"}],"amount":"1.00","currency":"EUR","status":%q,"created":"2024-05-01T12:00:00Z"}`, secret, status)
	}
	b.Produce(t, in,
		kafka.Message{Key: []byte("k1"), Value: order("paid")},
		kafka.Message{Key: []byte("k2"), Value: order("on-hold")},
		kafka.Message{Key: []byte("k3"), Value: []byte(`{"order_id":`)},
	)
	b.Produce(t, unclaimed, kafka.Message{Value: fmt.Appendf(nil, `{"invoice":%q}`, secret)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		code, _, _ := runCmd(t, ctx, nil, "run", "--brokers", b.Addr, "--output-topic", out, "--dlq-topic", dlq, "--group", kafkatest.UniqueName("tap-test"),
			"--topics", in+","+unclaimed, "--rules", rules, "--schemas", "../../schemas",
			"--status-addr", "", "--metrics=false", "--no-samples")
		done <- code
	}()
	wctx, wcancel := context.WithTimeout(ctx, 90*time.Second)
	defer wcancel()
	if err := b.WaitEnd(wctx, dlq, 3); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitEnd(wctx, out, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("mapper run exit %d", code)
	}

	tapArgs := func(extra ...string) []string {
		return append([]string{"tap", "--brokers", b.Addr, "--rules", rules, "--schemas", "../../schemas", "--from-beginning"}, extra...)
	}
	tests := []struct {
		name   string
		args   []string
		want   []string
		absent []string
	}{
		{"dead letters with their headers decoded and the payload masked",
			tapArgs("--topic", dlq, "--max", "3"),
			[]string{
				dlq + "/0@", "rejected  orders v1  from " + in + "/0@1  key \"k2\"",
				`failure unknown_enum:status: "on-hold" is not one of`,
				`"email":"Xxx.Xxxxx.Xxxxxx@Xxxxxxx.XXX"`,
				"failure malformed_payload",
				"rejected  unrouted  from " + unclaimed + "/0@0",
				"failure unknown_source",
				"value withheld: no source claimed it",
			},
			[]string{secret, "Ana Silva"}},
		{"a category filter", tapArgs("--topic", dlq, "--max", "1", "--category", "unknown_enum"),
			[]string{"failure unknown_enum:status"}, []string{"malformed_payload", "unknown_source", secret}},
		{"an output record, the fields read from redacted paths masked", tapArgs("--topic", out, "--max", "1", "--outcome", "mapped,degraded"),
			[]string{out + "/0@0", "mapped  orders v1  from " + in + "/0@0", `value {"id":"ORD-1","email":"xxx.xxxxx.xxxxxx@xxxxxxx.xxx"`},
			[]string{secret, strings.ToLower(secret), "value withheld"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tctx, tcancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer tcancel()
			code, stdout, stderr := runCmd(t, tctx, nil, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(stdout+stderr, a) {
					t.Errorf("output has %q", a)
				}
			}
			if t.Failed() {
				t.Logf("stdout:\n%s", stdout)
			}
		})
	}

	t.Run("one JSON object a line", func(t *testing.T) {
		tctx, tcancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer tcancel()
		code, stdout, stderr := runCmd(t, tctx, nil, tapArgs("--topic", dlq, "--max", "3", "--json", "--outcome", "rejected")...)
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if len(lines) != 3 {
			t.Fatalf("%d lines, want 3:\n%s", len(lines), stdout)
		}
		var reasons []string
		for _, l := range lines {
			var r struct {
				Outcome  string `json:"outcome"`
				Failures []struct {
					Reason string `json:"reason"`
				} `json:"failures"`
				Value json.RawMessage `json:"value"`
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, l)
			}
			if r.Outcome != "rejected" || len(r.Failures) == 0 {
				t.Errorf("record %s", l)
			}
			reasons = append(reasons, r.Failures[0].Reason)
		}
		if strings.Contains(stdout, secret) {
			t.Errorf("JSON output has the secret:\n%s", stdout)
		}
		if got := strings.Join(reasons, ","); !strings.Contains(got, "unknown_enum") || !strings.Contains(got, "unknown_source") {
			t.Errorf("reasons %s", got)
		}
	})

	t.Run("a topic that does not exist", func(t *testing.T) {
		nope := kafkatest.UniqueName("nope")
		code, _, stderr := runCmd(t, context.Background(), nil, tapArgs("--topic", nope)...)
		if code != exitFailure || !strings.Contains(stderr, "topic does not exist: "+nope) {
			t.Errorf("exit %d; stderr:\n%s", code, stderr)
		}
	})
	t.Run("bad flags are listed together", func(t *testing.T) {
		code, _, stderr := runCmd(t, context.Background(), nil, "tap", "--outcome", "lost", "--max", "-1", "--rules", rules, "--schemas", "../../schemas")
		for _, w := range []string{"--topic is required", `outcome "lost": want mapped, degraded or rejected`, "--max -1"} {
			if code != exitUsage || !strings.Contains(stderr, w) {
				t.Errorf("exit %d, stderr lacks %q:\n%s", code, w, stderr)
			}
		}
	})
}

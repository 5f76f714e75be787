package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/mapperhq/mapper/internal/kafkatest"
)

func TestRunLogsOneJSONObjectPerLine(t *testing.T) {
	b := kafkatest.StartKfake(t, kfake.SeedTopics(2, "partner.orders.raw", "github.webhooks", "out", "dlq"))
	var msgs []kafka.Message
	for i := range 20 {
		msgs = append(msgs, kafka.Message{Value: fmt.Appendf(nil, `{"order_id":"ORD-%d","amount":"x"}`, i)})
	}
	b.Produce(t, "partner.orders.raw", msgs...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, _, stderr := runCmd(t, ctx, map[string]string{"MAPPER_LOG_FORMAT": "json", "MAPPER_LOG_LEVEL": "debug"},
			"run", "--brokers", b.Addr, "--output-topic", "out", "--dlq-topic", "dlq", "--group", "json-logs",
			"--rules", "../../rules", "--schemas", "../../schemas", "--status-addr", "127.0.0.1:0",
			"--metrics=false")
		done <- result{code, stderr}
	}()
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	for {
		d, err := b.End(wctx, "dlq")
		if err == nil && d >= 20 {
			break
		}
		if wctx.Err() != nil {
			t.Fatalf("the worker did not dead-letter the 20 records: %d, %v", d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	r := <-done
	if r.code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	var msgsSeen []string
	for i, line := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("line %d is not one JSON object: %v\n%s", i+1, err, line)
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := obj[k]; !ok {
				t.Errorf("line %d lacks %q: %s", i+1, k, line)
			}
		}
		msgsSeen = append(msgsSeen, fmt.Sprint(obj["msg"]))
	}
	for _, w := range []string{"worker running", "status page", "stopped cleanly"} {
		if !strings.Contains(strings.Join(msgsSeen, "\n"), w) {
			t.Errorf("no log line %q among %q", w, msgsSeen)
		}
	}
}

func TestRunGivesUpOnUnreachableBrokers(t *testing.T) {
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, _, stderr := runCmd(t, ctx, nil, "run", "--brokers", dead, "--connect-timeout", "2s",
		"--output-topic", "o", "--dlq-topic", "d", "--status-addr", "", "--metrics=false",
		"--rules", "../../rules", "--schemas", "../../schemas")
	if ctx.Err() != nil {
		t.Fatal("mapper run did not give up on unreachable brokers")
	}
	want := "brokers unreachable: no answer from " + dead + " within 2s"
	if code != exitFailure || !strings.Contains(stderr, want) || !strings.Contains(stderr, "metadata request over TCP") {
		t.Errorf("exit %d, want 1 and %q; stderr:\n%s", code, want, stderr)
	}
}

func TestLogFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"unknown format and level are configuration errors", []string{"--log-format", "xml", "--log-level", "loud"},
			[]string{`--log-format "xml": want text or json`, `--log-level "loud": want debug, info, warn or error`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--output-topic", "o", "--dlq-topic", "d", "--rules", "../../rules", "--schemas", "../../schemas"}, tt.args...)
			code, _, stderr := runCmd(t, context.Background(), nil, args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			for _, w := range tt.wants {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestDemoListsEveryProblemBeforeStarting(t *testing.T) {
	code, stdout, stderr := runCmd(t, context.Background(), map[string]string{"MAPPER_LOG_LEVEL": "loud"},
		"demo", "--rate", "0", "--rules", "testdata/broken-rules", "--schemas", "../../schemas")
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	for _, w := range []string{"--rate 0: must be 1 or more", `--log-level "loud"`, `orders.yaml:12:58: unknown transform "lowercse"`} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if stdout != "" {
		t.Errorf("the demo started: %s", stdout)
	}
}

// TestDemoWithoutAnAgentIsQuiet is a laptop with no DogStatsD agent and no
// load: the demo, metrics on, prints nothing on stderr (README's promise is
// 30 s; a few seconds hold the same paths: the agent refusing datagrams,
// idle fetches, the lag reports).
func TestDemoWithoutAnAgentIsQuiet(t *testing.T) {
	free, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	agent := free.LocalAddr().String()
	free.Close() // nothing listens there now
	code, stdout, stderr := runCmd(t, context.Background(), map[string]string{"DD_DOGSTATSD_URL": "udp://" + agent},
		"demo", "--duration", "8s", "--rate", "20", "--status-addr", "")
	if code != exitOK || !strings.Contains(stdout, "stopped cleanly") {
		t.Fatalf("exit %d; stdout:\n%s", code, stdout)
	}
	if stderr != "" {
		t.Errorf("the demo printed on stderr:\n%s", stderr)
	}
}

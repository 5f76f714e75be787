package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/internal/syncbuf"
)

// runCmd runs the command line with env as the environment. Samples go to
// a temporary directory unless env names one, so that no test writes into
// the source tree.
func runCmd(t testing.TB, ctx context.Context, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	samples := t.TempDir()
	var stdout, stderr syncbuf.Buffer
	code := run(ctx, args, strings.NewReader(""), &stdout, &stderr, func(k string) string {
		if v, ok := env[k]; ok || k != "MAPPER_SAMPLES" {
			return v
		}
		return samples
	})
	return code, stdout.String(), stderr.String()
}

func TestRunRejectsBadConfigurationBeforeStarting(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"topics missing", nil, []string{"run", "--rules", "../../rules", "--schemas", "../../schemas"},
			[]string{"no output topic given", "no dead-letter topic given"}},
		{"bad numbers from the environment", map[string]string{"MAPPER_BATCH_SIZE": "0", "MAPPER_CONCURRENCY": "-2"},
			[]string{"run", "--output-topic", "o", "--dlq-topic", "d"},
			[]string{"--concurrency -2: must be 0 or more", "--batch-size 0: must be 1 or more"}},
		{"a variable that is not a number", map[string]string{"MAPPER_BATCH_SIZE": "abc", "MAPPER_METRICS": "maybe", "MAPPER_SENTRY_INTERVAL": "hourly"},
			[]string{"run", "--output-topic", "o", "--dlq-topic", "d"},
			[]string{`MAPPER_BATCH_SIZE="abc": not a whole number`, `MAPPER_METRICS="maybe": not a boolean`, `MAPPER_SENTRY_INTERVAL="hourly": not a duration`}},
		{"the Datadog and Sentry variables and the rules, listed together", map[string]string{"DD_DOGSTATSD_URL": "http://agent:8125", "SENTRY_DSN": "not a dsn", "MAPPER_RULES": "testdata/broken-rules"},
			[]string{"run", "--output-topic", "o", "--dlq-topic", "d", "--schemas", "../../schemas"},
			[]string{`DD_DOGSTATSD_URL="http://agent:8125": scheme "http"`, "alerts: SENTRY_DSN:", `testdata/broken-rules/orders.yaml:12:58: unknown transform "lowercse"`}},
		{"unknown SASL mechanism", nil, []string{"run", "--output-topic", "o", "--dlq-topic", "d", "--sasl-mechanism", "GSSAPI", "--sasl-user", "u"},
			[]string{`unknown SASL mechanism "GSSAPI"`}},
		{"TLS key without certificate", nil, []string{"run", "--output-topic", "o", "--dlq-topic", "d", "--tls-key", "k.pem"},
			[]string{"TLS client certificate and key must be given together"}},
		{"bad shutdown timeout", nil, []string{"run", "--output-topic", "o", "--dlq-topic", "d", "--shutdown-timeout", "soon"},
			[]string{`--shutdown-timeout "soon": not a duration`}},
		{"broker without port", map[string]string{"MAPPER_BROKERS": "kafka.internal"},
			[]string{"run", "--output-topic", "o", "--dlq-topic", "d", "--rules", "../../rules", "--schemas", "../../schemas"},
			[]string{`--brokers: "kafka.internal" is not host:port`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, context.Background(), tt.env, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestRunConsumesUntilCanceled drives `mapper run` with the shipped rules
// against an embedded broker over TCP.
func TestRunConsumesUntilCanceled(t *testing.T) {
	b := kafkatest.StartKfake(t, kfake.SeedTopics(2, "partner.orders.raw", "github.webhooks", "out", "dlq"))
	var msgs []kafka.Message
	for i := range 40 {
		msgs = append(msgs, kafka.Message{Key: fmt.Appendf(nil, "k%d", i),
			Value: fmt.Appendf(nil, `{"order_id":"ORD-%d","customer":{"email":"a%d@example.com"},"amount":"1.00"}`, i, i)})
	}
	b.Produce(t, "partner.orders.raw", msgs...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, o, e := runCmd(t, ctx, map[string]string{"MAPPER_BROKERS": b.Addr, "MAPPER_OUTPUT_TOPIC": "out", "MAPPER_DLQ_TOPIC": "dlq"},
			"run", "--rules", "../../rules", "--schemas", "../../schemas", "--status-addr", "127.0.0.1:0", "--group", "cmd-test")
		done <- result{code, o, e}
	}()
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	waitErr := make(chan error, 1)
	go func() {
		for {
			o, err1 := b.End(wctx, "out")
			d, err2 := b.End(wctx, "dlq")
			if err1 == nil && err2 == nil && o+d >= 40 {
				waitErr <- nil
				return
			}
			select {
			case <-wctx.Done():
				waitErr <- fmt.Errorf("output+dead-letter records %d+%d, want 40", o, d)
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatal(err)
		}
	case r := <-done:
		t.Fatalf("mapper run ended early with %d:\n%s", r.code, r.stderr)
	}
	cancel()
	r := <-done
	if r.code != exitOK {
		t.Fatalf("exit %d after cancel, want 0; stderr:\n%s", r.code, r.stderr)
	}
	for _, w := range []string{"worker running", "status page", "stopped cleanly"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("log lacks %q:\n%s", w, r.stderr)
		}
	}
}

func TestRunWrongPasswordFailsAtStart(t *testing.T) {
	b := kafkatest.StartKfake(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "admin", "right"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, _, stderr := runCmd(t, ctx, map[string]string{"MAPPER_SASL_PASSWORD": "wrong"},
		"run", "--brokers", b.Addr, "--output-topic", "o", "--dlq-topic", "d", "--status-addr", "",
		"--rules", "../../rules", "--schemas", "../../schemas",
		"--sasl-mechanism", "PLAIN", "--sasl-user", "admin")
	if ctx.Err() != nil {
		t.Fatal("mapper run kept retrying a refused login")
	}
	if code != exitFailure || !strings.Contains(stderr, "refused the SASL PLAIN login") {
		t.Fatalf("exit %d, want 1 with a clear message; stderr:\n%s", code, stderr)
	}
}

func TestDemoRunsForItsDuration(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCmd(t, context.Background(), map[string]string{"MAPPER_SAMPLES": dir}, "demo", "--duration", "3s", "--rate", "300", "--refresh", "1s", "--status-addr", "")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	for _, w := range []string{"embedded broker on 127.0.0.1:", "outcome", "mapped", "rejected", "top failure categories", "orders", "github-work-items", "stopped cleanly"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("demo output lacks %q:\n%s", w, stdout)
		}
	}
	var mapped int
	for _, line := range strings.Split(stdout, "\n") {
		if _, err := fmt.Sscanf(line, "mapper demo %s produced %d processed %d", new(string), new(int), &mapped); err == nil && mapped > 0 {
			break
		}
	}
	if mapped == 0 {
		t.Errorf("the summary never showed a mapped record:\n%s", stdout)
	}
	// The last screen says where the samples are and what to run next.
	_, tail, _ := strings.Cut(stdout, "stopped cleanly\n")
	for _, w := range []string{"categories kept in " + dir + "/", "next:", "mapper samples --samples " + dir, "mapper replay --samples " + dir,
		"mapper suggest --samples " + dir + " --source ", "mapper suggest --samples " + dir + " --source unrouted --out started", "mapper drift --samples " + dir} {
		if !strings.Contains(tail, w) {
			t.Errorf("the last screen lacks %q:\n%s", w, tail)
		}
	}
	if code, out, _ := runCmd(t, context.Background(), nil, "samples", "--samples", dir); code != exitOK || !strings.Contains(out, "orders") {
		t.Errorf("the command the demo suggests fails: exit %d\n%s", code, out)
	}
}

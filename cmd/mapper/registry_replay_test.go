package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/internal/syncbuf"
	"github.com/mapperhq/mapper/mapper/registry"
	"github.com/mapperhq/mapper/mapper/replay"
	"github.com/mapperhq/mapper/mapper/stream"
)

// testRegistry returns the real registry's URL (fake nil) when
// MAPPER_TEST_SCHEMA_REGISTRY is set, else an srfake registry's.
func testRegistry(t *testing.T) (string, *srfake.Registry) {
	t.Helper()
	if u := os.Getenv(envRegistry); u != "" {
		return u, nil
	}
	reg := srfake.New()
	t.Cleanup(reg.Close)
	return reg.URL(), reg
}

// setBackward sets BACKWARD on each subject.
func setBackward(t *testing.T, regURL string, subjects ...string) *sr.Client {
	t.Helper()
	cl, err := sr.NewClient(sr.URLs(regURL))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subjects {
		for _, r := range cl.SetCompatibility(context.Background(), sr.SetCompatibility{Level: sr.CompatBackward}, s) {
			if r.Err != nil {
				t.Fatalf("set BACKWARD on %s: %v", s, r.Err)
			}
		}
	}
	return cl
}

// replayJSON runs mapper replay ARGS --json and decodes its report.
func replayJSON(t *testing.T, env map[string]string, args ...string) (int, replay.Report, string) {
	t.Helper()
	code, stdout, stderr := runCmd(t, context.Background(), env, append(append([]string{"replay"}, args...), "--json")...)
	var rep replay.Report
	if code == exitOK || code == exitFailure && strings.HasPrefix(strings.TrimSpace(stdout), "{") {
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("replay %v: exit %d, report %v:\n%s\n%s", args, code, err, stdout, stderr)
		}
	}
	return code, rep, stderr
}

// totals sums a replay report's rows.
func totals(rep replay.Report) (samples, nowMapped, same, differently, newly int) {
	for _, r := range rep.Rows {
		samples += r.Samples
		nowMapped += r.NowMapped
		same += r.StillFailing
		differently += r.FailingDifferently
		newly += r.NewlyFailing
	}
	return
}

// TestReplayWithSchemaRegistry: the dead letters of a worker that reads
// framed input (Confluent-style producers) keep their frame; `replay
// --from-topic --schema-registry` unframes them as the worker did, so the
// verdicts are about the rules, not the frame, and a redrive re-publishes
// the framed bytes as they came. The rules' output schemas are checked
// against the registry as `check` does: an incompatible one is refused
// quoting the registry (exit 1, nothing redriven), and a registry that does
// not answer is exit 1 within --connect-timeout. Real Kafka and the real
// registry when MAPPER_TEST_KAFKA and MAPPER_TEST_SCHEMA_REGISTRY are set;
// with srfake, the refusal is the fake registry's answer set by the test.
func TestReplayWithSchemaRegistry(t *testing.T) {
	b := kafkaBroker(t)
	regURL, fake := testRegistry(t)
	rules, schemas, orders, _ := registryRules(t, b)
	out, dlq := b.Topic(t, "sr-replay-out", 1), b.Topic(t, "sr-replay-dlq", 1)
	subject := out + "-orders"
	cl := setBackward(t, regURL, subject, out+"-github-work-items")
	ctx := context.Background()

	// The worker runs stricter rules than the shipped ones: REFUNDED is not
	// a status it delivers. Replaying its dead letters with the shipped
	// rules maps those.
	strict := t.TempDir()
	copyDir(t, schemas, strict)
	writeFile(t, filepath.Join(strict, "order.v1.json"), orderSchemaVariant(t, schemas, func(d map[string]any) {
		props(d)["status"] = map[string]any{"enum": []string{"PAID", "PENDING", "FULFILLED", "CANCELLED"}}
	}))
	msgs := orderRecords(t, 40)
	for i := range msgs {
		// Producers' schema ids; 10 and 0x0a0a hold a newline byte.
		id := []int{10, 0x0a0a, 4242}[i%3]
		msgs[i].Value = append(registry.AppendHeader(nil, id), msgs[i].Value...)
	}
	b.Produce(t, orders, msgs...)
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	r := startRun(t, rctx, map[string]string{"MAPPER_BROKERS": b.Addr}, "run", "--rules", rules, "--schemas", strict,
		"--output-topic", out, "--dlq-topic", dlq, "--group", kafkatest.UniqueName("sr-replay"), "--schema-registry", regURL)
	waitUntil(t, r, "every record delivered", func() bool {
		o, err1 := b.End(ctx, out)
		d, err2 := b.End(ctx, dlq)
		return err1 == nil && err2 == nil && o+d >= int64(len(msgs))
	})
	stop()
	if code := <-r.done; code != exitOK {
		t.Fatalf("worker exit %d:\n%s", code, r.stderr.String())
	}
	dead := b.ReadAll(t, dlq)
	refunded := 0
	for _, m := range dead {
		if m.Value[0] != 0 {
			t.Fatalf("dead letter %s does not keep its frame: %q", m.Key, m.Value)
		}
		if bytes.Contains(m.Value, []byte(`"status":"refunded"`)) {
			refunded++
		}
	}
	if refunded == 0 {
		t.Fatalf("no refunded order among %d dead letters: the test proves nothing", len(dead))
	}

	from := []string{"--from-topic", dlq, "--rules", rules, "--schemas", schemas}
	env := map[string]string{"MAPPER_BROKERS": b.Addr}
	t.Run("without the registry the frame is a malformed payload", func(t *testing.T) {
		code, rep, stderr := replayJSON(t, env, from...)
		n, fixed, _, differently, _ := totals(rep)
		if code != exitOK || n != len(dead) || fixed != 0 || differently == 0 {
			t.Errorf("exit %d, %d samples, %d now mapped, %d failing differently; want %d samples, none mapped, some failing differently:\n%s",
				code, n, fixed, differently, len(dead), stderr)
		}
	})

	t.Run("with the registry: unframed, checked, redriven framed", func(t *testing.T) {
		before, err := b.End(ctx, orders)
		if err != nil {
			t.Fatal(err)
		}
		code, rep, stderr := replayJSON(t, env, append(from, "--schema-registry", regURL, "--output-topic", out,
			"--redrive", "--redrive-group", kafkatest.UniqueName("sr-redrive"))...)
		n, fixed, _, differently, _ := totals(rep)
		// Some refunded orders have other defects too: at least one maps now.
		if code != exitOK || n != len(dead) || fixed == 0 || fixed > refunded || differently != 0 {
			t.Fatalf("exit %d, %d samples, %d now mapped, %d failing differently; want %d samples, 1 to %d now mapped (the refunded), none failing differently:\n%s",
				code, n, fixed, differently, len(dead), refunded, stderr)
		}
		if want := "ok  orders  subject " + subject + "  compatible: the next version"; !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
		if err := b.WaitEnd(ctx, orders, before+int64(fixed)); err != nil {
			t.Fatal(err)
		}
		originals := map[string]bool{}
		for _, m := range msgs {
			originals[string(m.Value)] = true
		}
		redriven := 0
		for _, m := range b.ReadAll(t, orders) {
			if _, ok := kafkatest.Header(m, "mapper.redriven_from"); !ok {
				continue
			}
			redriven++
			if !originals[string(m.Value)] {
				t.Errorf("redriven record %s is not the framed original: %q", m.Key, m.Value)
			}
		}
		if redriven != fixed {
			t.Errorf("%d records redriven, want the %d now mapped", redriven, fixed)
		}
		if vs, err := cl.SubjectVersions(ctx, subject); err != nil || len(vs) != 1 {
			t.Errorf("replay registered something: %s versions %v (%v), want the worker's one", subject, vs, err)
		}
	})

	t.Run("an incompatible output schema is refused quoting the registry", func(t *testing.T) {
		if fake != nil {
			fake.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasPrefix(r.URL.Path, "/compatibility/subjects/"+subject+"/") {
					return false
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"is_compatible":false,"messages":["type changed at #/properties/total_cents (the fake registry's answer)"]}`))
				return true
			})
			defer fake.ClearInterceptors()
		}
		changed := t.TempDir()
		copyDir(t, schemas, changed)
		writeFile(t, filepath.Join(changed, "order.v1.json"), orderSchemaVariant(t, schemas, func(d map[string]any) {
			props(d)["total_cents"] = map[string]any{"type": "string"}
		}))
		before, err := b.End(ctx, orders)
		if err != nil {
			t.Fatal(err)
		}
		code, _, stderr := replayJSON(t, env, "--from-topic", dlq, "--rules", rules, "--schemas", changed,
			"--schema-registry", regURL, "--output-topic", out, "--redrive", "--redrive-group", kafkatest.UniqueName("sr-redrive"))
		line := "mapper replay: source orders: output schema order.v1.json is not compatible with subject " + subject + " (version 1, BACKWARD): the registry answered: "
		if code != exitFailure || !strings.Contains(stderr, line) || !strings.Contains(stderr, "nothing redriven") {
			t.Errorf("exit %d, want 1, %q and nothing redriven:\n%s", code, line, stderr)
		}
		if after, err := b.End(ctx, orders); err != nil || after != before {
			t.Errorf("the input topic grew from %d to %d (%v) after a refused replay", before, after, err)
		}
	})

	t.Run("a capture of framed records, replayed exactly", func(t *testing.T) {
		var capture []byte
		for _, m := range msgs {
			capture = append(append(capture, m.Value...), '\n')
		}
		file := filepath.Join(t.TempDir(), "capture.jsonl")
		writeFile(t, file, string(capture))
		args := []string{"--source", "orders", "--baseline-rules", rules, "--rules", rules, "--schemas", schemas}
		for _, withRegistry := range []bool{false, true} {
			a := args
			if withRegistry {
				a = append(a, "--schema-registry", regURL, "--output-topic", out)
			}
			code, stdout, stderr := runCmd(t, ctx, env, append(append(append([]string{"replay"}, a...), "--json", "--input"), file)...)
			var rep replay.ExactReport
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitOK {
				t.Fatalf("registry %v: exit %d, %v:\n%s%s", withRegistry, code, err, stdout, stderr)
			}
			malformed := 0
			for _, row := range rep.Rows {
				if strings.HasPrefix(row.Category, "malformed_payload") {
					malformed += row.Before
				}
			}
			switch {
			case withRegistry && rep.Records != len(msgs):
				t.Errorf("registry %v: %d records, want %d (a header's newline split a line?)", withRegistry, rep.Records, len(msgs))
			case withRegistry && (malformed != 0 || rep.DeliveredBefore == 0):
				t.Errorf("with the registry: %d malformed, %d delivered; want the payloads mapped:\n%s", malformed, rep.DeliveredBefore, stdout)
			case !withRegistry && malformed == 0:
				// Read as plain lines, a frame is not JSON (and an id's
				// newline byte splits its line).
				t.Errorf("without the registry no framed line is malformed: the frame was not what the test thinks:\n%s", stdout)
			}
		}
	})

	t.Run("a registry that does not answer", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		down := "http://" + l.Addr().String()
		l.Close()
		code, _, stderr := replayJSON(t, env, append(from, "--schema-registry", down, "--output-topic", out, "--connect-timeout", "1s")...)
		if code != exitFailure || !strings.Contains(stderr, "mapper replay: schema registry "+down+" cannot be reached") ||
			!strings.Contains(stderr, "gave up after 1s, --connect-timeout") || strings.Contains(stderr, "mapper replay: read ") {
			t.Errorf("exit %d, want 1 naming the registry and the timeout before reading anything:\n%s", code, stderr)
		}
	})
}

// TestDemoWithSchemaRegistry: `mapper demo --schema-registry` registers
// each source's output schema (the real registry when
// MAPPER_TEST_SCHEMA_REGISTRY is set, else srfake), says which subject,
// version and id each source's records carry, and writes its embedded
// broker's output topic in the wire format: franz-go's sr.Serde decodes
// every record with the id registered for its source.
func TestDemoWithSchemaRegistry(t *testing.T) {
	regURL, _ := testRegistry(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stdout, stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--schema-registry", regURL, "--rate", "300", "--refresh", "1h", "--status-addr", "", "--no-samples", "--metrics=false"},
			strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
	}()
	bindingLine := regexp.MustCompile(`(?m)^    (\S+): \S+ as subject (\S+) version (\d+), schema id (\d+)$`)
	deadline := time.Now().Add(60 * time.Second)
	for len(bindingLine.FindAllString(stdout.String(), -1)) < 2 {
		select {
		case code := <-done:
			t.Fatalf("demo ended (exit %d) before saying its subjects:\n%s%s", code, stdout.String(), stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo did not say its subjects within a minute:\n%s%s", stdout.String(), stderr.String())
		}
	}
	shown := stdout.String()
	if !strings.Contains(shown, "topic mapper.demo.output: records in the wire format of schema registry "+regURL) {
		t.Errorf("demo does not name the registry:\n%s", shown)
	}
	cl, err := sr.NewClient(sr.URLs(regURL))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	var serde sr.Serde
	for _, m := range bindingLine.FindAllStringSubmatch(shown, -1) {
		version, _ := strconv.Atoi(m[3])
		id, _ := strconv.Atoi(m[4])
		if want := "mapper.demo.output-" + m[1]; m[2] != want {
			t.Errorf("source %s: subject %s, want %s (one subject per source)", m[1], m[2], want)
		}
		ss, err := cl.SchemaByVersion(ctx, m[2], version)
		if err != nil || ss.ID != id {
			t.Errorf("registry holds %+v (%v) as %s version %d, demo says id %d", ss, err, m[2], version, id)
		}
		ids[m[1]] = id
		serde.Register(id, map[string]any{}, sr.DecodeFn(func(b []byte, v any) error { return json.Unmarshal(b, v) }))
	}
	addr := regexp.MustCompile(`embedded broker on (\S+);`).FindStringSubmatch(shown)
	if addr == nil {
		t.Fatalf("no broker address in:\n%s", shown)
	}
	b := kafkatest.External(t, addr[1])
	if err := b.WaitEnd(ctx, "mapper.demo.output", 50); err != nil {
		t.Fatalf("output records: %v\n%s", err, stderr.String())
	}
	msgs := b.ReadAll(t, "mapper.demo.output")
	bySource := map[string]int{}
	for _, m := range msgs {
		src, _ := kafkatest.Header(m, stream.HeaderSource)
		var v map[string]any
		id, _, err := serde.DecodeID(m.Value)
		if err != nil || id != ids[src] || serde.Decode(m.Value, &v) != nil || v["id"] == nil {
			t.Fatalf("record %d of %s: id %d (%v), want %d, decoded %v", m.Offset, src, id, err, ids[src], v)
		}
		bySource[src]++
	}
	if len(bySource) != 2 {
		t.Errorf("decoded records by source %v, want both sources", bySource)
	}
	stop()
	if code := <-done; code != exitOK {
		t.Fatalf("demo exit %d:\n%s", code, stderr.String())
	}
}

// TestCheckNamesTheSubjectsAsDocumented: the subjects each
// --subject-strategy gives the shipped rules (two sources sharing one
// output topic), as docs/schema-registry.md lists them.
func TestCheckNamesTheSubjectsAsDocumented(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	for _, tt := range []struct {
		strategy      string
		orders, works string
	}{
		{"", "out-orders", "out-github-work-items"},
		{"topic_record", "out-orders", "out-github-work-items"},
		{"topic", "out-value", "out-value"},
		{"record", "orders", "github-work-items"},
	} {
		t.Run("strategy "+tt.strategy, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, context.Background(), map[string]string{"MAPPER_SUBJECT_STRATEGY": tt.strategy},
				"check", "--rules", "../../rules", "--schemas", "../../schemas", "--schema-registry", reg.URL(), "--output-topic", "out")
			for _, want := range []string{"ok  orders  subject " + tt.orders + "  compatible", "ok  github-work-items  subject " + tt.works + "  compatible"} {
				if code != exitOK || !strings.Contains(stdout, want) {
					t.Errorf("exit %d, want 0 and %q:\n%s%s", code, want, stdout, stderr)
				}
			}
		})
	}
}

// TestTapGoesOnWithoutTheRegistry: tap only asks the registry to name a
// framed value's subject and version; one that does not answer is said
// once and the records are shown with their schema id.
func TestTapGoesOnWithoutTheRegistry(t *testing.T) {
	b := kafkaBroker(t)
	out := b.Topic(t, "sr-tap", 1)
	b.Produce(t, out, kafka.Message{Key: []byte("k"), Value: append(registry.AppendHeader(nil, 7), `{"id":"ORD-1"}`...)})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()
	code, stdout, stderr := runCmd(t, context.Background(), map[string]string{"MAPPER_BROKERS": b.Addr},
		"tap", "--rules", "../../rules", "--schemas", "../../schemas", "--topic", out, "--from-beginning", "--max", "1", "--json", "--schema-registry", down)
	var rec struct {
		SchemaID int    `json:"schema_id"`
		Schema   string `json:"schema"`
	}
	if code != exitOK || json.Unmarshal([]byte(stdout), &rec) != nil || rec.SchemaID != 7 || rec.Schema != "" {
		t.Errorf("exit %d, record %+v, want 0 and schema id 7 unnamed:\n%s%s", code, rec, stdout, stderr)
	}
	if want := "mapper tap: schema registry " + down + " cannot be reached"; !strings.Contains(stderr, want) || !strings.Contains(stderr, "shown with their schema id only") {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
}

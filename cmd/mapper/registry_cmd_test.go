package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper/registry"
	"github.com/mapperhq/mapper/mapper/stream"
)

// envRegistry names the real Schema Registry's Confluent-compatible base
// URL (scripts/registry.sh start prints it). Tests that need the
// registry's own compatibility judgement run only when it is set; the
// others use srfake (whose compatibility check says yes to everything).
const envRegistry = "MAPPER_TEST_SCHEMA_REGISTRY"

// registryURL returns the real registry's URL, or an srfake one.
func registryURL(t *testing.T) (string, bool) {
	t.Helper()
	u, fake := testRegistry(t)
	return u, fake == nil
}

// kafkaBroker returns the real Kafka when MAPPER_TEST_KAFKA is set, else
// the embedded broker.
func kafkaBroker(t *testing.T) *kafkatest.Broker {
	t.Helper()
	if addr := os.Getenv(kafkatest.EnvVar); addr != "" {
		return kafkatest.External(t, addr)
	}
	return kafkatest.StartKfake(t)
}

// registryRules copies the shipped rules and schemas into a temporary
// directory, with input topics of their own (the real broker is shared).
func registryRules(t *testing.T, b *kafkatest.Broker) (rules, schemas, orders, github string) {
	t.Helper()
	dir := t.TempDir()
	rules, schemas = filepath.Join(dir, "rules"), filepath.Join(dir, "schemas")
	orders, github = b.Topic(t, "sr-orders", 2), b.Topic(t, "sr-github", 1)
	copyDir(t, "../../schemas", schemas)
	copyDir(t, "../../rules", rules)
	for file, topics := range map[string][2]string{
		"orders.yaml":            {"[partner.orders.raw]", "[" + orders + "]"},
		"github-work-items.yaml": {"[github.webhooks]", "[" + github + "]"},
	} {
		p := filepath.Join(rules, file)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), topics[0]) {
			t.Fatalf("%s has no %s", p, topics[0])
		}
		writeFile(t, p, strings.Replace(string(data), topics[0], topics[1], 1))
	}
	return rules, schemas, orders, github
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// orderRecords are the first n orders of the fixtures' generated feed
// that are JSON (some have other defects).
func orderRecords(t *testing.T, n int) []kafka.Message {
	t.Helper()
	f, err := os.Open("../../fixtures/orders/generated.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var msgs []kafka.Message
	for sc.Scan() && len(msgs) < n {
		line := sc.Bytes()
		if !json.Valid(line) {
			continue // the feed's malformed ones: the test frames the rest
		}
		msgs = append(msgs, kafka.Message{Key: fmt.Appendf(nil, "o%d", len(msgs)), Value: append([]byte(nil), line...)})
	}
	return msgs
}

// githubRecords are the issues webhooks of the fixtures, with their
// event header.
func githubRecords(t *testing.T) []kafka.Message {
	t.Helper()
	names, err := filepath.Glob("../../fixtures/github-work-items/issues.*.payload.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("no issues fixtures: %v", err)
	}
	var msgs []kafka.Message
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, kafka.Message{Key: []byte(filepath.Base(n)), Value: data,
			Headers: []kafka.Header{{Key: "X-GitHub-Event", Value: []byte("issues")}}})
	}
	return msgs
}

// waitUntil polls cond until it holds, failing the test if the command
// ends first or a minute passes.
func waitUntil(t *testing.T, r *runningCmd, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		select {
		case code := <-r.done:
			t.Fatalf("mapper ended (exit %d) before %s:\n%s", code, what, r.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within a minute; stderr:\n%s", what, r.stderr.String())
		}
	}
}

// tcpProxy forwards loopback connections to a registry, counting them, so
// that a test can make the registry go away for the worker (Close) while
// it keeps running for the test.
type tcpProxy struct {
	l      net.Listener
	target string
	conns  atomic.Int64
	mu     sync.Mutex
	open   []net.Conn
	closed bool
}

func newProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{l: l, target: target}
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

func (p *tcpProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			up.Close()
			return
		}
		p.open = append(p.open, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// Close stops accepting and drops every connection: the registry is gone.
func (p *tcpProxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.l.Close()
	for _, c := range p.open {
		c.Close()
	}
}

// url is the registry URL through the proxy.
func (p *tcpProxy) url(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.l.Addr().String()
	return u.String()
}

func hostOf(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestRunWritesTheWireFormatThatSerdeDecodes runs `mapper run
// --schema-registry` (real Kafka and the real registry when
// MAPPER_TEST_KAFKA and MAPPER_TEST_SCHEMA_REGISTRY are set) and reads the
// output topic with franz-go's sr.Serde: every record decodes, with the
// schema id registered under its source's subject. Then the registry goes
// away mid-run: records keep coming, none lost, /readyz stays ready and
// the registry is not asked again, until a reload brings a new schema: it
// is refused (the running rules stay) and /readyz says it waits for the
// registry.
func TestRunWritesTheWireFormatThatSerdeDecodes(t *testing.T) {
	b := kafkaBroker(t)
	regURL, real := registryURL(t)
	t.Logf("kafka %s, registry %s (real registry: %v)", b.Name, regURL, real)
	rules, schemas, orders, github := registryRules(t, b)
	out, dlq := b.Topic(t, "sr-out", 2), b.Topic(t, "sr-dlq", 1)
	cl, err := sr.NewClient(sr.URLs(regURL))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	subjects := map[string]string{"orders": out + "-orders", "github-work-items": out + "-github-work-items"}
	for _, s := range subjects {
		for _, r := range cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatBackward}, s) {
			if r.Err != nil {
				t.Fatalf("set BACKWARD on %s: %v", s, r.Err)
			}
		}
	}
	proxy := newProxy(t, hostOf(t, regURL))
	ordersBefore, ordersAfter := orderRecords(t, 60)[:30], orderRecords(t, 60)[30:]
	b.Produce(t, orders, ordersBefore...)
	gh := githubRecords(t)
	b.Produce(t, github, gh...)

	rctx, stop := context.WithCancel(ctx)
	defer stop()
	r := startRun(t, rctx, map[string]string{"MAPPER_BROKERS": b.Addr},
		"run", "--rules", rules, "--schemas", schemas, "--output-topic", out, "--dlq-topic", dlq,
		"--group", kafkatest.UniqueName("sr-group"),
		"--schema-registry", proxy.url(t, regURL), "--log-format", "text", "--watch-rules", "100ms")
	total := int64(len(ordersBefore) + len(gh))
	delivered := func(want int64) func() bool {
		return func() bool {
			o, err1 := b.End(ctx, out)
			d, err2 := b.End(ctx, dlq)
			return err1 == nil && err2 == nil && o+d >= want
		}
	}
	waitUntil(t, r, "the first records", delivered(total))

	// The registry goes away; ids are cached, so records keep flowing.
	startConns := proxy.conns.Load()
	proxy.Close()
	// These come framed in the wire format, as a Confluent-style producer
	// writes them: unframed before mapping. The last is not JSON: its dead
	// letter keeps the framed bytes as they came.
	for i := range ordersAfter {
		ordersAfter[i].Value = append(registry.AppendHeader(nil, 4242), ordersAfter[i].Value...)
	}
	badFramed := append(registry.AppendHeader(nil, 4242), "not json"...)
	ordersAfter = append(ordersAfter, kafka.Message{Key: []byte("bad-framed"), Value: badFramed})
	b.Produce(t, orders, ordersAfter...)
	total += int64(len(ordersAfter))
	waitUntil(t, r, "the records produced after the registry went away", delivered(total))
	if code, body := readyz(t, r.statusURL); code != http.StatusOK {
		t.Errorf("/readyz %d %q with the registry gone and every id cached, want 200", code, body)
	}
	// Only a new schema needs the registry: a reload that brings one is
	// refused, the running rules stay, and /readyz says why.
	writeFile(t, filepath.Join(schemas, "order.v1.json"), orderSchemaVariant(t, schemas, func(d map[string]any) {
		props(d)["note"] = map[string]any{"type": "string"}
	}))
	waitUntil(t, r, "the reload refused", func() bool { return strings.Contains(r.stderr.String(), "reload refused") })
	if code, body := readyz(t, r.statusURL); code == http.StatusOK || !strings.Contains(body, "a new output schema waits for the schema registry") {
		t.Errorf("/readyz %d %q with a new schema and the registry gone, want not ready and why", code, body)
	}
	st, err := getStatus(r.statusURL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	shown, _ := json.Marshal(st.SchemaRegistry)
	for _, subject := range subjects {
		if !strings.Contains(string(shown), `"subject":"`+subject+`","version":1}`) || !strings.Contains(string(shown), `"schema_id":`) {
			t.Errorf("/status schema_registry lacks %s version 1 and its id: %s", subject, shown)
		}
	}
	stop()
	if code := <-r.done; code != exitOK {
		t.Fatalf("exit %d, want 0:\n%s", code, r.stderr.String())
	}
	if n := proxy.conns.Load(); n != startConns {
		t.Errorf("the worker opened %d connections to the registry after start, want none (ids are cached)", n-startConns)
	}

	ids := map[string]int{}
	for src, subject := range subjects {
		vs, err := cl.SubjectVersions(ctx, subject)
		if err != nil {
			t.Fatalf("subject %s: %v", subject, err)
		}
		if len(vs) != 1 || vs[0] != 1 {
			t.Errorf("subject %s versions %v, want [1]", subject, vs)
		}
		ss, err := cl.SchemaByVersion(ctx, subject, 1)
		if err != nil {
			t.Fatal(err)
		}
		ids[src] = ss.ID
		if !strings.Contains(r.stderr.String(), fmt.Sprintf("subject=%s version=1 schema_id=%d", subject, ss.ID)) {
			t.Errorf("log does not say %s was registered as id %d:\n%s", subject, ss.ID, r.stderr.String())
		}
	}

	var serde sr.Serde
	for _, id := range ids {
		serde.Register(id, map[string]any{}, sr.DecodeFn(func(b []byte, v any) error { return json.Unmarshal(b, v) }))
	}
	msgs := b.ReadAll(t, out)
	dead := b.ReadAll(t, dlq)
	if int64(len(msgs)+len(dead)) != total {
		t.Fatalf("%d output + %d dead-letter records, want %d in all", len(msgs), len(dead), total)
	}
	if len(msgs) == 0 {
		t.Fatal("no output record")
	}
	bySource := map[string]int{}
	for _, m := range msgs {
		src, _ := kafkatest.Header(m, stream.HeaderSource)
		id, _, err := serde.DecodeID(m.Value)
		if err != nil {
			t.Fatalf("record %s/%d: %v", m.Topic, m.Offset, err)
		}
		if id != ids[src] {
			t.Errorf("record of %s framed with schema id %d, want %d", src, id, ids[src])
		}
		var v map[string]any
		if err := serde.Decode(m.Value, &v); err != nil {
			t.Fatalf("serde cannot decode record %d: %v", m.Offset, err)
		}
		if v["id"] == nil {
			t.Errorf("decoded record of %s has no id: %v", src, v)
		}
		bySource[src]++
	}
	if bySource["orders"] == 0 || bySource["github-work-items"] == 0 {
		t.Errorf("output records by source %v, want both sources", bySource)
	}
	var keptBytes bool
	for _, m := range dead {
		switch {
		case string(m.Key) == "bad-framed":
			keptBytes = string(m.Value) == string(badFramed)
		case len(m.Value) > 0 && m.Value[0] == 0:
			// A defective framed order: dead-lettered framed, as it came,
			// for its own defect, not as a payload that is not JSON.
			if f, _ := kafkatest.Header(m, stream.HeaderFailure); strings.HasPrefix(f, "malformed_payload") {
				t.Errorf("framed order %q not unframed: %s", m.Key, f)
			}
		}
	}
	if !keptBytes {
		t.Errorf("the framed malformed record's dead letter does not keep its bytes as they came")
	}

	// tap shows the payload and says which subject and version the id is.
	code, stdout, stderr := runCmd(t, ctx, map[string]string{"MAPPER_BROKERS": b.Addr}, "tap", "--topic", out,
		"--from-beginning", "--max", "3", "--rules", rules, "--schemas", schemas, "--schema-registry", regURL, "--json")
	if code != exitOK {
		t.Fatalf("tap: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("tap printed %d lines, want 3:\n%s", len(lines), stdout)
	}
	for _, l := range lines {
		var rec struct {
			Source   string         `json:"source"`
			SchemaID int            `json:"schema_id"`
			Schema   string         `json:"schema"`
			Value    map[string]any `json:"value"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("tap line %q: %v", l, err)
		}
		// The registry keeps one id per schema text: other subjects with
		// the same schema share it.
		want := fmt.Sprintf("subject %s version 1", subjects[rec.Source])
		if rec.SchemaID != ids[rec.Source] || !strings.Contains(rec.Schema, want) || rec.Value["id"] == nil {
			t.Errorf("tap shows id %d %q value %v, want id %d %q and the decoded record", rec.SchemaID, rec.Schema, rec.Value, ids[rec.Source], want)
		}
	}
}

// TestRunExitsWhenTheRegistryIsDown: a registry that does not answer at
// start (nothing listens at its address, as when it is stopped) is exit 1
// with a line naming it and the --connect-timeout it waited, for run (on
// real Kafka when MAPPER_TEST_KAFKA is set), demo and check.
func TestRunExitsWhenTheRegistryIsDown(t *testing.T) {
	b := kafkaBroker(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String() + "/apis/ccompat/v7"
	l.Close() // nothing listens there now
	rules := []string{"--rules", "../../rules", "--schemas", "../../schemas", "--connect-timeout", "1s", "--schema-registry", down}
	for _, tt := range []struct {
		cmd  string
		args []string
	}{
		{"run", []string{"--output-topic", "o", "--dlq-topic", "d", "--status-addr", ""}},
		{"demo", []string{"--status-addr", "", "--no-samples", "--metrics=false"}},
		{"check", []string{"--output-topic", "o"}},
	} {
		t.Run(tt.cmd, func(t *testing.T) {
			code, _, stderr := runCmd(t, context.Background(), map[string]string{"MAPPER_BROKERS": b.Addr},
				append(append([]string{tt.cmd}, rules...), tt.args...)...)
			if code != exitFailure {
				t.Fatalf("exit %d, want 1:\n%s", code, stderr)
			}
			want := "mapper " + tt.cmd + ": schema registry " + down + " cannot be reached"
			if !strings.Contains(stderr, want) || !strings.Contains(stderr, "gave up after 1s, --connect-timeout") {
				t.Errorf("stderr lacks %q and the timeout:\n%s", want, stderr)
			}
		})
	}
}

// readyz returns /readyz's status and body from a run's status URL.
func readyz(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get(addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// orderSchemaVariant returns schemas/order.v1.json changed by edit (on the
// decoded document), as JSON.
func orderSchemaVariant(t *testing.T, schemas string, edit func(doc map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(schemas, "order.v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func props(doc map[string]any) map[string]any { return doc["properties"].(map[string]any) }

// TestRegistryGateUnderBackward: under BACKWARD, an output schema with a
// property's type changed or a new required property is refused by
// `mapper check`, by a hot reload and as a candidate, each quoting the
// registry; an optional property added is accepted by a reload and
// registered as the next version, and the records after it carry the new
// id. The judgement is the real registry's when MAPPER_TEST_SCHEMA_REGISTRY
// is set. With srfake (which finds every schema compatible) the test
// makes the fake answer "not compatible" to the incompatible variants'
// compatibility checks, so that the refusals' wiring is proved on every
// run.
func TestRegistryGateUnderBackward(t *testing.T) {
	regURL, fake := testRegistry(t)
	b := kafkaBroker(t)
	rules, schemas, orders, _ := registryRules(t, b)
	out, dlq := b.Topic(t, "sr-gate-out", 1), b.Topic(t, "sr-gate-dlq", 1)
	subject := out + "-orders"
	cl := setBackward(t, regURL, subject, out+"-github-work-items")
	ctx := context.Background()
	var refuse atomic.Bool // the fake's answer; the real registry judges for itself
	if fake != nil {
		fake.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
			if !refuse.Load() || !strings.HasPrefix(r.URL.Path, "/compatibility/subjects/"+subject+"/") {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"is_compatible":false,"messages":["the fake registry refuses this change"]}`))
			return true
		})
	}
	original, err := os.ReadFile(filepath.Join(schemas, "order.v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	incompatible := map[string]string{
		"type changed": orderSchemaVariant(t, schemas, func(d map[string]any) {
			props(d)["total_cents"] = map[string]any{"type": "string"}
		}),
		"new required property": orderSchemaVariant(t, schemas, func(d map[string]any) {
			props(d)["channel"] = map[string]any{"type": "string"}
			d["required"] = append(d["required"].([]any), "channel")
		}),
	}
	optional := orderSchemaVariant(t, schemas, func(d map[string]any) {
		props(d)["note"] = map[string]any{"type": "string"}
	})
	env := map[string]string{"MAPPER_BROKERS": b.Addr, "MAPPER_SCHEMA_REGISTRY": regURL, "MAPPER_OUTPUT_TOPIC": out}

	// check on the untouched rules: a new subject, compatible.
	code, stdout, stderr := runCmd(t, ctx, env, "check", "--rules", rules, "--schemas", schemas)
	if code != exitOK || !strings.Contains(stdout, "ok  orders  subject "+subject+"  compatible") {
		t.Fatalf("check before any registration: exit %d\n%s%s", code, stdout, stderr)
	}

	rctx, stop := context.WithCancel(ctx)
	defer stop()
	r := startRun(t, rctx, env, "run", "--rules", rules, "--schemas", schemas, "--dlq-topic", dlq,
		"--group", kafkatest.UniqueName("sr-gate"), "--watch-rules", "100ms", "--log-format", "text")
	// Stop the worker before its temporary directories go.
	t.Cleanup(func() { stop(); <-r.done })
	r.waitStatus(t, "running", func(st stream.Status) bool { return st.Ready })
	if vs, err := cl.SubjectVersions(ctx, subject); err != nil || len(vs) != 1 {
		t.Fatalf("after start, %s versions %v (%v), want one", subject, vs, err)
	}

	for name, schema := range incompatible {
		refuse.Store(true)
		t.Run(name, func(t *testing.T) {
			// check, on a copy of the schemas with the change.
			changed := t.TempDir()
			copyDir(t, schemas, changed)
			writeFile(t, filepath.Join(changed, "order.v1.json"), schema)
			code, stdout, stderr := runCmd(t, ctx, env, "check", "--rules", rules, "--schemas", changed)
			line := "source orders: output schema order.v1.json is not compatible with subject " + subject + " (version 1, BACKWARD): the registry answered: "
			if code != exitFailure || !strings.Contains(stderr, "mapper check: "+line) {
				t.Errorf("check: exit %d, want 1 and %q:\n%s%s", code, line, stdout, stderr)
			}

			// a hot reload with the change is refused with the same line.
			before := strings.Count(r.stderr.String(), "reload refused")
			writeFile(t, filepath.Join(schemas, "order.v1.json"), schema)
			waitUntil(t, r, "the reload refused", func() bool { return strings.Count(r.stderr.String(), "reload refused") > before })
			if !strings.Contains(r.stderr.String(), line) {
				t.Errorf("the refused reload does not quote the registry (%q):\n%s", line, r.stderr.String())
			}
			writeFile(t, filepath.Join(schemas, "order.v1.json"), string(original))

			// the same schema as a candidate's output schema.
			candSchemas := t.TempDir()
			copyDir(t, schemas, candSchemas)
			writeFile(t, filepath.Join(candSchemas, "order.cand.json"), schema)
			cand := t.TempDir()
			data, err := os.ReadFile(filepath.Join(rules, "orders.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(cand, "orders.yaml"), strings.Replace(string(data), "output_schema: order.v1.json", "output_schema: order.cand.json", 1))
			for _, mode := range []string{"shadow", "canary"} {
				code, _, stderr = runCmd(t, ctx, env, "run", "--rules", rules, "--schemas", candSchemas, "--dlq-topic", dlq,
					"--status-addr", "", "--candidate-rules", cand, "--candidate-mode", mode, "--canary-share", "0.5")
				cline := "candidate source orders: output schema order.cand.json is not compatible with subject " + subject + " (version 1, BACKWARD): the registry answered: "
				if code != exitFailure || !strings.Contains(stderr, "mapper run: "+cline) {
					t.Errorf("%s candidate: exit %d, want 1 and %q:\n%s", mode, code, cline, stderr)
				}
			}
		})
	}
	if vs, err := cl.SubjectVersions(ctx, subject); err != nil || len(vs) != 1 {
		t.Fatalf("after the refusals, %s versions %v (%v), want still one", subject, vs, err)
	}

	refuse.Store(false)
	t.Run("optional property added", func(t *testing.T) {
		writeFile(t, filepath.Join(schemas, "order.v1.json"), optional)
		waitUntil(t, r, "the reload with the optional property", func() bool {
			return strings.Contains(r.stderr.String(), "subject="+subject+" version=2")
		})
		vs, err := cl.SubjectVersions(ctx, subject)
		if err != nil || len(vs) != 2 || vs[1] != 2 {
			t.Fatalf("%s versions %v (%v), want [1 2]", subject, vs, err)
		}
		v2, err := cl.SchemaByVersion(ctx, subject, 2)
		if err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCmd(t, ctx, env, "check", "--rules", rules, "--schemas", schemas)
		want := fmt.Sprintf("ok  orders  subject %s  version 2  schema id %d  (registered)", subject, v2.ID)
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("check after the reload: exit %d, want 0 and %q:\n%s%s", code, want, stdout, stderr)
		}
		b.Produce(t, orders, orderRecords(t, 5)...)
		waitUntil(t, r, "the records after the reload", func() bool {
			n, err := b.End(ctx, out)
			d, err2 := b.End(ctx, dlq)
			return err == nil && err2 == nil && n+d >= 5
		})
		msgs := b.ReadAll(t, out)
		if len(msgs) == 0 {
			t.Fatalf("no output record; dead letters: %d", len(b.ReadAll(t, dlq)))
		}
		for _, m := range msgs {
			if id, _, err := new(sr.ConfluentHeader).DecodeID(m.Value); err != nil || id != v2.ID {
				t.Errorf("record %d framed with id %d (%v), want version 2's id %d", m.Offset, id, err, v2.ID)
			}
		}
	})
}

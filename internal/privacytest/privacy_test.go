package privacytest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/replay"
	"github.com/mapperhq/mapper/mapper/replay/dlq"
	"github.com/mapperhq/mapper/mapper/samples"
)

// The rules redact customer.email, customer.name and lines[].sku.
func loadOrders(tb testing.TB) *mapper.Engine {
	tb.Helper()
	eng, err := mapper.Load(filepath.Join("testdata", "rules"), filepath.Join("testdata", "schemas"), mapper.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

// sentrySink is a real HTTP endpoint that keeps the raw envelopes it gets.
type sentrySink struct {
	srv *httptest.Server
	dsn string

	mu     sync.Mutex
	bodies [][]byte
}

func newSentrySink(tb testing.TB) *sentrySink {
	s := &sentrySink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		raw, _ := io.ReadAll(body)
		s.mu.Lock()
		s.bodies = append(s.bodies, raw)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"%032d"}`, 1)
	}))
	tb.Cleanup(s.srv.Close)
	s.dsn = "http://public@" + strings.TrimPrefix(s.srv.URL, "http://") + "/7"
	return s
}

func (s *sentrySink) take() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bodies
	s.bodies = nil
	return b
}

// markerAlphabet has no x, X or 0, so a masked marker never equals it.
const markerAlphabet = "abcdefghijkmnopqrstuvwyzABCDEFGHJKLMNPQRSTUVWYZ123456789"

// payloadGen builds random payload shapes carrying a marker under a
// redacted path: the expected objects, and drifted ones (strings, numbers,
// arrays where objects are expected and the reverse, deeper nesting, keys
// that look like the path), sometimes broken (truncated, invalid UTF-8,
// duplicate keys).
type payloadGen struct {
	r      *rand.Rand
	marker string
}

func (g *payloadGen) secret() any {
	switch g.r.IntN(6) {
	case 0:
		return g.marker
	case 1:
		return "Jane " + g.marker + " <" + g.marker + "@example.org>"
	case 2:
		return map[string]any{"value": g.marker, g.marker: 1}
	case 3:
		return []any{g.marker, map[string]any{"deep": []any{g.marker}}}
	case 4:
		return " " + g.marker + "\t"
	default:
		return map[string]any{"a": map[string]any{"b": map[string]any{"c": g.marker}}}
	}
}

func (g *payloadGen) customer() any {
	switch g.r.IntN(8) {
	case 0, 1:
		c := map[string]any{"tier": "gold"}
		if g.r.IntN(2) == 0 {
			c["email"] = g.secret()
		} else {
			c["email"] = "ok@example.org"
			c["name"] = g.secret()
		}
		return c
	case 2:
		return "Jane Doe <" + g.marker + "@example.org>"
	case 3:
		return []any{map[string]any{"email": g.secret(), "name": g.marker}}
	case 4:
		return []any{g.marker, 42}
	case 5:
		return map[string]any{"email": map[string]any{g.marker: g.secret()}}
	case 6:
		if g.r.IntN(2) == 0 {
			// A key of a redacted object: the schema names no such key.
			return map[string]any{"email": "ok@example.org", "name": map[string]any{"first": "Q", g.marker: g.secret()}}
		}
		return map[string]any{"name": []any{[]any{g.marker}}, "email": nil}
	default:
		return map[string]any{"email": true, "name": g.marker, "tier": 3.5}
	}
}

func (g *payloadGen) lines() any {
	switch g.r.IntN(6) {
	case 0, 1:
		return []any{map[string]any{"sku": "AB-1", "qty": 1}, map[string]any{"sku": g.secret(), "qty": "2"}}
	case 2:
		return map[string]any{"sku": g.marker, "qty": 1}
	case 3:
		return []any{g.marker, []any{map[string]any{"sku": g.marker}}}
	case 4:
		return g.marker
	default:
		return []any{map[string]any{"sku": map[string]any{"code": g.marker}}}
	}
}

// payload returns one payload; the marker is always in it.
func (g *payloadGen) payload() []byte {
	doc := map[string]any{"order_id": fmt.Sprintf("O-%d", g.r.IntN(1000))}
	if g.r.IntN(4) > 0 {
		doc["state"] = []string{"OPEN", "PAID", "LOST"}[g.r.IntN(3)]
	}
	switch g.r.IntN(5) {
	case 0:
		doc["lines"] = g.lines()
		doc["customer"] = map[string]any{"email": "ok@example.org"}
	case 1:
		doc["customer"] = g.customer()
		doc["lines"] = g.lines()
	case 2:
		// Keys that look like the redacted path.
		doc[[]string{"customer.email", "customer.name", "lines[].sku", "lines.[].sku"}[g.r.IntN(4)]] = g.secret()
		doc["customer"] = map[string]any{"email": g.marker + "@example.org"}
	default:
		doc["customer"] = g.customer()
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	switch g.r.IntN(10) {
	case 0: // truncated after the marker's first occurrence
		if i := bytes.Index(b, []byte(g.marker)); i >= 0 {
			b = b[:i+len(g.marker)+g.r.IntN(len(b)-i-len(g.marker)+1)]
		}
	case 1: // invalid UTF-8 next to the marker
		b = bytes.Replace(b, []byte(g.marker), []byte(g.marker+"\xff"), 1)
	case 2: // a duplicate key carrying the marker
		b = append(b[:len(b)-1], []byte(`,"customer":{"email":"`+g.marker+`"}}`)...)
	}
	return b
}

// marker returns a random marker; the property checks its first 8
// characters, so that a truncated copy is caught too.
func marker(r *rand.Rand) string {
	b := make([]byte, 12)
	for i := range b {
		b[i] = markerAlphabet[r.IntN(len(markerAlphabet))]
	}
	return string(b)
}

// leakCheck runs payload through everything that lets data leave the
// process and fails t if probe appears in any of it.
type leakCheck struct {
	eng  *mapper.Engine
	src  *mapper.Source
	sink *sentrySink
}

func (c *leakCheck) run(t *testing.T, payload []byte, probe string) {
	t.Helper()
	if !bytes.Contains(payload, []byte(probe)) {
		t.Fatalf("the payload does not carry the marker: %s", payload)
	}
	leak := func(where string, b []byte) {
		t.Helper()
		if bytes.Contains(b, []byte(probe)) {
			t.Fatalf("marker %s leaked into %s\npayload: %s\n%s: %s", probe, where, payload, where, b)
		}
	}
	origin := &mapper.Origin{Topic: "orders.raw", Partition: 1, Offset: 7, Key: []byte("k"), Time: time.Unix(1700000000, 0)}
	res := c.src.Map(payload)
	for _, f := range res.Failures {
		leak("a failure field", []byte(f.Field))
		leak("a failure detail", []byte(f.Detail))
	}
	for _, f := range c.src.RedactFailures(res.Failures) {
		leak("a redacted failure", []byte(f.Field+" "+f.Detail))
	}
	leak("the redacted payload", c.src.Redact(payload))
	leak("the redacted output", c.src.RedactOutput(res.Output))

	// Sample files.
	dir := t.TempDir()
	store, err := samples.Open(samples.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	store.Observe(origin, c.src, payload, &res, time.Millisecond)
	// A record candidate rules judge differently, kept with their result.
	store.Keep("candidate:newly_failing", origin, c.src, payload, &res, 2, &res)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	files := readFiles(t, dir)
	for p, b := range files {
		leak("a sample file's name", []byte(p))
		leak("sample file "+filepath.Base(p), b)
	}
	if len(files) < 2 {
		t.Fatalf("sample files: %d", len(files))
	}

	// Sentry envelopes, through a real HTTP endpoint.
	a, err := alerts.New(alerts.Config{DSN: c.sink.dsn})
	if err != nil {
		t.Fatal(err)
	}
	a.Observe(origin, c.src, payload, &res, time.Millisecond)
	a.Notify(alerts.Notice{Kind: alerts.NoticeCandidateNewlyFailing, Source: "orders", RulesVersion: 1, CandidateVersion: 2,
		Message: "candidate", Failures: res.Failures, Src: c.src, Topic: origin.Topic})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	envelopes := c.sink.take()
	if len(res.Failures) > 0 && len(envelopes) == 0 {
		t.Fatalf("no Sentry envelope for a record with failures %+v", res.Failures)
	}
	for _, env := range envelopes {
		leak("a Sentry envelope", env)
	}

	// Dead-letter headers, and replay of the dead-letter record (the
	// original payload) and of the kept samples, with examples shown.
	var hs []kafka.Header
	for _, f := range res.Failures {
		hs = append(hs, kafka.Header{Key: dlq.HeaderFailure, Value: []byte(f.Category().String())})
	}
	for _, f := range res.Failures {
		hs = append(hs, kafka.Header{Key: dlq.HeaderFailureDetail, Value: []byte(f.Detail)})
	}
	for _, h := range hs {
		leak("a dead-letter header", h.Value)
	}
	hs = append(hs, kafka.Header{Key: dlq.HeaderSource, Value: []byte("orders")}, kafka.Header{Key: dlq.HeaderRulesVersion, Value: []byte("1")},
		kafka.Header{Key: dlq.HeaderOriginTopic, Value: []byte("orders.raw")})
	rec := dlq.Parse(kafka.Message{Topic: "orders.dlq", Value: payload, Headers: hs})
	fromDLQ := rec.Sample()
	// A category the record cannot have now, so that replay shows it.
	fromDLQ.Category = "unknown_enum:replay.probe"
	kept, err := samples.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range kept {
		kept[i].Category = "unknown_enum:replay.probe"
	}
	for name, in := range map[string][]samples.Sample{"replay --from-topic": {fromDLQ}, "replay --samples": kept} {
		rep, err := replay.Run(context.Background(), c.eng, in, replay.Options{Show: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rows) == 0 || len(rep.Rows[0].Examples) == 0 {
			t.Fatalf("%s kept no example to show", name)
		}
		var text, js bytes.Buffer
		if err := rep.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		if err := rep.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		leak(name+" --show", text.Bytes())
		leak(name+" --json --show", js.Bytes())
	}
}

// readFiles returns every file under dir, by path, and fails t if one
// cannot be read.
func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		files[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func newLeakCheck(t *testing.T) *leakCheck {
	eng := loadOrders(t)
	return &leakCheck{eng: eng, src: eng.Source("orders"), sink: newSentrySink(t)}
}

// TestMarkerUnderARedactedPathNeverLeaves is the deterministic randomized
// run of the property: a fixed seed, many payload shapes.
func TestMarkerUnderARedactedPathNeverLeaves(t *testing.T) {
	c := newLeakCheck(t)
	n := 300
	if testing.Short() {
		n = 40
	}
	r := rand.New(rand.NewPCG(8, 2026))
	for i := range n {
		m := marker(r)
		g := &payloadGen{r: r, marker: m}
		payload := g.payload()
		t.Run(fmt.Sprint(i), func(t *testing.T) { c.run(t, payload, m[:8]) })
	}
}

// TestReportedDriftLeavesNoTraceOfTheAddress is the reproduction of the
// issue: customer as a string holding an address, and as an array of
// objects.
func TestReportedDriftLeavesNoTraceOfTheAddress(t *testing.T) {
	c := newLeakCheck(t)
	for _, payload := range []string{
		`{"order_id":"O-1","customer":"Jane <jane@example.org>","state":"OPEN"}`,
		`{"order_id":"O-2","customer":[{"email":"jane@example.org","name":"Jane Doe"}],"state":"OPEN"}`,
	} {
		c.run(t, []byte(payload), "jane@example")
		c.run(t, []byte(payload), "jane")
	}
}

// FuzzMarkerUnderARedactedPathNeverLeaves explores shapes from a seed and
// the fuzzer's bytes: the bytes become the marker's text (where they hold
// enough letters or digits to be recognised after masking).
func FuzzMarkerUnderARedactedPathNeverLeaves(f *testing.F) {
	f.Add(uint64(1), "jane@example.org")
	f.Add(uint64(2), "Zoë Ångström")
	f.Add(uint64(3), "customer.email")
	f.Add(uint64(4), "4111111111111111")
	f.Add(uint64(5), "\u2028\"quoted\"\\")
	f.Fuzz(func(t *testing.T, seed uint64, text string) {
		probe := probeOf(text)
		if probe == "" {
			return // nothing that masking must change
		}
		c := newLeakCheck(t)
		g := &payloadGen{r: rand.New(rand.NewPCG(seed, 1)), marker: probe}
		c.run(t, g.payload(), probe)
	})
}

// probeOf keeps the letters and digits of s other than x, X and 0 (which
// mask to themselves), after "Qz" so that the probe cannot be text the
// outputs hold anyway ("custom" is in "customer"); "" when fewer than 4.
func probeOf(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(markerAlphabet, c) {
			b.WriteRune(c)
		}
	}
	if b.Len() < 4 {
		return ""
	}
	return "Qz" + b.String()
}

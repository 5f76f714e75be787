package registry_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/registry"
)

func engine(t testing.TB) *mapper.Engine {
	t.Helper()
	e, err := mapper.Load("../../rules", "../../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// counting counts the requests reg answers.
func counting(reg *srfake.Registry) *atomic.Int64 {
	var n atomic.Int64
	reg.Intercept(func(http.ResponseWriter, *http.Request) bool { n.Add(1); return false })
	return &n
}

func newClient(t *testing.T, cfg registry.Config) *registry.Client {
	t.Helper()
	c, err := registry.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStrategySubjects(t *testing.T) {
	tests := []struct {
		name     string
		strategy registry.Strategy
		shared   bool
		want     string
	}{
		{"default, one source: the topic's value subject", registry.StrategyDefault, false, "out-value"},
		{"default, sources sharing the topic: one subject each", registry.StrategyDefault, true, "out-orders"},
		{"topic even when shared", registry.StrategyTopic, true, "out-value"},
		{"record: the source's name", registry.StrategyRecord, false, "orders"},
		{"topic_record", registry.StrategyTopicRecord, false, "out-orders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.strategy.Subject("out", "orders", tt.shared); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := registry.ParseStrategy("topicname"); err == nil || !strings.Contains(err.Error(), "topic, record or topic_record") {
		t.Errorf("unknown strategy: %v", err)
	}
}

func TestPrepareRegistersEachSchemaOnceAndFramesWithItsID(t *testing.T) {
	reg := srfake.New(srfake.WithGlobalCompat(sr.CompatBackward))
	defer reg.Close()
	n := counting(reg)
	c := newClient(t, registry.Config{URL: reg.URL()})
	eng := engine(t)
	ctx := context.Background()
	bs, err := c.Prepare(ctx, registry.Set{Topic: "out", Live: eng})
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != len(eng.Sources()) {
		t.Fatalf("%d bindings for %d sources", len(bs), len(eng.Sources()))
	}
	for i, b := range bs {
		src := eng.Sources()[i]
		if b.Subject != "out-"+src.Name() || b.Version != 1 || b.SchemaID == 0 || !b.New {
			t.Errorf("binding %+v, want subject out-%s version 1, a new id", b, src.Name())
		}
		ss, ok := reg.GetSchema(b.Subject, 1)
		_, doc := src.OutputSchema()
		if !ok || ss.ID != b.SchemaID || ss.Schema.Schema != string(doc) {
			t.Errorf("registry holds %+v under %s, want the output schema with id %d", ss, b.Subject, b.SchemaID)
		}
		id, payload, err := new(sr.ConfluentHeader).DecodeID(append(c.Prefix(src), `{"id":"1"}`...))
		if err != nil || id != b.SchemaID || string(payload) != `{"id":"1"}` {
			t.Errorf("prefix of %s decodes to id %d payload %q (%v), want id %d", src.Name(), id, payload, err, b.SchemaID)
		}
	}
	asked := n.Load()
	// The same rules again (a reload that changed nothing): no request.
	if _, err := c.Prepare(ctx, registry.Set{Topic: "out", Live: engine(t)}); err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != asked {
		t.Errorf("a second Prepare of the same schemas sent %d requests, want 0", got-asked)
	}
}

func TestIncompatibleSchemaIsRefusedQuotingTheRegistry(t *testing.T) {
	reg := srfake.New(srfake.WithGlobalCompat(sr.CompatBackward))
	defer reg.Close()
	if _, _, err := reg.RegisterSchema("out-orders", sr.Schema{Schema: `{"type":"object","properties":{"id":{"type":"integer"}}}`, Type: sr.TypeJSON}); err != nil {
		t.Fatal(err)
	}
	const why = "Subschema type changed at /properties/id"
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/compatibility/subjects/out-orders/") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"is_compatible":false,"messages":["` + why + `"]}`))
		return true
	})
	c := newClient(t, registry.Config{URL: reg.URL()})
	eng := engine(t)
	for _, tc := range []struct {
		name string
		run  func() ([]registry.Binding, error)
	}{
		{"check", func() ([]registry.Binding, error) {
			return c.Check(context.Background(), registry.Set{Topic: "out", Live: eng})
		}},
		{"prepare", func() ([]registry.Binding, error) {
			return c.Prepare(context.Background(), registry.Set{Topic: "out", Live: eng})
		}},
		{"prepare as a shadow candidate", func() ([]registry.Binding, error) {
			return c.Prepare(context.Background(), registry.Set{Topic: "out", Live: engine(t), Candidate: eng})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.run()
			var ps registry.Problems
			if !errors.As(err, &ps) || len(ps) == 0 || !registry.IsIncompatible(err) {
				t.Fatalf("err %v, want Problems", err)
			}
			line := ps[0].Error()
			for _, w := range []string{"source orders: output schema order.v1.json is not compatible with subject out-orders (version 1, BACKWARD)", "the registry answered: " + why} {
				if !strings.Contains(line, w) {
					t.Errorf("%q lacks %q", line, w)
				}
			}
		})
	}
	if vs, ok := reg.GetSchema("out-orders", 2); ok {
		t.Errorf("a refused schema was registered: %+v", vs)
	}
	for _, s := range eng.Sources() {
		if p := c.Prefix(s); p != nil {
			t.Errorf("source %s framed after a refusal: %x", s.Name(), p)
		}
	}
}

func TestRegistryGoneCostsNothingUntilANewSchemaMustBeRegistered(t *testing.T) {
	reg := srfake.New()
	c := newClient(t, registry.Config{URL: reg.URL()})
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Prepare(ctx, registry.Set{Topic: "out", Live: engine(t)}); err != nil {
		t.Fatal(err)
	}
	reg.Close()
	if _, err := c.Prepare(ctx, registry.Set{Topic: "out", Live: engine(t)}); err != nil {
		t.Errorf("cached schemas with the registry gone: %v", err)
	}
	if why := c.NotReady(); why != "" {
		t.Errorf("NotReady %q with every id cached", why)
	}
	// Another subject: the schema must be registered, and cannot be.
	_, err := c.Prepare(ctx, registry.Set{Topic: "other", Live: engine(t)})
	var ue *registry.UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("err %v, want *UnreachableError", err)
	}
	if why := c.NotReady(); !strings.Contains(why, "a new output schema waits for the schema registry") {
		t.Errorf("NotReady %q", why)
	}
	if err := c.Ping(ctx); err == nil || !strings.Contains(err.Error(), "cannot be reached") {
		t.Errorf("Ping with the registry gone: %v", err)
	}
}

func TestCredentialsAreSentAndNeverPrinted(t *testing.T) {
	const user, pass = "svc", "s3cr3t-pw"
	reg := srfake.New(srfake.WithAuth("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))))
	defer reg.Close()
	withCreds := strings.Replace(reg.URL(), "http://", "http://"+user+":"+pass+"@", 1)
	c := newClient(t, registry.Config{URL: withCreds})
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("basic auth from the URL: %v", err)
	}
	if strings.Contains(c.URL(), pass) {
		t.Errorf("URL() shows the password: %s", c.URL())
	}
	wrong := newClient(t, registry.Config{URL: reg.URL(), Username: user, Password: "not-" + pass})
	err := wrong.Ping(context.Background())
	if err == nil || strings.Contains(err.Error(), pass) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := registry.New(registry.Config{URL: "ftp://" + user + ":" + pass + "@host"}); err == nil || strings.Contains(err.Error(), pass) {
		t.Errorf("bad URL error shows the password or is nil: %v", err)
	}
}

func TestUnframe(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		want   string
		wantID int
	}{
		{"framed", registry.AppendHeader(nil, 258), `{"a":1}`, 258},
		{"plain JSON", nil, `{"a":1}`, 0},
		{"magic byte but too short", []byte{0, 0, 1}, "", 0},
		{"empty", []byte{}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append(tt.in, tt.want...)
			got, id := registry.Unframe(in)
			wantPayload := tt.want
			if tt.name == "magic byte but too short" {
				wantPayload = string(in)
			}
			if string(got) != wantPayload || id != tt.wantID {
				t.Errorf("got %q id %d, want %q id %d", got, id, wantPayload, tt.wantID)
			}
		})
	}
}

func BenchmarkPrefixAndUnframe(b *testing.B) {
	reg := srfake.New()
	defer reg.Close()
	c, err := registry.New(registry.Config{URL: reg.URL()})
	if err != nil {
		b.Fatal(err)
	}
	eng := engine(b)
	if _, err := c.Prepare(context.Background(), registry.Set{Topic: "out", Live: eng}); err != nil {
		b.Fatal(err)
	}
	src := eng.Sources()[0]
	framed := append(registry.AppendHeader(nil, 7), `{"order_id":"1"}`...)
	b.ReportAllocs()
	for b.Loop() {
		if c.Prefix(src) == nil {
			b.Fatal("no prefix")
		}
		if _, id := c.Unframe(framed); id != 7 {
			b.Fatal("bad id")
		}
	}
}

func TestUnframeLinesDropsEachLinesHeader(t *testing.T) {
	framed := func(id int, payload string) string { return string(registry.AppendHeader(nil, id)) + payload }
	tests := []struct {
		name, in, want string
	}{
		{"plain lines pass through", "{\"a\":1}\n{\"a\":2}\n", "{\"a\":1}\n{\"a\":2}\n"},
		{"framed lines lose their header", framed(7, `{"a":1}`) + "\n" + framed(8, `{"a":2}`), "{\"a\":1}\n{\"a\":2}"},
		{"an id whose bytes hold a newline", framed(0x0a0a, `{"a":1}`) + "\n" + framed(10, `{"b":2}`) + "\n", "{\"a\":1}\n{\"b\":2}\n"},
		{"framed and plain mixed, blank line kept", framed(1, `{"a":1}`) + "\n\n{\"c\":3}\n", "{\"a\":1}\n\n{\"c\":3}\n"},
		{"a zero byte too short to be a header stays", "\x00\x01\n", "\x00\x01\n"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{1, 3, 4096} { // small reads cross line ends and headers
				got, err := io.ReadAll(&smallReads{r: registry.UnframeLines(strings.NewReader(tt.in)), n: size})
				if err != nil || string(got) != tt.want {
					t.Errorf("reads of %d: got %q (%v), want %q", size, got, err, tt.want)
				}
			}
		})
	}
}

// smallReads reads at most n bytes at a time from r.
type smallReads struct {
	r io.Reader
	n int
}

func (s *smallReads) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }

func BenchmarkUnframeLines(b *testing.B) {
	var in []byte
	for i := range 1000 {
		in = append(append(registry.AppendHeader(in, i), `{"order_id":"ORD-1","amount":"12.50","status":"paid"}`...), '\n')
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	buf := make([]byte, 32<<10)
	for b.Loop() {
		r := registry.UnframeLines(bytes.NewReader(in))
		for {
			if _, err := r.Read(buf); err != nil {
				break
			}
		}
	}
}

package samples

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

// unrouted offers payloads to a store as records of topic no source
// accepts, with headers, and returns the profiles written at Close.
func unrouted(t *testing.T, dir string, cfg ShapeConfig, topic string, headers []mapper.Header, payloads ...string) Shapes {
	t.Helper()
	st, err := Open(Config{Dir: dir, Rand: seeded(1), Now: fixedNow, Shapes: cfg})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range payloads {
		res := mapper.UnknownSource(topic)
		st.Observe(&mapper.Origin{Topic: topic, Headers: headers}, nil, []byte(p), &res, 0)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	sh, ok, err := ReadShapes(dir)
	if err != nil || !ok {
		t.Fatalf("read shapes: ok %v, %v", ok, err)
	}
	return sh
}

func pathOf(g ShapeGroup, path string) (ShapePath, bool) {
	for _, p := range g.Paths {
		if p.Path == path {
			return p, true
		}
	}
	return ShapePath{}, false
}

func paths(g ShapeGroup) []string {
	var out []string
	for _, p := range g.Paths {
		out = append(out, p.Path)
	}
	return out
}

func TestUnroutedRecordsAreProfiledByStructureOnly(t *testing.T) {
	dir := t.TempDir()
	const marker = "zq7marker"
	hs := []mapper.Header{{Key: "X-GitHub-Event", Value: []byte("push")}, {Key: "X-Request-Id", Value: []byte(marker + "-header")}}
	sh := unrouted(t, dir, ShapeConfig{RoutingHeaders: []string{"x-github-event"}, MinKeyRecords: 1}, "github.webhooks", hs,
		`{"ref":"refs/heads/`+marker+`","size":3,"forced":false,"pusher":{"name":"`+marker+`","email":null},"commits":[{"id":"`+marker+`","n":1.5},{"id":"b"}]}`,
		`{"ref":"x","size":4,"forced":true,"pusher":{"name":"y"},"commits":[]}`,
		`not json `+marker)
	if len(sh.Groups) != 1 {
		t.Fatalf("groups %+v, want one", sh.Groups)
	}
	g := sh.Groups[0]
	if g.Topic != "github.webhooks" || len(g.Routing) != 1 || g.Routing[0].String() != "X-GitHub-Event=push" {
		t.Errorf("group %s %v, want github.webhooks X-GitHub-Event=push", g.Topic, g.Routing)
	}
	if g.Records != 3 || g.Objects != 2 || g.NotObjects != 1 {
		t.Errorf("records %d objects %d not objects %d, want 3 2 1", g.Records, g.Objects, g.NotObjects)
	}
	want := map[string]map[string]uint64{
		"ref": {"string": 2}, "size": {"integer": 2}, "forced": {"boolean": 2}, "pusher": {"object": 2},
		"pusher.name": {"string": 2}, "pusher.email": {"null": 1}, "commits": {"array": 2},
		"commits[]": {"object": 2}, "commits[].id": {"string": 2}, "commits[].n": {"number": 1},
	}
	if got := paths(g); len(got) != len(want) {
		t.Errorf("paths %v, want %d", got, len(want))
	}
	for path, types := range want {
		p, ok := pathOf(g, path)
		if !ok {
			t.Errorf("no path %s", path)
			continue
		}
		var n uint64
		for typ, c := range types {
			n += c
			if p.Types[typ] != c {
				t.Errorf("%s: types %v, want %v", path, p.Types, types)
			}
		}
		if p.Present != n {
			t.Errorf("%s: present %d, want %d", path, p.Present, n)
		}
	}
	if len(g.Headers) != 2 || g.Headers[0].Key != "X-GitHub-Event" || g.Headers[0].Records != 3 {
		t.Errorf("headers %+v, want both names counted 3 times", g.Headers)
	}
	b, err := os.ReadFile(filepath.Join(dir, ShapesFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), marker) {
		t.Errorf("%s keeps a payload or header value:\n%s", ShapesFile, b)
	}
}

func TestUnroutedProfilesHoldTheirBounds(t *testing.T) {
	deep := `{"a":{"b":{"c":{"d":1}}}}`
	cases := []struct {
		name    string
		cfg     ShapeConfig
		topics  []string
		headers []mapper.Header
		payload string
		more    []string // payloads after payload
		check   func(t *testing.T, sh Shapes)
	}{
		{
			name: "a path in fewer than MinKeyRecords records is not written", cfg: ShapeConfig{MinKeyRecords: 2},
			payload: `{"id":1,"k1":{"x":1}}`, more: []string{`{"id":2,"k2":{"x":1}}`, `{"id":3,"k1":{"x":2},"n":[1,2,3]}`},
			check: func(t *testing.T, sh Shapes) {
				g := sh.Groups[0]
				if got := strings.Join(paths(g), " "); got != "id k1 k1.x" {
					t.Errorf("paths %q, want \"id k1 k1.x\"", got)
				}
				if p, _ := pathOf(g, "id"); p.Records != 3 || p.Present != 3 {
					t.Errorf("id in %d records, present %d, want 3 and 3", p.Records, p.Present)
				}
			},
		},
		{
			name: "groups past MaxGroups are counted, not profiled", cfg: ShapeConfig{MaxGroups: 2},
			topics: []string{"t1", "t2", "t3", "t3"}, payload: `{"a":1}`,
			check: func(t *testing.T, sh Shapes) {
				if len(sh.Groups) != 2 || sh.GroupsDropped != 2 {
					t.Errorf("groups %d dropped %d, want 2 and 2", len(sh.Groups), sh.GroupsDropped)
				}
			},
		},
		{
			name: "paths past MaxPaths are counted, not kept", cfg: ShapeConfig{MaxPaths: 3},
			payload: `{"a":1,"b":2,"c":3,"d":4,"e":{"f":5}}`,
			check: func(t *testing.T, sh Shapes) {
				g := sh.Groups[0]
				if len(g.Paths) != 3 || g.PathsDropped != 2 {
					t.Errorf("paths %v dropped %d, want 3 and 2", paths(g), g.PathsDropped)
				}
			},
		},
		{
			name: "a long key or one not shaped like a name is written *", cfg: ShapeConfig{MaxKeyBytes: 8},
			payload: `{"short":1,"muchtoolongkey":2,"ana@example.org":3,"12345":4,"a.b":5}`,
			check: func(t *testing.T, sh Shapes) {
				got := strings.Join(paths(sh.Groups[0]), " ")
				if got != "* short" {
					t.Errorf("paths %q, want \"* short\"", got)
				}
				if p, _ := pathOf(sh.Groups[0], OtherKey); p.Present != 4 {
					t.Errorf("* present %d, want 4", p.Present)
				}
			},
		},
		{
			name: "contents past MaxDepth are not walked", cfg: ShapeConfig{MaxDepth: 2},
			payload: deep,
			check: func(t *testing.T, sh Shapes) {
				g := sh.Groups[0]
				if got := strings.Join(paths(g), " "); got != "a a.b" || g.TooDeep != 1 {
					t.Errorf("paths %q too deep %d, want \"a a.b\" and 1", got, g.TooDeep)
				}
			},
		},
		{
			name: "elements past MaxArrayItems are skipped", cfg: ShapeConfig{MaxArrayItems: 2},
			payload: `{"xs":[1,2,3,4,5]}`,
			check: func(t *testing.T, sh Shapes) {
				g := sh.Groups[0]
				if p, _ := pathOf(g, "xs[]"); p.Present != 2 || g.ItemsSkipped != 3 {
					t.Errorf("xs[] present %d skipped %d, want 2 and 3", p.Present, g.ItemsSkipped)
				}
			},
		},
		{
			name: "header names past MaxHeaders are counted, not kept", cfg: ShapeConfig{MaxHeaders: 2},
			headers: []mapper.Header{{Key: "A", Value: []byte("1")}, {Key: "B", Value: []byte("2")}, {Key: "C", Value: []byte("3")}},
			payload: `{}`,
			check: func(t *testing.T, sh Shapes) {
				g := sh.Groups[0]
				if len(g.Headers) != 2 || g.HeadersDropped != 1 {
					t.Errorf("headers %+v dropped %d, want 2 and 1", g.Headers, g.HeadersDropped)
				}
			},
		},
		{
			name: "a routing value past MaxValueBytes is withheld", cfg: ShapeConfig{RoutingHeaders: []string{"Kind"}, MaxValueBytes: 4},
			headers: []mapper.Header{{Key: "kind", Value: []byte("much-too-long")}},
			payload: `{}`,
			check: func(t *testing.T, sh Shapes) {
				r := sh.Groups[0].Routing
				if len(r) != 1 || !r[0].Withheld || r[0].Value != "" {
					t.Errorf("routing %+v, want the value withheld", r)
				}
			},
		},
		{
			name: "a payload past MaxPayloadBytes is not walked", cfg: ShapeConfig{MaxPayloadBytes: 10},
			payload: `{"a":"0123456789"}`,
			check: func(t *testing.T, sh Shapes) {
				g := sh.Groups[0]
				if g.NotObjects != 1 || len(g.Paths) != 0 {
					t.Errorf("not objects %d paths %v, want 1 and none", g.NotObjects, paths(g))
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.cfg.MinKeyRecords == 0 {
				c.cfg.MinKeyRecords = 1
			}
			st, err := Open(Config{Dir: dir, Rand: seeded(1), Now: fixedNow, Shapes: c.cfg})
			if err != nil {
				t.Fatal(err)
			}
			topics := c.topics
			if topics == nil {
				topics = []string{"t"}
			}
			for _, topic := range topics {
				res := mapper.UnknownSource(topic)
				st.Observe(&mapper.Origin{Topic: topic, Headers: c.headers}, nil, []byte(c.payload), &res, 0)
			}
			for _, p := range c.more {
				res := mapper.UnknownSource(topics[0])
				st.Observe(&mapper.Origin{Topic: topics[0], Headers: c.headers}, nil, []byte(p), &res, 0)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			sh, ok, err := ReadShapes(dir)
			if err != nil || !ok || len(sh.Groups) == 0 {
				t.Fatalf("read shapes: %+v ok %v, %v", sh, ok, err)
			}
			c.check(t, sh)
		})
	}
}

func TestUnroutedProfilesAddUpAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	cfg := ShapeConfig{RoutingHeaders: []string{"Kind"}, MinKeyRecords: 1}
	hs := []mapper.Header{{Key: "Kind", Value: []byte("invoice")}}
	unrouted(t, dir, cfg, "billing", hs, `{"id":"a"}`, `{"id":"b"}`)
	sh := unrouted(t, dir, cfg, "billing", hs, `{"id":"c","extra":true}`)
	if len(sh.Groups) != 1 {
		t.Fatalf("groups %+v", sh.Groups)
	}
	g := sh.Groups[0]
	id, _ := pathOf(g, "id")
	extra, _ := pathOf(g, "extra")
	if g.Records != 3 || id.Present != 3 || extra.Present != 1 {
		t.Errorf("records %d id %d extra %d, want 3 3 1", g.Records, id.Present, extra.Present)
	}
}

func TestRecordsOfASourceAreNotProfiled(t *testing.T) {
	src := testSource(t)
	dir := t.TempDir()
	st, err := Open(Config{Dir: dir, Rand: seeded(1), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		p := orderPayload(fmt.Sprintf("a%d@example.org", i), "Ana", "1", "OPEN")
		res := src.Map(p)
		st.Observe(&mapper.Origin{Topic: "shop.orders"}, src, p, &res, 0)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ReadShapes(dir); ok || err != nil {
		t.Errorf("a profile was written for records a source mapped (ok %v, %v)", ok, err)
	}
}

func TestUnroutedSamplesKeepOnlyTheRoutingHeaderValues(t *testing.T) {
	dir := t.TempDir()
	hs := []mapper.Header{{Key: "X-GitHub-Event", Value: []byte("push")}, {Key: "X-GitHub-Delivery", Value: []byte("zq7marker")}}
	st, err := Open(Config{Dir: dir, Rand: seeded(1), Now: fixedNow, Shapes: ShapeConfig{RoutingHeaders: []string{"x-github-event"}}})
	if err != nil {
		t.Fatal(err)
	}
	res := mapper.UnknownSource("github.webhooks")
	st.Observe(&mapper.Origin{Topic: "github.webhooks", Key: []byte("zq7marker-key"), Headers: hs}, nil, []byte(`{"a":"zq7marker"}`), &res, 0)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	ss, err := Read(dir, "", "unknown_source")
	if err != nil || len(ss) != 1 {
		t.Fatalf("samples %v, %v", ss, err)
	}
	got := ss[0]
	want := []Header{{Key: "X-GitHub-Event", Value: Bytes("push")}, {Key: "X-GitHub-Delivery", Withheld: true}}
	if len(got.Headers) != 2 || string(got.Headers[0].Value) != "push" || got.Headers[0].Withheld ||
		got.Headers[1].Key != want[1].Key || !got.Headers[1].Withheld || len(got.Headers[1].Value) != 0 {
		t.Errorf("headers %+v, want %+v", got.Headers, want)
	}
	if got.Key != nil {
		t.Errorf("key %q kept", got.Key)
	}
	b, err := os.ReadFile(filepath.Join(dir, CategoryPath("", "unknown_source")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "zq7marker") {
		t.Errorf("the sample keeps a value of the record:\n%s", b)
	}
}

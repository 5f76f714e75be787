package drift

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
)

// The shop source of the tests below: its input schema puts each kind of
// drift within reach, enums at redacted paths (customer.email,
// lines[].sku) and at an array's elements (tags[]); v2 is a contract edit
// that covers some of v1's drift (tier's enum dropped, flag may be a
// string, id no longer required, extra_1 declared).
const (
	shopRules = `source: shop
version: %d
topics: [shop.raw]
input_schema: shop.input.json
output_schema: shop.out.json
input_contract: { unread: degrade }
fields:
  id:    { from: id, required: true }
  state: { from: state }
redact: [customer.email, lines[].sku]
`
	shopInputV1 = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["id", "state", "customer"],
  "properties": {
    "id": {"type": "string"},
    "state": {"type": "string", "enum": ["open", "closed"]},
    "tier": {"type": "string", "enum": ["gold", "silver"]},
    "flag": {"type": "boolean"},
    "note": {"type": ["string", "null"]},
    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
    "customer": {
      "type": "object",
      "additionalProperties": false,
      "required": ["email"],
      "properties": {
        "email": {"type": "string", "enum": ["x@example.org"]},
        "level": {"type": "string", "enum": ["L1", "L2"]}
      }
    },
    "lines": {"type": "array", "items": {"type": "object", "required": ["sku"],
      "properties": {"sku": {"type": "string", "enum": ["AB-1"]}, "qty": {"type": "integer"}}}}
  }
}`
)

// loadShop writes the shop source's rules (version) and schemas in a
// temporary directory and loads them.
func loadShop(t *testing.T, version int) *mapper.Source {
	t.Helper()
	input := shopInputV1
	if version > 1 {
		for _, r := range [][2]string{
			{`"tier": {"type": "string", "enum": ["gold", "silver"]}`, `"tier": {"type": "string"}`},
			{`"flag": {"type": "boolean"}`, `"flag": {"type": ["boolean", "string"]}, "extra_1": {}`},
			{`"required": ["id", "state", "customer"]`, `"required": ["state", "customer"]`},
		} {
			if !strings.Contains(input, r[0]) {
				t.Fatalf("the v1 schema holds no %s", r[0])
			}
			input = strings.Replace(input, r[0], r[1], 1)
		}
	}
	dir := t.TempDir()
	for name, text := range map[string]string{
		"rules/shop.yaml":         fmt.Sprintf(shopRules, version),
		"schemas/shop.input.json": input,
		"schemas/shop.out.json":   `{"type": "object"}`,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := mapper.Load(filepath.Join(dir, "rules"), filepath.Join(dir, "schemas"), mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng.Source("shop")
}

// Redacted values of shopPayload carry these markers: they must never be
// recorded.
const (
	secretEmail = "@secret.example"
	secretSKU   = "SKU-secret-"
)

// shopPayload is a random shop payload: most fields drift now and then,
// with new enum values drawn from small sets (so that sketches of a few
// values fill up), and extras new top-level properties drawn from
// extra_0 … extra_<extras-1>.
func shopPayload(r *rand.Rand, extras int) []byte {
	pick := func(p float64) bool { return r.Float64() < p }
	one := func(vs ...any) any { return vs[r.IntN(len(vs))] }
	val := func(prefix string, n int) string { return fmt.Sprintf("%s%d", prefix, r.IntN(n)) }
	doc := map[string]any{"id": "o-1", "state": "open"}
	cust := map[string]any{"email": "x@example.org"}
	doc["customer"] = cust
	switch r.IntN(10) {
	case 0:
		delete(doc, "id")
	case 1:
		doc["id"] = 7
	}
	switch r.IntN(8) {
	case 0, 1:
		doc["state"] = val("st-", 30)
	case 2:
		delete(doc, "state")
	case 3:
		doc["state"] = nil
	case 4:
		doc["state"] = "closed"
	}
	if pick(0.3) {
		doc["tier"] = one("gold", val("tier-", 20), nil, 3)
	}
	if pick(0.2) {
		doc["flag"] = one(true, "yes", nil)
	}
	if pick(0.2) {
		doc["note"] = one("n", nil, 5, false)
	}
	if pick(0.3) {
		tags := make([]any, r.IntN(12))
		for i := range tags {
			tags[i] = one("a", "b", val("tag-", 40), val("tag-", 40))
		}
		doc["tags"] = tags
	}
	switch r.IntN(6) {
	case 0:
		cust["email"] = val("u", 50) + secretEmail
	case 1:
		delete(cust, "email")
	}
	if pick(0.2) {
		cust["level"] = val("L", 9)
	}
	if pick(0.1) {
		cust[val("ck_", 5)] = 1
	}
	if pick(0.2) {
		lines := make([]any, 1+r.IntN(3))
		for i := range lines {
			lines[i] = map[string]any{"sku": one("AB-1", val(secretSKU, 30)), "qty": one(1, "2")}
		}
		doc["lines"] = lines
	}
	if extras > 0 {
		for n := r.IntN(3); n > 0; n-- {
			doc[val("extra_", extras)] = 1
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// githubRecords are GitHub payloads (current, older release, drifted) of
// the repository's github-work-items source.
func githubRecords(t *testing.T) (*mapper.Source, [][]byte) {
	t.Helper()
	eng, err := mapper.Load(filepath.Join("..", "..", "rules"), filepath.Join("..", "..", "schemas"), mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "github-work-items", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	out := [][]byte{
		read("issues.opened.payload.json"),
		read("pull_request.opened.payload.json"),
		read("issues.opened.older-release.payload.json"),
		read("pull_request.opened.older-release.payload.json"),
	}
	for _, edit := range []func(map[string]any){
		func(is map[string]any) { is["state"] = "archived" },
		func(is map[string]any) { is["state"] = "deferred" },
		func(is map[string]any) { is["locked"] = "no" },
		func(is map[string]any) { is["sub_issues_summary"] = map[string]any{"total": 0} },
	} {
		var doc map[string]any
		if err := json.Unmarshal(read("issues.opened.payload.json"), &doc); err != nil {
			t.Fatal(err)
		}
		edit(doc["issue"].(map[string]any))
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return eng.Source("github-work-items"), out
}

// outlet keeps what an Observer hands on: the last report of each source
// given to its Sink, its announcements and its gauges.
type outlet struct {
	mu        sync.Mutex
	sunk      map[string]Report
	announced []string
	gauges    map[string]int
}

func newOutlet() *outlet { return &outlet{sunk: map[string]Report{}, gauges: map[string]int{}} }

func (o *outlet) Drift(r Report) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sunk[r.Source] = untimed(r)
}

func (o *outlet) DriftFields(source, kind string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gauges[source+" "+kind] = n
}

func (o *outlet) NewDrift(source string, version int, e Entry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e.FirstSeen, e.LastSeen = time.Time{}, time.Time{}
	o.announced = append(o.announced, fmt.Sprintf("%s v%d %+v", source, version, e))
}

// untimed is r without its times, which a Tally sets per Flush.
func untimed(r Report) Report {
	r.UpdatedAt = time.Time{}
	r.Entries = append([]Entry(nil), r.Entries...)
	for i := range r.Entries {
		r.Entries[i].FirstSeen, r.Entries[i].LastSeen = time.Time{}, time.Time{}
	}
	return r
}

func untimedAll(rs []Report) []Report {
	out := make([]Report, len(rs))
	for i, r := range rs {
		out[i] = untimed(r)
	}
	return out
}

// TestTalliesReportAsObserveDoes feeds the same records (of two sources,
// of none, and across a rules reload of one) to several Tallies, flushed
// at random points, and one by one to Observer.Observe at the points the
// Tallies flush (a Tally adds its records at Flush, as if each were
// observed then, in its order): the reports are the same at every Flush
// and in the end, apart from their times, and so are the files, what the
// Sink, the Gauges and the Announcer are told. No value at a redacted path
// is recorded.
func TestTalliesReportAsObserveDoes(t *testing.T) {
	shop1, shop2 := loadShop(t, 1), loadShop(t, 2)
	gh, ghPayloads := githubRecords(t)
	tests := []struct {
		name              string
		maxPaths, maxVals int
		tallies, records  int
		flushEvery        int // a random Tally flushes once in this many records, on average
		githubShare       float64
		extras            int
		wantFieldBound    bool // a Tally meets maxFieldCache
		wantValueBound    bool // a Tally meets maxTallyValues
	}{
		{name: "default bounds, three tallies, two sources", tallies: 3, records: 2400, flushEvery: 40, githubShare: 0.3, extras: 20},
		{name: "few paths and values: untracked drift, evicted values", maxPaths: 12, maxVals: 3, tallies: 4, records: 2400, flushEvery: 25, githubShare: 0.2, extras: 40},
		{name: "one tally seldom flushed meets its own bounds", maxPaths: 40, maxVals: 4, tallies: 1, records: 3000, flushEvery: 2000, extras: 2500,
			wantFieldBound: true, wantValueBound: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(2026, uint64(i)))
			type rec struct {
				src     *mapper.Source
				payload []byte
				res     mapper.Result
			}
			recs := make([]rec, tc.records)
			for j := range recs {
				switch x := r.Float64(); {
				case x < tc.githubShare:
					p := ghPayloads[r.IntN(len(ghPayloads))]
					recs[j] = rec{gh, p, gh.Map(p)}
				case x < tc.githubShare+0.05: // no source claims it
					p := shopPayload(r, tc.extras)
					recs[j] = rec{nil, p, shop1.Map(p)}
				default: // a reload halfway
					src := shop1
					if j >= tc.records/2 {
						src = shop2
					}
					p := shopPayload(r, tc.extras)
					recs[j] = rec{src, p, src.Map(p)}
				}
			}
			open := func(o *outlet, dir string) *Observer {
				obs, err := Open(Config{Dir: dir, MaxPaths: tc.maxPaths, MaxValues: tc.maxVals, FlushInterval: time.Hour,
					Sink: o, Gauges: o, Announcer: o})
				if err != nil {
					t.Fatal(err)
				}
				return obs
			}
			refOut, batOut := newOutlet(), newOutlet()
			refDir, batDir := t.TempDir(), t.TempDir()
			ref, bat := open(refOut, refDir), open(batOut, batDir)

			tallies := make([]*Tally, tc.tallies)
			queues := make([][]rec, tc.tallies)
			for k := range tallies {
				tallies[k] = bat.NewTally()
			}
			flushes, fieldBound, valueBound := 0, 0, 0
			feed := func(k int) { // what tallies[k] adds at its Flush, one by one
				for _, x := range queues[k] {
					ref.Observe(nil, x.src, x.payload, &x.res, 0)
				}
				queues[k] = queues[k][:0]
			}
			check := func(when string) {
				t.Helper()
				if got, want := untimedAll(bat.Reports()), untimedAll(ref.Reports()); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: through tallies\n%+v\none by one\n%+v", when, got, want)
				}
			}
			for j := range recs {
				x := &recs[j]
				k := r.IntN(tc.tallies)
				tl := tallies[k]
				// A Tally flushes before records of other rules and
				// when it holds its bounds.
				if x.src != nil {
					switch {
					case x.src != tl.src:
						feed(k)
					case len(tl.fields) >= maxFieldCache:
						fieldBound++
						feed(k)
					case len(tl.values) >= maxTallyValues:
						valueBound++
						feed(k)
					}
				}
				tl.Observe(nil, x.src, x.payload, &x.res, 0)
				if x.src != nil {
					queues[k] = append(queues[k], *x)
				}
				if r.IntN(tc.flushEvery) == 0 {
					k := r.IntN(tc.tallies)
					tallies[k].Flush()
					feed(k)
					flushes++
					check(fmt.Sprintf("record %d, flush %d", j, flushes))
				}
			}
			for k, tl := range tallies {
				tl.Flush()
				feed(k)
			}
			check("the last flushes")
			if tc.wantFieldBound && fieldBound == 0 || tc.wantValueBound && valueBound == 0 {
				t.Errorf("bounds met: %d field, %d value; the case wants both", fieldBound, valueBound)
			}
			t.Logf("%d flushes, %d at the field bound, %d at the value bound", flushes, fieldBound, valueBound)

			for _, o := range []*Observer{ref, bat} {
				if err := o.Close(); err != nil {
					t.Fatal(err)
				}
			}
			want, err := ReadDir(refDir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadDir(batDir)
			if err != nil {
				t.Fatal(err)
			}
			if n := 1 + int(min(tc.githubShare*100, 1)); len(want) != n {
				t.Fatalf("%d report files, want %d", len(want), n)
			}
			if !reflect.DeepEqual(untimedAll(got), untimedAll(want)) {
				t.Errorf("files: through tallies\n%+v\none by one\n%+v", got, want)
			}
			sort.Strings(refOut.announced)
			sort.Strings(batOut.announced)
			for what, pair := range map[string][2]any{
				"sink":      {batOut.sunk, refOut.sunk},
				"announced": {batOut.announced, refOut.announced},
				"gauges":    {batOut.gauges, refOut.gauges},
			} {
				if !reflect.DeepEqual(pair[0], pair[1]) {
					t.Errorf("%s: through tallies\n%v\none by one\n%v", what, pair[0], pair[1])
				}
			}

			// The case drifts as meant: values recorded, none redacted.
			var values, evicted int
			var untracked uint64
			seen := map[Kind]bool{}
			for _, rep := range got {
				untracked += rep.Untracked
				for _, e := range rep.Entries {
					seen[e.Kind] = true
					values += len(e.Values)
					for _, v := range e.Values {
						if v.Error > 0 {
							evicted++
						}
					}
				}
			}
			if len(seen) != len(Kinds) || values == 0 || tc.maxPaths > 0 && (untracked == 0 || evicted == 0) {
				t.Errorf("%d kinds, %d values (%d after evictions), %d untracked: the case does not drift as meant", len(seen), values, evicted, untracked)
			}
			for _, d := range []string{refDir, batDir} {
				for _, rep := range got {
					b, err := os.ReadFile(filepath.Join(d, Path(rep.Source)))
					if err != nil {
						t.Fatal(err)
					}
					if bytes.Contains(b, []byte(secretEmail)) || bytes.Contains(b, []byte(secretSKU)) {
						t.Errorf("a redacted value was recorded in %s", b)
					}
				}
			}
		})
	}
}

package privacytest

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/samples"
)

// poisonByte overwrites a payload's memory once its record is done; the
// generated payloads never hold it.
const poisonByte = '~'

// observer is what the worker tells of each record.
type observer interface {
	Observe(*mapper.Origin, *mapper.Source, []byte, *mapper.Result, time.Duration)
}

// aliasKeeper keeps the payloads it is told of without copying them and
// writes them out at the end: what an observer that kept a slice of a
// payload would hold once the payload's memory is used again.
type aliasKeeper struct {
	dir  string
	kept [][]byte
}

func (a *aliasKeeper) Observe(_ *mapper.Origin, _ *mapper.Source, payload []byte, _ *mapper.Result, _ time.Duration) {
	a.kept = append(a.kept, payload)
}

func (a *aliasKeeper) Close() error {
	return os.WriteFile(filepath.Join(a.dir, "kept"), bytes.Join(a.kept, []byte("\n")), 0o644)
}

// poisonedRun reads generated payloads into one buffer used again from
// record to record, as the worker reads fetches into memory given back,
// maps each, tells the observers (samples, value profiles, drift, Sentry,
// a candidate's kept record, and extra) of it with its key and header
// values in the same buffer, then overwrites the buffer with poisonByte.
// It returns where, once the observers have written everything out, the
// poison shows: in their files, in the Sentry envelopes, and in the
// failures' fields and details as the worker's tallies keep them.
func poisonedRun(t *testing.T, n int, extra func(dir string) observer) []string {
	t.Helper()
	eng, err := mapper.Load(filepath.Join("testdata", "rules"), filepath.Join("testdata", "driftschemas"), mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("orders")
	dir := t.TempDir()
	sink := newSentrySink(t)
	al, err := alerts.New(alerts.Config{DSN: sink.dsn})
	if err != nil {
		t.Fatal(err)
	}
	store, err := samples.Open(samples.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	values, err := samples.OpenValues(samples.ValuesConfig{Dir: dir, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	dr, err := drift.Open(drift.Config{Dir: dir, FlushInterval: time.Hour, Announcer: noticeOf{al}})
	if err != nil {
		t.Fatal(err)
	}
	obs := []observer{store, values, dr, al}
	var closers []interface{ Close() error }
	if extra != nil {
		o := extra(dir)
		obs = append(obs, o)
		closers = append(closers, o.(interface{ Close() error }))
	}
	closers = append(closers, store, values, dr, al)
	r := rand.New(rand.NewPCG(23, 2026))
	buf := make([]byte, 0, 64<<10)
	failures := 0
	// What the worker's tallies and metrics keep of a result: its
	// failures' fields (as map keys and tags) and details.
	var strs []string
	for range n {
		payload := (&payloadGen{r: r, marker: marker(r)}).payload()
		if bytes.IndexByte(payload, poisonByte) >= 0 {
			t.Fatalf("a generated payload holds the poison byte: %s", payload)
		}
		buf = append(buf[:0], payload...)
		body := buf[:len(payload)]
		buf = append(buf, "key-1trace-7"...)
		key, trace := buf[len(payload):len(payload)+5], buf[len(payload)+5:]
		origin := &mapper.Origin{Topic: "orders.raw", Partition: 1, Offset: 7, Key: key, Time: time.Unix(1700000000, 0),
			Headers: []mapper.Header{{Key: "trace", Value: trace}}}
		res := src.Map(body)
		failures += len(res.Failures)
		for _, f := range res.Failures {
			strs = append(strs, f.Field, f.Detail)
		}
		for _, o := range obs {
			o.Observe(origin, src, body, &res, time.Millisecond)
		}
		store.Keep("candidate:newly_failing", origin, src, body, &res, 2, &res)
		for i := range buf {
			buf[i] = poisonByte
		}
	}
	if failures == 0 {
		t.Fatal("no record failed: the observers kept nothing")
	}
	for _, c := range closers {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var found []string
	for _, s := range strs {
		if bytes.IndexByte([]byte(s), poisonByte) >= 0 {
			found = append(found, "a failure's field or detail: "+s)
			break
		}
	}
	files := readFiles(t, dir)
	for p, b := range files {
		if bytes.IndexByte(b, poisonByte) >= 0 {
			rel, _ := filepath.Rel(dir, p)
			found = append(found, rel)
		}
	}
	if len(files) < 3 {
		t.Fatalf("the observers wrote %d files: want samples, value profiles and a drift report", len(files))
	}
	envelopes := sink.take()
	if len(envelopes) == 0 {
		t.Fatal("no Sentry envelope was sent")
	}
	for _, env := range envelopes {
		if bytes.IndexByte(env, poisonByte) >= 0 {
			found = append(found, "a Sentry envelope")
		}
	}
	return found
}

// TestObserversKeepNoSliceOfAPayload holds what lets the worker read a
// fetch into the memory of an earlier one: no observer keeps a slice of a
// payload, a key or a header value (or a string sharing their memory)
// past the record. Each payload's memory is overwritten once its observers
// are told of it; nothing they write out afterwards holds the poison. An
// observer that does keep slices is caught by the same check.
func TestObserversKeepNoSliceOfAPayload(t *testing.T) {
	if found := poisonedRun(t, 600, nil); len(found) > 0 {
		t.Errorf("a payload's memory, overwritten after its record, shows in %v", found)
	}
	t.Run("an observer keeping slices is caught", func(t *testing.T) {
		found := poisonedRun(t, 40, func(dir string) observer { return &aliasKeeper{dir: dir} })
		if len(found) != 1 || found[0] != "kept" {
			t.Errorf("the poison shows in %v, want only the slices kept on purpose (kept)", found)
		}
	})
}

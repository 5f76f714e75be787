package samples

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/profile"
)

func TestValuesKeepsFailingValuesWithCounts(t *testing.T) {
	src := testSource(t)
	dir := t.TempDir()
	v, err := OpenValues(ValuesConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	feed := func(v *Values, state string, n int) { feedState(v, src, state, n) }
	feed(v, "on-hold", 5)
	feed(v, "PAID_OUT", 2)
	feed(v, "OPEN", 7) // clean: nothing to profile
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	p, ok, err := ReadValues(dir, "shop-orders", "unknown_enum:state")
	if err != nil || !ok {
		t.Fatalf("ReadValues: ok=%v err=%v", ok, err)
	}
	want := []profile.Entry{{Value: `"on-hold"`, Count: 5}, {Value: `"PAID_OUT"`, Count: 2}}
	if len(p.Values) != 2 || p.Values[0] != want[0] || p.Values[1] != want[1] || p.Total != 7 {
		t.Fatalf("profile %+v, want values %v total 7", p, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "shop-orders", "unknown_enum", "state.values.json")); err != nil {
		t.Fatalf("profile not beside the samples: %v", err)
	}

	t.Run("a reopened profiler goes on counting", func(t *testing.T) {
		v, err := OpenValues(ValuesConfig{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		feed(v, "on-hold", 1)
		if err := v.Close(); err != nil {
			t.Fatal(err)
		}
		p, _, _ := ReadValues(dir, "shop-orders", "unknown_enum:state")
		if p.Values[0].Count != 6 || p.Total != 8 {
			t.Fatalf("after reopening: %+v", p)
		}
	})
}

func TestValuesNeverHoldRedactedValues(t *testing.T) {
	src := testSource(t)
	dir := t.TempDir()
	v, err := OpenValues(ValuesConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	// Drifted shapes: the redacted email as a number, an object, an array;
	// the phones list of the wrong type.
	for _, p := range []string{
		`{"order_id":"A1","state":"OPEN","customer":{"email":987654321,"phones":"+351 999"}}`,
		`{"order_id":"A1","state":"OPEN","customer":{"email":{"v":"secret@example.com"}}}`,
		`{"order_id":"A1","state":"OPEN","customer":{"email":["secret@example.com"]}}`,
		`{"order_id":"A1","state":"OPEN","customer":"secret@example.com"}`,
	} {
		var m mapper.Mapper
		var res mapper.Result
		m.Map(src, []byte(p), &res)
		if len(res.Failures) == 0 {
			t.Fatalf("%s maps cleanly; the test needs failures", p)
		}
		v.Observe(nil, src, []byte(p), &res, 0)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		for _, secret := range []string{"987654321", "secret@example.com", "+351 999"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %q:\n%s", path, secret, b)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestValuesObserveDoesNotAllocate(t *testing.T) {
	src := testSource(t)
	v, err := OpenValues(ValuesConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	p := orderPayload("a@b.c", "A", "1", "on-hold")
	res := src.Map(p)
	v.Observe(nil, src, p, &res, 0) // creates the category
	if n := testing.AllocsPerRun(200, func() { v.Observe(nil, src, p, &res, 0) }); n != 0 {
		t.Fatalf("Observe allocates %.1f times per record", n)
	}
}

func BenchmarkValuesObserve(b *testing.B) {
	src := testSource(b)
	v, err := OpenValues(ValuesConfig{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	p := orderPayload("a@b.c", "A", "1", "on-hold")
	res := src.Map(p)
	b.ReportAllocs()
	for b.Loop() {
		v.Observe(nil, src, p, &res, 0)
	}
}

func TestValuesStartDespiteABrokenProfileFile(t *testing.T) {
	src := testSource(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, ValuesPath("shop-orders", "unknown_enum:state"))
	if err := os.MkdirAll(filepath.Dir(broken), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte(`{"source": "shop-orders", "values": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	var reported []error
	v, err := OpenValues(ValuesConfig{Dir: dir, OnError: func(err error) { reported = append(reported, err) }})
	if err != nil {
		t.Fatalf("a broken profile file stops the profiler: %v", err)
	}
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "state.values.json") {
		t.Errorf("reported %v, want the broken file named", reported)
	}
	p := orderPayload("a@b.c", "A", "1", "on-hold")
	res := src.Map(p)
	v.Observe(nil, src, p, &res, 0)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	got, ok, err := ReadValues(dir, "shop-orders", "unknown_enum:state")
	if err != nil || !ok || got.Total != 1 {
		t.Fatalf("the profile was not written afresh: %+v %v %v", got, ok, err)
	}
}

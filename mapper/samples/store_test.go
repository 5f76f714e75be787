package samples

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
)

func seeded(n uint64) rand.Source {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], n)
	return rand.NewChaCha8(seed)
}

func fixedNow() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

func rejected(fs ...mapper.Failure) *mapper.Result {
	return &mapper.Result{Outcome: mapper.OutcomeRejected, Output: []byte("null"), Failures: fs}
}

func TestReservoirKeepsFirstAndSamplesTheRestUniformly(t *testing.T) {
	const (
		runs = 20000
		n    = 50
		k    = 5
	)
	counts := make([]int, n)
	for run := 0; run < runs; run++ {
		s := &Store{rnd: rand.New(seeded(uint64(run)))}
		slots := make([]int, k)
		for i := range slots {
			slots[i] = -1
		}
		for seen := uint64(1); seen <= n; seen++ {
			if j := s.slot(seen, k); j >= 0 {
				slots[j] = int(seen - 1)
			}
		}
		if slots[0] != 0 {
			t.Fatalf("run %d: slot 0 holds record %d, want the first record", run, slots[0])
		}
		for _, r := range slots {
			if r < 0 {
				t.Fatalf("run %d: a slot stayed empty after %d records: %v", run, n, slots)
			}
			counts[r]++
		}
	}
	if counts[0] != runs {
		t.Errorf("first record kept %d times in %d runs, want every time", counts[0], runs)
	}
	// Each of records 2..n is kept with probability (k-1)/(n-1).
	p := float64(k-1) / float64(n-1)
	want := p * runs
	sd := math.Sqrt(runs * p * (1 - p))
	chi2 := 0.0
	for i := 1; i < n; i++ {
		if d := math.Abs(float64(counts[i]) - want); d > 5*sd {
			t.Errorf("record %d kept %d times, want %.0f ± %.0f (5 sd)", i+1, counts[i], want, 5*sd)
		}
		d := float64(counts[i]) - want
		chi2 += d * d / want
	}
	// 48 degrees of freedom: the 99.9th percentile is about 84.
	if chi2 > 84 {
		t.Errorf("chi-square %.1f over %d records: kept records are not uniform", chi2, n-1)
	}
}

func TestReservoirOfOneKeepsOnlyTheFirst(t *testing.T) {
	s := &Store{rnd: rand.New(seeded(1))}
	for seen := uint64(1); seen <= 1000; seen++ {
		j := s.slot(seen, 1)
		if seen == 1 && j != 0 || seen > 1 && j != -1 {
			t.Fatalf("record %d got slot %d", seen, j)
		}
	}
}

func openTest(t *testing.T, cfg Config) *Store {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.Rand == nil {
		cfg.Rand = seeded(7)
	}
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreKeepsKPerCategoryWithTheFirstRecordFirst(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, Config{Dir: dir, PerCategory: 3})
	for i := 0; i < 100; i++ {
		origin := &mapper.Origin{Topic: "t", Offset: int64(i), Key: []byte(fmt.Sprint("k", i)), Time: fixedNow().Add(time.Duration(i) * time.Second)}
		s.Observe(origin, nil, []byte(`{}`), rejected(mapper.Failure{Reason: mapper.ReasonUnknownSource, Detail: "no rule set"}), 0)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir, "", "unknown_source")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("kept %d samples, want 3", len(got))
	}
	if got[0].Offset != 0 || got[0].Key != nil {
		t.Errorf("first sample is offset %d key %q, want the first record, its key not kept", got[0].Offset, got[0].Key)
	}
	if got[0].PayloadOmitted == "" || got[0].Payload != nil {
		t.Errorf("unclaimed record's payload kept: %+v", got[0])
	}
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Seen != 100 || list[0].Kept != 3 || list[0].Category != "unknown_source" {
		t.Fatalf("List = %+v, want one category seen 100 kept 3", list)
	}
	if !list[0].FirstSeen.Equal(fixedNow()) || !list[0].LastSeen.Equal(fixedNow().Add(99*time.Second)) {
		t.Errorf("first/last seen = %v/%v", list[0].FirstSeen, list[0].LastSeen)
	}
	st := s.Stats()
	if st.Records != 100 || st.Dropped != 0 || st.Kept < 3 {
		t.Errorf("stats = %+v", st)
	}
}

func TestStoreFilesAreOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "samples")
	s := openTest(t, Config{Dir: dir})
	s.Observe(&mapper.Origin{Topic: "x"}, nil, []byte(`{}`), rejected(mapper.Failure{Reason: mapper.ReasonUnknownSource}), 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got&^want != 0 {
			t.Errorf("%s has mode %v, want at most %v", p, got, want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 { // dir, index, source dir, reason dir, file
		t.Errorf("only %d entries written", n)
	}
}

func TestStoreReopensWhereItStopped(t *testing.T) {
	dir := t.TempDir()
	fail := rejected(mapper.Failure{Reason: mapper.ReasonUnknownSource})
	s := openTest(t, Config{Dir: dir, PerCategory: 2})
	s.Observe(&mapper.Origin{Offset: 1}, nil, nil, fail, 0)
	s.Observe(&mapper.Origin{Offset: 2}, nil, nil, fail, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Config{Dir: dir, PerCategory: 2, Rand: seeded(3)})
	for i := 3; i <= 50; i++ {
		s.Observe(&mapper.Origin{Offset: int64(i)}, nil, nil, fail, 0)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir, "", "unknown_source")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Offset != 1 {
		t.Fatalf("after reopen kept %d samples, first offset %d; want 2 with the first record first", len(got), got[0].Offset)
	}
	list, _ := List(dir)
	if len(list) != 1 || list[0].Seen != 50 {
		t.Fatalf("seen after reopen = %+v, want 50", list)
	}
}

func TestStoreStopsGrowingAtTheTotalCap(t *testing.T) {
	dir := t.TempDir()
	var errs []error
	s := openTest(t, Config{Dir: dir, PerCategory: 50, MaxBytes: 2000, OnError: func(err error) { errs = append(errs, err) }})
	for i := 0; i < 200; i++ {
		f := mapper.Failure{Reason: mapper.ReasonUnexpectedField, Field: fmt.Sprint("f", i%4), Detail: strings.Repeat("d", 50)}
		s.Observe(&mapper.Origin{Offset: int64(i)}, nil, nil, rejected(f), 0)
	}
	if err := s.Close(); !errors.Is(err, ErrFull) {
		t.Fatalf("Close = %v, want ErrFull", err)
	}
	var total int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if strings.HasSuffix(p, ".jsonl") {
			fi, _ := d.Info()
			total += fi.Size()
		}
		return nil
	})
	if total > 2000 || total == 0 {
		t.Errorf("category files hold %d bytes, want 1..2000", total)
	}
	if s.Stats().Full == 0 || len(errs) == 0 {
		t.Errorf("no write reported at the cap: stats %+v errors %v", s.Stats(), errs)
	}
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.Seen != 50 {
			t.Errorf("counts stopped at the cap: %+v", c)
		}
		if c.Kept == 0 {
			continue
		}
		ss, err := Read(dir, c.Source, c.Category)
		if err != nil {
			t.Fatal(err)
		}
		if ss[0].Offset >= 4 {
			t.Errorf("%s: first sample at the cap is offset %d, want the category's first record", c.Category, ss[0].Offset)
		}
	}
}

func TestStoreCapsCategoriesPerSource(t *testing.T) {
	s := openTest(t, Config{MaxCategories: 3})
	for i := 0; i < 10; i++ {
		s.Observe(&mapper.Origin{}, nil, nil, rejected(mapper.Failure{Reason: mapper.ReasonUnexpectedField, Field: fmt.Sprint("f", i)}), 0)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	list, _ := List(s.cfg.Dir)
	if len(list) != 3 || s.Stats().Uncategorised != 7 {
		t.Fatalf("categories %d, uncategorised %d; want 3 and 7", len(list), s.Stats().Uncategorised)
	}
}

func TestObserveAfterCloseDoesNothing(t *testing.T) {
	s := openTest(t, Config{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Observe(&mapper.Origin{}, nil, nil, rejected(mapper.Failure{Reason: mapper.ReasonUnknownSource}), 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCategoryPathIsOneSafeElementPerName(t *testing.T) {
	tests := []struct {
		name, source, category, want string
	}{
		{"plain field", "orders", "unknown_enum:status", "orders/unknown_enum/status.jsonl"},
		{"array field keeps brackets", "orders", "missing_field:items[].sku", "orders/missing_field/items[].sku.jsonl"},
		{"no field", "orders", "malformed_payload", "orders/malformed_payload/_.jsonl"},
		{"clean", "orders", "clean", "orders/clean.jsonl"},
		{"unclaimed record", "", "unknown_source", "_/unknown_source/_.jsonl"},
		{"slashes and dots escaped", "a/b", "unexpected_field:../../etc", "a%2Fb/unexpected_field/%2E.%2F..%2Fetc.jsonl"},
		{"underscore field differs from none", "s", "missing_field:_", "s/missing_field/%5F.jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := filepath.ToSlash(CategoryPath(tt.source, tt.category)); got != tt.want {
				t.Errorf("CategoryPath(%q, %q) = %q, want %q", tt.source, tt.category, got, tt.want)
			}
		})
	}
}

func TestBytesRoundTrip(t *testing.T) {
	for _, b := range []Bytes{Bytes("plain"), Bytes{0xff, 0x00, 'a'}, Bytes("")} {
		j, err := b.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var got Bytes
		if err := got.UnmarshalJSON(j); err != nil {
			t.Fatal(err)
		}
		if string(got) != string(b) {
			t.Errorf("%q → %s → %q", b, j, got)
		}
	}
}

func TestListMissingDirectory(t *testing.T) {
	_, err := List(filepath.Join(t.TempDir(), "none"))
	if !errors.Is(err, ErrNotSamples) {
		t.Fatalf("List = %v, want ErrNotSamples", err)
	}
	if _, err := os.Stat(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("List created the directory")
	}
}

func TestOpenMovesAnUnreadableFileAside(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "orders", "unknown_enum", "status.jsonl")
	if err := os.MkdirAll(filepath.Dir(bad), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("{\"source\":\"orders\",\"category\":\"unknown_enum:status\"}\n{not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var reported []error
	s := openTest(t, Config{Dir: dir, OnError: func(err error) { reported = append(reported, err) }})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "status.jsonl:2") {
		t.Errorf("reported %v, want the file and line", reported)
	}
	if _, err := os.Stat(bad + ".unreadable"); err != nil {
		t.Errorf("the unreadable file was not kept aside: %v", err)
	}
}

func TestConcurrentObserveWhileReading(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, Config{Dir: dir, PerCategory: 5, FlushInterval: time.Millisecond})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				f := mapper.Failure{Reason: mapper.ReasonUnexpectedField, Field: fmt.Sprint("f", i%3)}
				s.Observe(&mapper.Origin{Offset: int64(i)}, nil, nil, rejected(f), 0)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		for i := 0; i < 50; i++ {
			if _, err := List(dir); err != nil {
				readErr <- err
				return
			}
		}
		readErr <- nil
	}()
	wg.Wait()
	if err := <-readErr; err != nil {
		t.Fatalf("List while writing: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var seen uint64
	for _, c := range list {
		seen += c.Seen
		if c.Kept != 5 {
			t.Errorf("%s kept %d, want 5", c.Category, c.Kept)
		}
	}
	if seen != 2000 || s.Stats().Records != 2000 {
		t.Errorf("seen %d records (stats %+v), want 2000", seen, s.Stats())
	}
}

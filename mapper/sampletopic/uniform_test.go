package sampletopic

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// lastSlots is a samples.Sink that keeps the last line put in each slot.
type lastSlots struct {
	mu    sync.Mutex
	slots map[int][]byte
}

func (l *lastSlots) Slot(_, _ string, slot int, line []byte) {
	l.mu.Lock()
	l.slots[slot] = line
	l.mu.Unlock()
}

func (l *lastSlots) Index(samples.Index) {}

// TestSamplesAcrossWorkersFavourRecentRecords measures how the topic's
// samples of one category are spread over the stream when W workers share
// it at equal rates. Each worker's reservoir is uniform over its own
// records (Algorithm R), and a slot's key in the topic ends with the value
// of the worker that replaced it last. A slot's last replacement in a
// worker falls at a uniform point of its stream, so the topic keeps, for
// each slot, the latest of W uniform points: a record at fraction t of the
// stream is kept with density W·t^(W-1) (three workers: 1/8 of the samples
// from the first half of the stream, against 1/2 for one worker). The test
// drives real sample stores with seeded random sources and checks the
// measured spread against that law, and that it is not uniform.
func TestSamplesAcrossWorkersFavourRecentRecords(t *testing.T) {
	const (
		trials  = 250
		workers = 3
		perW    = 100 // records per worker
		k       = 5
		bins    = 10
	)
	n := workers * perW
	var hist [bins]float64
	total := 0.0
	res := &mapper.Result{Outcome: mapper.OutcomeRejected, Output: []byte("null"),
		Failures: []mapper.Failure{{Reason: mapper.ReasonUnknownSource}}}
	for trial := range trials {
		stores := make([]*samples.Store, workers)
		sinks := make([]*lastSlots, workers)
		for w := range workers {
			var seed [32]byte
			binary.LittleEndian.PutUint64(seed[:], uint64(trial*workers+w))
			sinks[w] = &lastSlots{slots: map[int][]byte{}}
			st, err := samples.Open(samples.Config{
				Dir: t.TempDir(), PerCategory: k, Clean: -1, FlushInterval: time.Hour,
				Rand: rand.NewChaCha8(seed), Sink: sinks[w],
			})
			if err != nil {
				t.Fatal(err)
			}
			stores[w] = st
		}
		for i := range n { // records interleaved: equal rates
			stores[i%workers].Observe(&mapper.Origin{Topic: "t", Offset: int64(i)}, nil, []byte(`{}`), res, 0)
		}
		for _, st := range stores {
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
		}
		for slot := 1; slot < k; slot++ {
			last := int64(-1)
			for _, s := range sinks {
				var smp struct {
					Offset int64 `json:"offset"`
				}
				if err := json.Unmarshal(s.slots[slot], &smp); err != nil {
					t.Fatalf("trial %d slot %d: %v", trial, slot, err)
				}
				last = max(last, smp.Offset)
			}
			hist[min(bins-1, int(float64(last)/float64(n)*bins))]++
			total++
		}
	}
	chiRecent, chiUniform := 0.0, 0.0
	for b := range bins {
		lo, hi := float64(b)/bins, float64(b+1)/bins
		want := total * (math.Pow(hi, workers) - math.Pow(lo, workers))
		d := hist[b] - want
		chiRecent += d * d / want
		u := total / bins
		chiUniform += (hist[b] - u) * (hist[b] - u) / u
	}
	firstHalf := 0.0
	for b := range bins / 2 {
		firstHalf += hist[b]
	}
	t.Logf("%d samples: %.1f%% from the first half of the stream (law: %.1f%%); chi-square %.1f against W·t^(W-1), %.1f against uniform",
		int(total), 100*firstHalf/total, 100*math.Pow(0.5, workers), chiRecent, chiUniform)
	// 9 degrees of freedom: the 99.9th percentile is 27.9.
	if chiRecent > 27.9 {
		t.Errorf("chi-square %.1f: the samples do not follow W·t^(W-1) (histogram %v)", chiRecent, hist)
	}
	if chiUniform < 100 {
		t.Errorf("chi-square against uniform %.1f: the recency bias the documentation states is not there (histogram %v)", chiUniform, hist)
	}
}

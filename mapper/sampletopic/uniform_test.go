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

// slotLog is a samples.Sink that keeps, per slot, the offset of the last
// record the store put there, and of the last one forward sent on, with
// the group's count taken as the record's position in the whole stream
// (one category, offsets 0, 1, 2… across the workers).
type slotLog struct {
	mu        sync.Mutex
	rnd       *rand.Rand
	last      map[int]int64
	forwarded map[int]int64
}

func (l *slotLog) Slot(_, _ string, slot int, seen uint64, line []byte) {
	var smp struct {
		Offset int64 `json:"offset"`
	}
	if err := json.Unmarshal(line, &smp); err != nil {
		panic(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last[slot] = smp.Offset
	if forward(l.rnd, slot, seen, uint64(smp.Offset)+1) {
		l.forwarded[slot] = smp.Offset
	}
}

func (l *slotLog) Index(samples.Index) {}

func seededRand(n uint64) *rand.Rand {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], n)
	return rand.New(rand.NewChaCha8(seed))
}

// TestSamplesAcrossWorkersAreUniform measures how the topic's samples of
// one category spread over the stream when W workers share it at equal
// rates, driving real sample stores with seeded random sources. Each
// worker's reservoir is uniform over its own records (Algorithm R). Were
// every slot change written, a topic slot would end with the value of the
// worker that changed it last: a slot's last change falls at a uniform
// point of each worker's stream, so the topic would keep the latest of W
// uniform points, density W·t^(W-1) (three workers: 1/8 of the samples
// from the first half of the stream). The Writer forwards a record past
// the fill with probability (seen-1)/(N-1) instead (see forward), which is
// Algorithm R over the group's stream: uniform again.
func TestSamplesAcrossWorkersAreUniform(t *testing.T) {
	const (
		trials  = 250
		workers = 3
		perW    = 100 // records per worker
		k       = 5
		bins    = 10
	)
	n := workers * perW
	var every, fwd [bins]float64
	total := 0.0
	res := &mapper.Result{Outcome: mapper.OutcomeRejected, Output: []byte("null"),
		Failures: []mapper.Failure{{Reason: mapper.ReasonUnknownSource}}}
	for trial := range trials {
		stores := make([]*samples.Store, workers)
		logs := make([]*slotLog, workers)
		for w := range workers {
			logs[w] = &slotLog{rnd: seededRand(uint64(1e6 + trial*workers + w)), last: map[int]int64{}, forwarded: map[int]int64{}}
			st, err := samples.Open(samples.Config{
				Dir: t.TempDir(), PerCategory: k, Clean: -1, FlushInterval: time.Hour,
				Rand: rand.NewChaCha8([32]byte{byte(trial), byte(trial >> 8), byte(w)}), Sink: logs[w],
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
			lastEvery, lastFwd := int64(-1), int64(-1)
			for _, l := range logs { // the topic keeps the latest write
				lastEvery = max(lastEvery, l.last[slot])
				if o, ok := l.forwarded[slot]; ok {
					lastFwd = max(lastFwd, o)
				}
			}
			every[min(bins-1, int(float64(lastEvery)/float64(n)*bins))]++
			fwd[min(bins-1, int(float64(lastFwd)/float64(n)*bins))]++
			total++
		}
	}
	chi := func(h [bins]float64, want func(lo, hi float64) float64) float64 {
		c := 0.0
		for b := range bins {
			w := total * want(float64(b)/bins, float64(b+1)/bins)
			c += (h[b] - w) * (h[b] - w) / w
		}
		return c
	}
	uniform := func(lo, hi float64) float64 { return hi - lo }
	recent := func(lo, hi float64) float64 { return math.Pow(hi, workers) - math.Pow(lo, workers) }
	half := func(h [bins]float64) float64 { return 100 * (h[0] + h[1] + h[2] + h[3] + h[4]) / total }
	t.Logf("%d samples. Every change written: %.1f%% from the first half (W·t^(W-1): %.1f%%), chi-square %.1f against W·t^(W-1), %.1f against uniform. Forwarded: %.1f%% from the first half, chi-square %.1f against uniform.",
		int(total), half(every), 100*math.Pow(0.5, workers), chi(every, recent), chi(every, uniform), half(fwd), chi(fwd, uniform))
	// 9 degrees of freedom: the 99.9th percentile is 27.9.
	if c := chi(every, recent); c > 27.9 {
		t.Errorf("every change written: chi-square %.1f against W·t^(W-1) (histogram %v)", c, every)
	}
	if c := chi(every, uniform); c < 100 {
		t.Errorf("every change written: chi-square %.1f against uniform; want the recency bias (histogram %v)", c, every)
	}
	if c := chi(fwd, uniform); c > 27.9 {
		t.Errorf("forwarded: chi-square %.1f against uniform (histogram %v)", c, fwd)
	}
}

func TestOneWorkerForwardsEverySampleItKeeps(t *testing.T) {
	rnd := seededRand(1)
	for seen := uint64(2); seen < 1000; seen++ {
		if !forward(rnd, 3, seen, seen) {
			t.Fatalf("record %d of a lone worker not forwarded", seen)
		}
	}
}

package sampletopic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// Ledger decides which worker of a group announces a failure category to
// Sentry, once per category and rules version for the whole group, across
// restarts. It satisfies alerts.Ledger.
//
// The categories announced before the worker started come from the
// snapshot read at start, so a restarted or new worker asks the brokers
// nothing for them. For a category not announced yet, Announce writes a
// claim (an announced key naming this worker) to the key's partition, then
// reads that partition up to its claim: the claim with the lowest offset
// wins, so of workers that meet a new category at the same moment exactly
// one announces it. Claims that lose are harmless: compaction keeps one
// announced record per key, and any announced record means "announced".
// A Writer given the Ledger (WriterConfig.Ledger) hands it what it reads
// of the topic at every flush, so Announce reads only what came since.
type Ledger struct {
	cfg        Config
	worker     string
	client     *kafka.Client
	partitions int
	now        func() time.Time

	mu    sync.Mutex
	known map[announcedKey]bool
	from  map[int]int64 // claims before this offset of a partition are in known
}

// NewLedger returns the ledger of the topic as start (Read at start, not
// nil) found it; the topic's partitions are start's. worker names this
// worker in its claims. It does no I/O.
func NewLedger(cfg Config, worker string, start *Snapshot) (*Ledger, error) {
	if start == nil || worker == "" {
		return nil, errors.New("samples topic ledger: a start snapshot and a worker id are required")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(start.End) == 0 {
		return nil, fmt.Errorf("samples topic ledger: %s has no partitions", cfg.Topic)
	}
	l := &Ledger{cfg: cfg, worker: worker, client: cfg.client(), partitions: len(start.End), now: time.Now,
		known: map[announcedKey]bool{}, from: map[int]int64{}}
	for k := range start.announced {
		l.known[k] = true
	}
	for p, end := range start.End {
		l.from[p] = end
	}
	return l, nil
}

// Announce reports whether this worker is the one to announce the category
// (source, rules version, "reason" or "reason:field"): false when the group
// announced it already. It is safe for concurrent use; calls are
// serialised. An error means it could not tell.
func (l *Ledger) Announce(ctx context.Context, source string, rulesVersion int, category string) (bool, error) {
	ak := announcedKey{source, rulesVersion, category}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.known[ak] {
		return false, nil
	}
	key := Key{Kind: KindAnnounced, Source: source, RulesVersion: rulesVersion, Category: category}.Bytes()
	value, _ := json.Marshal(announcedValue{Worker: l.worker, At: l.now().UTC()})
	p := Partition(key, l.partitions)
	mine, err := produceAt(ctx, l.client, l.cfg.Topic, p, pendingRecord{string(key), value})
	if err != nil {
		return false, fmt.Errorf("announce %s %s v%d: %w", source, category, rulesVersion, err)
	}
	won := true
	err = readRange(ctx, l.client, l.cfg.Topic, p, l.from[p], mine+1, func(off int64, k, v []byte) error {
		pk, err := ParseKey(k)
		if err != nil || pk.Kind != KindAnnounced || v == nil {
			return nil
		}
		other := announcedKey{pk.Source, pk.RulesVersion, pk.Category}
		if other == ak && off < mine {
			won = false
		}
		l.known[other] = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("announce %s %s v%d: %w", source, category, rulesVersion, err)
	}
	l.from[p] = mine + 1
	l.known[ak] = true
	return won, nil
}

// follow takes in what a Writer read of partition p from offset from up to
// end: the announcements in it are known, and when the read covers where
// Announce would start, Announce starts at end from now on. So a
// long-running worker's Announce reads about one flush of records, not
// everything since it started.
func (l *Ledger) follow(p int, from, end int64, claims []announcedKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range claims {
		l.known[k] = true
	}
	if from <= l.from[p] && end > l.from[p] {
		l.from[p] = end
	}
}

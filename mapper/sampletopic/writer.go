package sampletopic

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/ratelog"
	"github.com/mapperhq/mapper/mapper/samples"
)

// Defaults of WriterConfig.
const (
	DefaultFlushInterval = time.Second
	DefaultCloseTimeout  = 10 * time.Second
	// produceChunkBytes bounds one produce request's records, well under
	// a broker's default max.message.bytes (1 MiB) for the batch.
	produceChunkBytes = 512 << 10
)

// WriterConfig configures a Writer. Config and Worker are required.
type WriterConfig struct {
	Config
	// Worker is this worker's id, the last element of its count keys
	// (samples.WorkerID gives one that stays with the samples directory).
	Worker string
	// Start is the topic as it was when the worker started (Read), or nil.
	// A category whose first record (slot 0) the group holds already keeps
	// it: this worker does not overwrite it.
	Start *Snapshot
	// FlushInterval is how often pending records are written. Zero means
	// DefaultFlushInterval.
	FlushInterval time.Duration
	// CloseTimeout bounds Close's last write. Zero means DefaultCloseTimeout.
	CloseTimeout time.Duration
	// Logger gets failed writes, at most once a minute. Nil discards them.
	Logger *slog.Logger
	// Ledger, when set, is handed the announcements the Writer reads from
	// the topic at every flush, so that its Announce reads only what came
	// since (see Ledger). Nil: none.
	Ledger *Ledger
	// Rand decides which samples go to the topic (see Writer). Nil means a
	// ChaCha8 source seeded from crypto/rand. Used under the Writer's lock.
	Rand rand.Source
}

// Writer feeds the samples topic from a sample store: it is the store's
// samples.Sink. Slot and Index only note the latest value of each key; a
// goroutine owned by the Writer writes what changed every FlushInterval
// (acks=all, each key to its partition). A failed write is kept and
// retried at the next flush unless a newer value replaced it, so the topic
// ends with each key's latest value. Close writes what is left.
type Writer struct {
	cfg        WriterConfig
	client     *kafka.Client
	partitions int
	log        *ratelog.Logger

	mu      sync.Mutex
	pending map[string][]byte // key → value
	// the counts last queued, to skip unchanged ones
	sentRecords map[recordsKey]recordsValue
	sentSeen    map[seenKey]seenValue
	closed      bool
	rnd         *rand.Rand
	// the other workers' counts of each category, as last read from the
	// topic, and where the read goes on in each partition (owned by run)
	others   map[[2]string]map[string]uint64
	tailFrom map[int]int64

	flushing chan struct{} // holds a token while a flush runs: one at a time

	wake chan struct{} // counts came: write now
	stop chan struct{}
	done chan struct{}
	err  error // the last flush's error, after done

	written, failed atomic.Uint64
	inFlight        atomic.Int64 // records taken by a flush and not yet written or put back
}

// NewWriter checks the topic (Check) and starts the writing goroutine.
func NewWriter(ctx context.Context, cfg WriterConfig) (*Writer, error) {
	if cfg.Worker == "" {
		return nil, errors.New("samples topic writer: no worker id")
	}
	n, err := Check(ctx, cfg.Config)
	if err != nil {
		return nil, err
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = DefaultCloseTimeout
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	src := cfg.Rand
	if src == nil {
		var seed [32]byte
		if _, err := crand.Read(seed[:]); err != nil {
			return nil, fmt.Errorf("samples topic writer: seed: %w", err)
		}
		src = rand.NewChaCha8(seed)
	}
	w := &Writer{
		cfg: cfg, client: cfg.client(), partitions: n, rnd: rand.New(src),
		others: map[[2]string]map[string]uint64{}, tailFrom: map[int]int64{},
		log:     &ratelog.Logger{Logger: logger, Every: time.Minute},
		pending: map[string][]byte{}, sentRecords: map[recordsKey]recordsValue{}, sentSeen: map[seenKey]seenValue{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), flushing: make(chan struct{}, 1),
	}
	if cfg.Start != nil {
		for k, v := range cfg.Start.seen {
			w.noteSeen(k, v.Seen)
		}
		for p, end := range cfg.Start.End {
			w.tailFrom[p] = end
		}
	}
	go w.run()
	return w, nil
}

// noteSeen records another worker's count of a category.
func (w *Writer) noteSeen(k seenKey, seen uint64) {
	if k.worker == w.cfg.Worker {
		return
	}
	c := [2]string{k.source, k.category}
	if w.others[c] == nil {
		w.others[c] = map[string]uint64{}
	}
	w.others[c][k.worker] = seen
}

// groupSeen is the group's count of a category: this worker's, seen, and
// the others' as last read from the topic.
func (w *Writer) groupSeen(source, category string, seen uint64) uint64 {
	for _, n := range w.others[[2]string{source, category}] {
		seen += n
	}
	return seen
}

// forward decides whether a record that the worker's own reservoir put in
// a slot goes to the topic's slot too. The worker's reservoir fills slots
// 1..K-1 with its records 2..K, then puts its record seen in a given slot
// with probability 1/(seen-1). The topic's slot should take the group's
// record N with probability 1/(N-1) (Algorithm R over the whole group), so
// a record past the fill is forwarded with probability (seen-1)/(N-1),
// where N is the group's count (group); a record of the fill always is.
// One worker alone forwards every record its reservoir keeps.
func forward(rnd *rand.Rand, slot int, seen, group uint64) bool {
	if slot == 0 || uint64(slot) == seen-1 || group <= seen {
		return true
	}
	return rnd.Uint64N(group-1) < seen-1
}

// Slot implements samples.Sink: line becomes the value of the slot's key
// when the record is forwarded (see forward), so that each slot of the
// topic is a uniform pick of the group's records, as far as the other
// workers' counts are known (they are read from the topic at every
// flush). A category's first record (slot 0) that the group held already
// when the worker started is kept.
func (w *Writer) Slot(source, category string, slot int, seen uint64, line []byte) {
	if slot == 0 && w.cfg.Start != nil && w.cfg.Start.hasSlot(source, category, 0) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || !forward(w.rnd, slot, seen, w.groupSeen(source, category, seen)) {
		return
	}
	w.pending[string(Key{Kind: KindSample, Source: source, Category: category, Slot: slot}.Bytes())] = line
}

// Index implements samples.Sink: this worker's counts of every source and
// category that changed since the last call become the values of its
// count keys, and the Writer writes at once (the store calls Index at the
// end of its flush, after the samples of that flush), so that a worker
// killed outright loses as few counts as can be.
func (w *Writer) Index(idx samples.Index) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	defer func() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}()
	for _, src := range idx.Sources {
		rv := recordsValue{RulesVersion: src.RulesVersion, Records: src.Records, Delivered: src.Delivered}
		if rk := (recordsKey{src.Source, w.cfg.Worker}); w.sentRecords[rk] != rv {
			w.sentRecords[rk] = rv
			v, _ := json.Marshal(rv)
			w.pending[string(Key{Kind: KindRecords, Source: src.Source, Worker: w.cfg.Worker}.Bytes())] = v
		}
		for _, c := range src.Categories {
			sv := seenValue{Seen: c.Seen, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen}
			if sk := (seenKey{src.Source, c.Category, w.cfg.Worker}); !w.sentSeen[sk].equal(sv) {
				w.sentSeen[sk] = sv
				v, _ := json.Marshal(sv)
				w.pending[string(Key{Kind: KindSeen, Source: src.Source, Category: c.Category, Worker: w.cfg.Worker}.Bytes())] = v
			}
		}
	}
}

// equal reports whether two counts are the same (times compared as
// instants).
func (a seenValue) equal(b seenValue) bool {
	return a.Seen == b.Seen && a.FirstSeen.Equal(b.FirstSeen) && a.LastSeen.Equal(b.LastSeen)
}

// Stats are what the Writer did so far.
type Stats struct {
	Written uint64 // records the brokers acknowledged
	Failed  uint64 // failed produce requests (their records were retried)
	Pending int    // records not written yet (waiting, or being written)
}

// Stats returns what the Writer did so far.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	p := len(w.pending)
	w.mu.Unlock()
	return Stats{Written: w.written.Load(), Failed: w.failed.Load(), Pending: p + int(w.inFlight.Load())}
}

func (w *Writer) run() {
	defer close(w.done)
	t := time.NewTicker(w.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-w.wake:
		case <-w.stop:
			w.closeFlush()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), w.cfg.CloseTimeout)
		if err := w.flush(ctx); err != nil {
			w.log.Warn("samples topic: write failed; retrying at the next flush", "topic", w.cfg.Topic, "error", err)
		}
		if err := w.tail(ctx); err != nil {
			w.log.Warn("samples topic: cannot read the other workers' counts; retrying at the next flush", "topic", w.cfg.Topic, "error", err)
		}
		cancel()
	}
}

// tail reads the topic's records written since the last read, notes the
// other workers' counts and hands the announcements to the Ledger.
func (w *Writer) tail(ctx context.Context) error {
	first, end, err := offsets(ctx, w.client, w.cfg.Topic)
	if err != nil {
		return err
	}
	for p, e := range end {
		from, ok := w.tailFrom[p]
		if !ok || from < first[p] {
			from = first[p]
		}
		var claims []announcedKey
		err := readRange(ctx, w.client, w.cfg.Topic, p, from, e, func(_ int64, k, v []byte) error {
			pk, err := ParseKey(k)
			if err == nil && pk.Kind == KindAnnounced && v != nil {
				claims = append(claims, announcedKey{pk.Source, pk.RulesVersion, pk.Category})
			}
			if err != nil || pk.Kind != KindSeen || pk.Worker == w.cfg.Worker || v == nil {
				return nil
			}
			var sv seenValue
			if json.Unmarshal(v, &sv) == nil {
				w.mu.Lock()
				w.noteSeen(seenKey{pk.Source, pk.Category, pk.Worker}, sv.Seen)
				w.mu.Unlock()
			}
			return nil
		})
		if err != nil {
			return err
		}
		w.tailFrom[p] = e
		if w.cfg.Ledger != nil {
			w.cfg.Ledger.follow(p, from, e, claims)
		}
	}
	return nil
}

// closeFlush writes what is left, retrying until CloseTimeout; the last
// error, if records are left, is Close's.
func (w *Writer) closeFlush() {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.CloseTimeout)
	defer cancel()
	w.err = w.flush(ctx)
	for w.err != nil && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
			w.err = w.flush(ctx)
		}
	}
}

type pendingRecord struct {
	key   string
	value []byte
}

// flush writes every pending record, partition by partition. Flushes are
// serialised (flushing), so a key's values reach its partition in the
// order they were queued; waiting for another flush ends with ctx.
func (w *Writer) flush(ctx context.Context) error {
	select {
	case w.flushing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.flushing }()
	w.mu.Lock()
	batch := w.pending
	w.pending = map[string][]byte{}
	w.inFlight.Store(int64(len(batch)))
	w.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	byPart := map[int][]pendingRecord{}
	for k, v := range batch {
		p := Partition([]byte(k), w.partitions)
		byPart[p] = append(byPart[p], pendingRecord{k, v})
	}
	var errs []error
	for p, recs := range byPart {
		sort.Slice(recs, func(i, j int) bool { return recs[i].key < recs[j].key })
		for len(recs) > 0 {
			n, size := 0, 0
			for n < len(recs) && (n == 0 || size+len(recs[n].key)+len(recs[n].value) <= produceChunkBytes) {
				size += len(recs[n].key) + len(recs[n].value)
				n++
			}
			chunk := recs[:n]
			recs = recs[n:]
			if err := w.produce(ctx, p, chunk); err != nil {
				w.failed.Add(1)
				errs = append(errs, err)
				w.requeue(chunk)
			} else {
				w.written.Add(uint64(len(chunk)))
			}
			w.inFlight.Add(-int64(len(chunk)))
		}
	}
	return errors.Join(errs...)
}

// requeue puts back records that failed, unless a newer value came.
func (w *Writer) requeue(recs []pendingRecord) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range recs {
		if _, newer := w.pending[r.key]; !newer {
			w.pending[r.key] = r.value
		}
	}
}

func (w *Writer) produce(ctx context.Context, partition int, recs []pendingRecord) error {
	_, err := produceAt(ctx, w.client, w.cfg.Topic, partition, recs...)
	return err
}

// produceAt writes records to one partition with acks=all, retrying
// transient broker errors, and returns the offset of the first.
func produceAt(ctx context.Context, cl *kafka.Client, topic string, partition int, recs ...pendingRecord) (int64, error) {
	var resp *kafka.ProduceResponse
	err := retry(ctx, func() (err error) {
		// Record bytes are readers: each attempt needs its own.
		krecs := make([]kafka.Record, len(recs))
		for i, r := range recs {
			krecs[i] = kafka.Record{Key: kafka.NewBytes([]byte(r.key)), Value: kafka.NewBytes(r.value)}
		}
		resp, err = cl.Produce(ctx, &kafka.ProduceRequest{
			Topic: topic, Partition: partition, RequiredAcks: kafka.RequireAll,
			Records: kafka.NewRecordReader(krecs...),
		})
		if err == nil {
			err = resp.Error
		}
		return err
	})
	if err == nil {
		for i, e := range resp.RecordErrors {
			err = fmt.Errorf("record %d: %w", i, e)
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("write %d records to %s/%d: %w", len(recs), topic, partition, err)
	}
	return resp.BaseOffset, nil
}

// Close writes what is pending (retrying for at most CloseTimeout) and
// stops the goroutine. It returns the error of the last write, if records
// are left unwritten. Call it after the store's Close, which hands the last
// counts over. Calling Close again returns nil.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	if w.err != nil {
		return fmt.Errorf("samples topic %s: %d records not written: %w", w.cfg.Topic, w.Stats().Pending, w.err)
	}
	return nil
}

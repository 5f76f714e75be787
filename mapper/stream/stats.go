package stream

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/release"
)

type sourceKey struct {
	name    string
	version int
}

type categoryKey struct {
	source   string
	category string
}

// tallyCategory is a category counted by a tally: its reason and field
// apart, so that counting a failure builds no string.
type tallyCategory struct {
	source string
	cat    mapper.Category
}

// tally counts one mapping goroutine's records between merges.
type tally struct {
	outcomes   map[sourceKey]*[3]int64
	categories map[tallyCategory]int64
	// lastSrc's counts are last: the records of a batch mostly share a
	// source, so most records are counted without a look-up.
	lastSrc *mapper.Source
	last    *[3]int64
	// recent counts the first categories met since the last merge, in
	// front of categories: a batch's failures mostly fall in a few
	// categories, which are then counted without hashing their strings.
	recent  [recentCategories]categoryCount
	nrecent int
}

// recentCategories is how many categories a tally counts in front of its
// map.
const recentCategories = 8

// categoryCount is a category and its count.
type categoryCount struct {
	cat tallyCategory
	n   int64
}

func newTally() *tally {
	return &tally{outcomes: map[sourceKey]*[3]int64{}, categories: map[tallyCategory]int64{}}
}

func outcomeIndex(o mapper.Outcome) int {
	switch o {
	case mapper.OutcomeMapped:
		return 0
	case mapper.OutcomeDegraded:
		return 1
	}
	return 2
}

func (t *tally) add(src *mapper.Source, topic string, res *mapper.Result) {
	var k sourceKey
	if src != nil {
		k = sourceKey{src.Name(), src.Version()}
	}
	c := t.last
	if c == nil || src != t.lastSrc {
		c = t.outcomes[k]
		if c == nil {
			c = new([3]int64)
			t.outcomes[k] = c
		}
		t.lastSrc, t.last = src, c
	}
	c[outcomeIndex(res.Outcome)]++
	for _, f := range res.Failures {
		t.count(tallyCategory{k.name, mapper.Category{Reason: f.Reason, Field: f.Field}})
	}
}

// count adds one to cat: in recent when it is there or has room, else in
// the map.
func (t *tally) count(cat tallyCategory) {
	for i := range t.recent[:t.nrecent] {
		if t.recent[i].cat == cat {
			t.recent[i].n++
			return
		}
	}
	if t.nrecent < len(t.recent) {
		t.recent[t.nrecent] = categoryCount{cat, 1}
		t.nrecent++
		return
	}
	t.categories[cat]++
}

// stats is the worker's running totals. Safe for concurrent use.
type stats struct {
	mu         sync.Mutex
	outcomes   map[sourceKey]*[3]int64
	categories map[categoryKey]int64
	history    history // per-minute outcomes, for the status page

	outputRecords, deadLetterRecords, committedRecords atomic.Int64
	fetchErrors, writeErrors, commitErrors             atomic.Int64
}

func newStats() *stats {
	return &stats{outcomes: map[sourceKey]*[3]int64{}, categories: map[categoryKey]int64{}}
}

// addOutcomes adds the outcome counts of src to dst.
func addOutcomes(dst, src map[sourceKey]*[3]int64) {
	for k, c := range src {
		d := dst[k]
		if d == nil {
			d = new([3]int64)
			dst[k] = d
		}
		for i := range c {
			d[i] += c[i]
		}
	}
}

// merge adds t to the totals and empties t.
func (s *stats) merge(t *tally) {
	s.mu.Lock()
	s.history.add(time.Now(), t.outcomes)
	addOutcomes(s.outcomes, t.outcomes)
	for k, n := range t.categories {
		s.categories[categoryKey{k.source, k.cat.String()}] += n
	}
	for _, c := range t.recent[:t.nrecent] {
		s.categories[categoryKey{c.cat.source, c.cat.cat.String()}] += c.n
	}
	s.mu.Unlock()
	clear(t.outcomes)
	clear(t.categories)
	clear(t.recent[:t.nrecent])
	t.nrecent = 0
	t.lastSrc, t.last = nil, nil
}

func (s *stats) delivered(out, dlq int) {
	s.outputRecords.Add(int64(out))
	s.deadLetterRecords.Add(int64(dlq))
}

func (s *stats) committed(msgs []kafka.Message) { s.committedRecords.Add(int64(len(msgs))) }

// SourceCounts are the records of one source and rules version by outcome.
// Source is empty for unrouted records (no source accepts them).
type SourceCounts struct {
	Source       string `json:"source"`
	RulesVersion int    `json:"rules_version"`
	Mapped       int64  `json:"mapped"`
	Degraded     int64  `json:"degraded"`
	Rejected     int64  `json:"rejected"`
}

// CategoryCount is how many records of a source failed in one category
// ("reason" or "reason:field").
type CategoryCount struct {
	Source   string `json:"source"`
	Category string `json:"category"`
	Count    int64  `json:"count"`
}

// Counts is a snapshot of what the worker has done since it started.
type Counts struct {
	Mapped    int64 `json:"mapped"`
	Degraded  int64 `json:"degraded"`
	Rejected  int64 `json:"rejected"`
	Output    int64 `json:"output_records"`      // acknowledged writes to the output topic
	DeadLtr   int64 `json:"dead_letter_records"` // acknowledged writes to the dead-letter topic
	Committed int64 `json:"committed_records"`   // input records whose offsets were committed

	FetchErrors  int64 `json:"fetch_errors"`
	WriteErrors  int64 `json:"write_errors"`
	CommitErrors int64 `json:"commit_errors"`

	Sources []SourceCounts `json:"sources"`
	// TopFailures are the most frequent failure categories, most first (at
	// most TopN of Snapshot).
	TopFailures []CategoryCount `json:"top_failures"`
}

// Counts returns a snapshot of the worker's counts with at most topN failure
// categories (all of them if topN <= 0). Safe to call at any time.
func (w *Worker) Counts(topN int) Counts {
	s := w.stats
	c := Counts{
		Output: s.outputRecords.Load(), DeadLtr: s.deadLetterRecords.Load(), Committed: s.committedRecords.Load(),
		FetchErrors: s.fetchErrors.Load(), WriteErrors: s.writeErrors.Load(), CommitErrors: s.commitErrors.Load(),
		Sources: []SourceCounts{}, TopFailures: []CategoryCount{},
	}
	s.mu.Lock()
	for k, o := range s.outcomes {
		c.Sources = append(c.Sources, SourceCounts{Source: k.name, RulesVersion: k.version, Mapped: o[0], Degraded: o[1], Rejected: o[2]})
		c.Mapped += o[0]
		c.Degraded += o[1]
		c.Rejected += o[2]
	}
	for k, n := range s.categories {
		c.TopFailures = append(c.TopFailures, CategoryCount{Source: k.source, Category: k.category, Count: n})
	}
	s.mu.Unlock()
	slices.SortFunc(c.Sources, func(a, b SourceCounts) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.RulesVersion, b.RulesVersion))
	})
	slices.SortFunc(c.TopFailures, func(a, b CategoryCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Category, b.Category))
	})
	if topN > 0 && len(c.TopFailures) > topN {
		c.TopFailures = c.TopFailures[:topN]
	}
	return c
}

// History returns the outcomes of the last n minutes (at most
// HistoryMinutes), oldest first, the current minute last; a minute without
// records has no sources. Safe to call at any time.
func (w *Worker) History(n int) []MinuteCounts {
	w.stats.mu.Lock()
	defer w.stats.mu.Unlock()
	return w.stats.history.snapshot(time.Now(), n)
}

// PartitionLag is how far the group is behind on one input partition,
// measured from the broker: the high watermark minus the committed offset
// (or minus the log start offset when nothing is committed yet).
type PartitionLag struct {
	Topic         string `json:"topic"`
	Partition     int    `json:"partition"`
	Committed     int64  `json:"committed"` // -1: nothing committed
	HighWatermark int64  `json:"high_watermark"`
	Lag           int64  `json:"lag"`
}

// Lag asks the brokers for the group's committed offsets and the input
// partitions' high watermarks. Safe to call at any time, also before Run.
func (w *Worker) Lag(ctx context.Context) ([]PartitionLag, error) {
	meta, err := w.client.Metadata(ctx, &kafka.MetadataRequest{Topics: w.cfg.Topics})
	if err != nil {
		return nil, fmt.Errorf("lag: metadata: %w", err)
	}
	parts := map[string][]int{}
	reqs := map[string][]kafka.OffsetRequest{}
	for _, t := range meta.Topics {
		if t.Error != nil {
			return nil, fmt.Errorf("lag: topic %s: %w", t.Name, t.Error)
		}
		for _, p := range t.Partitions {
			parts[t.Name] = append(parts[t.Name], p.ID)
			reqs[t.Name] = append(reqs[t.Name], kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
		}
	}
	committed, err := w.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: w.cfg.GroupID, Topics: parts})
	if err != nil {
		return nil, fmt.Errorf("lag: committed offsets of group %s: %w", w.cfg.GroupID, err)
	}
	if committed.Error != nil && !errors.Is(committed.Error, kafka.GroupIdNotFound) {
		// A group that has not joined yet has committed nothing (some
		// brokers say so with GroupIdNotFound).
		return nil, fmt.Errorf("lag: committed offsets of group %s: %w", w.cfg.GroupID, committed.Error)
	}
	offs, err := w.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: reqs})
	if err != nil {
		return nil, fmt.Errorf("lag: high watermarks: %w", err)
	}
	var lags []PartitionLag
	for topic, ps := range offs.Topics {
		co := map[int]int64{}
		for _, c := range committed.Topics[topic] {
			if c.Error != nil {
				return nil, fmt.Errorf("lag: committed offset of %s/%d: %w", topic, c.Partition, c.Error)
			}
			co[c.Partition] = c.CommittedOffset
		}
		for _, p := range ps {
			if p.Error != nil {
				return nil, fmt.Errorf("lag: offsets of %s/%d: %w", topic, p.Partition, p.Error)
			}
			l := PartitionLag{Topic: topic, Partition: p.Partition, Committed: -1, HighWatermark: p.LastOffset}
			from := p.FirstOffset
			if c, ok := co[p.Partition]; ok && c >= 0 {
				l.Committed = c
				from = c
			}
			l.Lag = max(0, l.HighWatermark-from)
			lags = append(lags, l)
		}
	}
	slices.SortFunc(lags, func(a, b PartitionLag) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return lags, nil
}

// Status is the worker's status page.
type Status struct {
	State          State  `json:"state"`
	Ready          bool   `json:"ready"`
	NotReadyReason string `json:"not_ready_reason,omitempty"`
	Group          string `json:"group"`
	// Partitions is how many input partitions the group gives this worker
	// now: 0 while it joins or rebalances, or when the group has more
	// members than partitions.
	Partitions      int64          `json:"partitions_held"`
	Topics          []string       `json:"topics"`
	OutputTopic     string         `json:"output_topic"`
	DeadLetterTopic string         `json:"dead_letter_topic"`
	Counts          Counts         `json:"counts"`
	Lag             []PartitionLag `json:"lag"`
	LagTotal        int64          `json:"lag_total"`
	LagError        string         `json:"lag_error,omitempty"`
	// LagSkipped says the lag was not measured: the request asked for the
	// counts only (GET /status?lag=false), without the broker round trips.
	LagSkipped bool `json:"lag_skipped,omitempty"`
	// History is the outcomes of the last minutes (HistoryMinutes at most),
	// oldest first, per source: what the status page draws.
	History []MinuteCounts `json:"history"`
	// Rules are the live rules' versions by source.
	Rules map[string]int `json:"rules"`
	// Candidate is the candidate rule set's state; nil without one.
	Candidate *release.CandidateStatus `json:"candidate,omitempty"`
	// Reloads counts the rule swaps since start; Paused lists the sources
	// the reject-ratio breaker paused.
	Reloads int64          `json:"reloads"`
	Paused  []release.Trip `json:"paused,omitempty"`
	// SchemaRegistry is Config.Framing's status (the registry and each
	// source's subject and schema id); absent without one.
	SchemaRegistry any `json:"schema_registry,omitempty"`
}

// ready reports whether the worker is consuming and delivering. A worker
// that holds no partition asks the brokers (within ctx) whether its topics
// have lag: it is ready only if they have none, and the reason it gives is
// what the brokers answer now.
func (w *Worker) ready(ctx context.Context) (bool, string) {
	switch st := w.State(); st {
	case StateRunning:
		if f := w.failing.Load().(string); f != "" {
			return false, "retrying: " + f
		}
		if b := w.blockedReasons(); b != "" {
			return false, b
		}
		if rel := w.cfg.Release; rel != nil {
			if p := rel.Paused(); len(p) > 0 {
				return false, "paused: " + p[0].Reason
			}
		}
		if f := w.cfg.Framing; f != nil {
			if why := f.NotReady(); why != "" {
				return false, why
			}
		}
		if w.held.Load() == 0 {
			return w.readyWithoutPartitions(ctx)
		}
		return true, ""
	case StateStopped:
		if e := w.runErr.Load().(string); e != "" {
			return false, "stopped: " + e
		}
		return false, "stopped"
	case StateStarting:
		if f := w.failing.Load().(string); f != "" {
			return false, "starting: " + f
		}
		return false, "starting"
	default:
		return false, string(st)
	}
}

// readinessProbeTimeout bounds the lag measurement of a readiness check.
const readinessProbeTimeout = 3 * time.Second

// readyWithoutPartitions is the readiness of a running worker that holds no
// partition: between two generations of its group (joining, rebalancing,
// the brokers gone), or an idle member of a group with more members than
// partitions. It measures the lag now, so that the reason follows the
// brokers: "not answering" while they are down, "waiting for the group"
// the moment they answer again.
func (w *Worker) readyWithoutPartitions(ctx context.Context) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, readinessProbeTimeout)
	defer cancel()
	lags, err := w.Lag(ctx)
	if err != nil {
		var ke kafka.Error
		if errors.As(err, &ke) {
			// The brokers answer, with an error: the lag cannot be measured.
			return false, "no partitions held, and the lag cannot be measured: " + err.Error()
		}
		return false, "no partitions held, and the brokers do not answer: " + err.Error()
	}
	behind := map[string]int64{}
	for _, l := range lags {
		if l.Lag > 0 {
			behind[l.Topic] += l.Lag
		}
	}
	if len(behind) == 0 {
		return true, ""
	}
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(behind)) {
		parts = append(parts, fmt.Sprintf("%s %d", t, behind[t]))
	}
	return false, fmt.Sprintf("no partitions held while the input topics have lag (%s records): waiting for group %s to assign them (a member that died leaves within the session timeout, %v)",
		strings.Join(parts, ", "), w.cfg.GroupID, w.cfg.SessionTimeout)
}

// blockedReasons says which partitions wait on a record their topic
// refuses, "" if none.
func (w *Worker) blockedReasons() string {
	p := w.pipe.Load()
	if p == nil {
		return ""
	}
	var r []string
	p.blocked.Range(func(k, v any) bool {
		r = append(r, "partition "+k.(topicPartition).String()+" blocked: "+v.(string))
		return true
	})
	slices.Sort(r)
	return strings.Join(r, "; ")
}

// Status returns the status page, with the lag measured now (bounded by
// ctx; on failure LagError says why).
func (w *Worker) Status(ctx context.Context, topN int) Status {
	return w.StatusOf(ctx, topN, true)
}

// StatusOf is Status, the lag measured only when lag is true: a poller
// that follows the counts (a benchmark, a progress bar) asks for them
// without loading the broker, or the worker, with lag requests.
func (w *Worker) StatusOf(ctx context.Context, topN int, lag bool) Status {
	ok, why := w.ready(ctx)
	st := Status{
		State: w.State(), Ready: ok, NotReadyReason: why, Group: w.cfg.GroupID, Topics: w.Topics(),
		Partitions:  w.held.Load(),
		OutputTopic: w.cfg.OutputTopic, DeadLetterTopic: w.cfg.DeadLetterTopic, Counts: w.Counts(topN), Lag: []PartitionLag{},
		History: w.History(15),
	}
	if rel := w.cfg.Release; rel != nil {
		rs := rel.Status()
		st.Rules, st.Candidate, st.Reloads, st.Paused = rs.Rules, rs.Candidate, rs.Reloads, rs.Paused
	} else {
		st.Rules = map[string]int{}
		for _, s := range w.cfg.Engine.Sources() {
			st.Rules[s.Name()] = s.Version()
		}
	}
	if f := w.cfg.Framing; f != nil {
		st.SchemaRegistry = f.Status()
	}
	if !lag {
		st.LagSkipped = true
		return st
	}
	lags, err := w.Lag(ctx)
	if err != nil {
		st.LagError = err.Error()
	}
	for _, l := range lags {
		st.Lag = append(st.Lag, l)
		st.LagTotal += l.Lag
	}
	return st
}

// Handler serves /healthz (200 unless Run failed), /readyz (200 while
// running and delivering — holding partitions, or holding none while the
// input topics have no lag — 503 with the reason otherwise) and /status (the
// JSON Status, lag measured from the broker on each request unless the
// query says lag=false; see LagQuery).
func (w *Worker) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, r *http.Request) {
		if e := w.runErr.Load().(string); e != "" {
			http.Error(rw, "failed: "+e, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "ok")
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, r *http.Request) {
		if ok, why := w.ready(r.Context()); !ok {
			http.Error(rw, "not ready: "+why, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "ready")
	})
	status := func(rw http.ResponseWriter, r *http.Request) {
		lag, err := LagQuery(r)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		st := w.StatusOf(ctx, 20, lag)
		rw.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(rw)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil && !errors.Is(err, context.Canceled) {
			w.cfg.Logger.Warn("write status", "error", err)
		}
	}
	mux.HandleFunc("GET /status", status)
	mux.HandleFunc("GET /{$}", status)
	return mux
}

// LagQuery reads the lag parameter of a /status request: absent or true
// measures the lag, false leaves it out (Status.LagSkipped); anything else
// is an error naming the values it takes.
func LagQuery(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("lag")
	if v == "" {
		return true, nil
	}
	lag, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("lag=%q: want true or false", v)
	}
	return lag, nil
}

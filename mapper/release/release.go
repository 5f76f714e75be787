package release

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mapperhq/mapper/mapper"
)

// Mode is how a candidate rule set is tried.
type Mode string

// The candidate modes.
const (
	// ModeShadow maps every record with the live rules and the candidate,
	// delivers the live result and compares the two.
	ModeShadow Mode = "shadow"
	// ModeCanary delivers the candidate's result for a share of the records
	// (chosen by key) and the live result for the rest.
	ModeCanary Mode = "canary"
)

// Defaults of Config.
const (
	DefaultCanaryShare       = 0.05
	DefaultCanaryMaxDrop     = 0.05
	DefaultCanaryWindow      = 5 * time.Minute
	DefaultCanaryMinRecords  = 20
	DefaultBreakerWindow     = time.Minute
	DefaultBreakerMinRecords = 100
)

// Config configures a Controller. Live is required; every other zero value
// means the default stated on the field.
type Config struct {
	// Live is the rule set whose results are delivered. Required.
	Live *mapper.Engine
	// Candidate, when not nil, is the rule set under test. It may hold only
	// the sources that change: records of topics it does not claim are
	// mapped by the live rules alone.
	Candidate *mapper.Engine
	// Mode is how the candidate is tried. Empty means ModeShadow.
	Mode Mode
	// CanaryShare is the share of records, by key, delivered with the
	// candidate's result in canary mode, from 0 to 1. Zero means
	// DefaultCanaryShare.
	CanaryShare float64
	// CanaryMaxDrop is how far the candidate's delivered ratio may fall
	// below the live rules' (measured on the same canary records) before the
	// candidate is rolled back, from 0 to 1. Zero means DefaultCanaryMaxDrop.
	CanaryMaxDrop float64
	// CanaryWindow is the span over which the judge compares the ratios.
	// Zero means DefaultCanaryWindow.
	CanaryWindow time.Duration
	// CanaryMinRecords is the fewest canary records in the window before the
	// judge decides anything. Zero means DefaultCanaryMinRecords.
	CanaryMinRecords int
	// MaxRejectRatio turns the breaker on: when a source's share of rejected
	// records over BreakerWindow exceeds it, the source is paused. Zero
	// means off.
	MaxRejectRatio float64
	// BreakerWindow is the span over which the breaker measures. Zero means
	// DefaultBreakerWindow.
	BreakerWindow time.Duration
	// BreakerMinRecords is the fewest records in the window before the
	// breaker may trip. Zero means DefaultBreakerMinRecords.
	BreakerMinRecords int
	// Consumed are the input topics the worker consumes: they are fixed
	// until it restarts. Swap refuses live rules under which a topic of them
	// that the running live rules claim would be claimed by no source (its
	// records would all be dead-lettered as unknown_source). Empty means no
	// such check.
	Consumed []string
	// Events, when not nil, is told of comparisons, rollbacks, trips and
	// reloads.
	Events Events
	// Logger receives one line per rollback, trip and swap. Nil means discard.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Events is told what the Controller does. Its methods are called from the
// mapping goroutines, concurrently; they must not block and must not keep
// their pointer arguments past the call.
type Events interface {
	// Compared is told of one record mapped by both rule sets. live or cand
	// is nil when that rule set claims no source for the record's topic.
	Compared(origin *mapper.Origin, payload []byte, live *mapper.Source, liveRes *mapper.Result, cand *mapper.Source, candRes *mapper.Result, v mapper.Verdict)
	// RolledBack is told, once per source and candidate, that the canary was
	// rolled back.
	RolledBack(r Rollback)
	// Tripped is told, once per source and rule set, that the breaker paused
	// a source.
	Tripped(t Trip)
}

// Rollback says why a candidate stopped being used for one source.
type Rollback struct {
	Source           string    `json:"source"`
	RulesVersion     int       `json:"rules_version"`
	CandidateVersion int       `json:"candidate_version"`
	Records          int64     `json:"records"`
	LiveRatio        float64   `json:"live_ratio"`
	CandidateRatio   float64   `json:"candidate_ratio"`
	At               time.Time `json:"at"`
	Reason           string    `json:"reason"`
}

// Trip says why the breaker paused a source.
type Trip struct {
	Source       string    `json:"source"`
	RulesVersion int       `json:"rules_version"`
	Records      int64     `json:"records"`
	Rejected     int64     `json:"rejected"`
	At           time.Time `json:"at"`
	Reason       string    `json:"reason"`
}

func (c Config) withDefaults() Config {
	if c.Mode == "" {
		c.Mode = ModeShadow
	}
	if c.CanaryShare == 0 {
		c.CanaryShare = DefaultCanaryShare
	}
	if c.CanaryMaxDrop == 0 {
		c.CanaryMaxDrop = DefaultCanaryMaxDrop
	}
	if c.CanaryWindow == 0 {
		c.CanaryWindow = DefaultCanaryWindow
	}
	if c.CanaryMinRecords == 0 {
		c.CanaryMinRecords = DefaultCanaryMinRecords
	}
	if c.BreakerWindow == 0 {
		c.BreakerWindow = DefaultBreakerWindow
	}
	if c.BreakerMinRecords == 0 {
		c.BreakerMinRecords = DefaultBreakerMinRecords
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// ConfigError lists every problem of a Config.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid release configuration: %v", e.Problems)
}

func (c Config) validate() error {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if c.Live == nil {
		add("no live rules given")
	}
	if c.Mode != ModeShadow && c.Mode != ModeCanary {
		add("candidate mode %q: want shadow or canary", c.Mode)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"canary share", c.CanaryShare}, {"canary max drop", c.CanaryMaxDrop}, {"max reject ratio", c.MaxRejectRatio}} {
		if r.v < 0 || r.v > 1 || r.v != r.v {
			add("%s %v: want a number from 0 to 1", r.name, r.v)
		}
	}
	if c.CanaryWindow < 0 {
		add("canary window %v is negative", c.CanaryWindow)
	}
	if c.BreakerWindow < 0 {
		add("breaker window %v is negative", c.BreakerWindow)
	}
	if c.CanaryMinRecords < 0 || c.BreakerMinRecords < 0 {
		add("minimum record counts must not be negative")
	}
	if len(p) > 0 {
		return &ConfigError{Problems: p}
	}
	return nil
}

// Controller holds the rule sets and maps records with them. Its methods
// are safe for concurrent use.
type Controller struct {
	cfg Config
	gen atomic.Pointer[generation]
	mu  sync.Mutex // serialises swaps
}

// generation is one loaded pair of rule sets with its per-source state. It
// is replaced whole on a swap; replaced is closed then, which resumes
// records held by the breaker.
type generation struct {
	n        int64
	live     *mapper.Engine
	cand     *mapper.Engine
	sources  map[string]*sourceState
	replaced chan struct{}
	loadedAt time.Time
}

// sourceState is one source's state within a generation.
type sourceState struct {
	name        string
	liveVersion int // 0: the live rules have no such source
	candVersion int // 0: the candidate has no such source, or there is none
	cmp         *comparison
	breaker     *breaker
}

// comparison is what is counted of one (source, live version, candidate
// version): it outlives a swap that keeps both versions.
type comparison struct {
	liveVersion, candVersion int
	verdicts                 [5]atomic.Int64
	canary                   [2]atomic.Int64 // records delivered with the live rules, with the candidate
	judge                    window
	rolledBack               atomic.Bool
	rollbackOnce             sync.Once
	rollback                 atomic.Pointer[Rollback]
}

// New validates cfg and returns a Controller holding its rule sets.
func New(cfg Config) (*Controller, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg}
	c.gen.Store(c.newGeneration(nil, cfg.Live, cfg.Candidate))
	return c, nil
}

func (c *Controller) newGeneration(old *generation, live, cand *mapper.Engine) *generation {
	g := &generation{live: live, cand: cand, sources: map[string]*sourceState{}, replaced: make(chan struct{}),
		loadedAt: c.cfg.Now()}
	if old != nil {
		g.n = old.n + 1
	}
	state := func(name string) *sourceState {
		s := g.sources[name]
		if s == nil {
			s = &sourceState{name: name}
			if c.cfg.MaxRejectRatio > 0 {
				s.breaker = &breaker{}
				s.breaker.win.init(c.cfg.BreakerWindow)
			}
			g.sources[name] = s
		}
		return s
	}
	for _, s := range live.Sources() {
		state(s.Name()).liveVersion = s.Version()
	}
	if cand != nil {
		for _, s := range cand.Sources() {
			state(s.Name()).candVersion = s.Version()
		}
		for name, s := range g.sources {
			if s.candVersion == 0 {
				continue // the candidate leaves this source to the live rules
			}
			if old != nil {
				if o := old.sources[name]; o != nil && o.cmp != nil && o.cmp.liveVersion == s.liveVersion && o.cmp.candVersion == s.candVersion {
					s.cmp = o.cmp
					continue
				}
			}
			s.cmp = &comparison{liveVersion: s.liveVersion, candVersion: s.candVersion}
			s.cmp.judge.init(c.cfg.CanaryWindow)
		}
	}
	return g
}

// Swap makes live (and cand, nil for none) the rule sets that Current
// returns from now on. Records being mapped with Rules taken before finish
// with them. Counts and a rollback carry over for sources whose
// live and candidate versions are unchanged; every breaker is reset, which
// resumes paused sources.
func (c *Controller) Swap(live, cand *mapper.Engine) error {
	if live == nil {
		return errors.New("release: swap: no live rules")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.gen.Load()
	if err := c.unclaimed(old.live, live); err != nil {
		return err
	}
	g := c.newGeneration(old, live, cand)
	c.gen.Store(g)
	close(old.replaced)
	c.cfg.Logger.Info("rules swapped", "live", versionList(live), "candidate", versionList(cand))
	return nil
}

// ErrTopicUnclaimed is wrapped by the error Swap returns when the new live
// rules would leave a consumed topic to no source (see Config.Consumed).
var ErrTopicUnclaimed = errors.New("a consumed topic would be claimed by no source")

// UnclaimedError says which consumed topics new live rules leave to no
// source, and which sources claim them now. It wraps ErrTopicUnclaimed.
type UnclaimedError struct {
	// Topics are the consumed topics left unclaimed, sorted; Sources maps
	// each to the running sources that claim it.
	Topics  []string
	Sources map[string][]string
}

func (e *UnclaimedError) Error() string {
	parts := make([]string, len(e.Topics))
	for i, t := range e.Topics {
		parts[i] = fmt.Sprintf("%q (claimed now by %s)", t, strings.Join(e.Sources[t], ", "))
	}
	return fmt.Sprintf("the new rules claim no source for consumed topic %s: every record of it would be dead-lettered as unknown_source; the topics consumed change only on restart",
		strings.Join(parts, ", "))
}

func (e *UnclaimedError) Unwrap() error { return ErrTopicUnclaimed }

// unclaimed returns an *UnclaimedError when live leaves a consumed topic
// that running claims to no source.
func (c *Controller) unclaimed(running, live *mapper.Engine) error {
	var e UnclaimedError
	for _, t := range c.cfg.Consumed {
		now := running.SourcesForTopic(t)
		if len(now) == 0 || len(live.SourcesForTopic(t)) > 0 {
			continue
		}
		if e.Sources == nil {
			e.Sources = map[string][]string{}
		}
		e.Topics = append(e.Topics, t)
		for _, s := range now {
			e.Sources[t] = append(e.Sources[t], s.Name())
		}
	}
	if len(e.Topics) == 0 {
		return nil
	}
	slices.Sort(e.Topics)
	return &e
}

// Live returns the live rule set.
func (c *Controller) Live() *mapper.Engine { return c.gen.Load().live }

// Candidate returns the candidate rule set, or nil.
func (c *Controller) Candidate() *mapper.Engine { return c.gen.Load().cand }

// Scratch is one mapping goroutine's buffers. The zero value is ready to
// use; it is not safe for concurrent use.
type Scratch struct {
	live, cand mapper.Mapper
	other      mapper.Result
	// last is the state of the source last looked up without a
	// candidate: the records of a batch mostly share their source.
	last struct {
		g   *generation
		src *mapper.Source
		st  *sourceState
	}
}

// Rules is the pair of rule sets loaded at one moment, as Current returns
// it: map the records of one batch with one Rules so that a swap falls
// between batches. The zero value is not usable.
type Rules struct {
	c *Controller
	g *generation
}

// Current returns the rule sets loaded now.
func (c *Controller) Current() Rules { return Rules{c: c, g: c.gen.Load()} }

// Map maps one record with the rule sets loaded now: Current().Map.
func (c *Controller) Map(s *Scratch, origin *mapper.Origin, payload []byte, res *mapper.Result) (src *mapper.Source, resume <-chan struct{}) {
	return c.Current().Map(s, origin, payload, res)
}

// Map maps one record into res with the rules it gets and returns the
// source whose rules made res (nil when no source accepts the record, routed
// by topic, headers and payload as mapper.Engine.Route routes it). In
// shadow mode res is the live result and the candidate's is compared with
// it; in canary mode res is the candidate's result for records whose key
// hashes into the share.
//
// When the reject-ratio breaker pauses the record's source, Map returns a
// non-nil resume channel and res is not to be used: the record must be
// neither delivered nor committed. The channel is closed when a swap
// resumes the source; then map the record again with Current rules.
func (r Rules) Map(s *Scratch, origin *mapper.Origin, payload []byte, res *mapper.Result) (src *mapper.Source, resume <-chan struct{}) {
	c, g := r.c, r.g
	src, st := c.mapGen(g, s, origin, payload, res)
	if st != nil && st.breaker != nil && c.judgeBreaker(st, res) {
		return src, g.replaced
	}
	return src, nil
}

func (c *Controller) mapGen(g *generation, s *Scratch, origin *mapper.Origin, payload []byte, res *mapper.Result) (*mapper.Source, *sourceState) {
	var liveUnknown mapper.Result
	live := g.live.RouteInto(origin.Topic, origin.Headers, payload, &liveUnknown)
	var name string
	if live != nil {
		name = live.Name()
	}
	if g.cand == nil {
		mapWith(&s.live, live, &liveUnknown, payload, res)
		if live == nil {
			return nil, nil
		}
		if l := &s.last; l.g != g || l.src != live {
			l.g, l.src, l.st = g, live, g.sources[name]
		}
		return live, s.last.st
	}
	var candUnknown mapper.Result
	cand := g.cand.RouteInto(origin.Topic, origin.Headers, payload, &candUnknown)
	if live == nil && cand != nil {
		name = cand.Name()
	}
	st := g.sources[name]
	if cand == nil || st == nil || st.cmp == nil {
		mapWith(&s.live, live, &liveUnknown, payload, res)
		return live, st
	}
	if st.cmp.rolledBack.Load() {
		mapWith(&s.live, live, &liveUnknown, payload, res)
		if c.cfg.Mode == ModeCanary {
			st.cmp.canary[0].Add(1)
		}
		return live, st
	}
	if c.cfg.Mode == ModeCanary && !InShare(origin, c.cfg.CanaryShare) {
		mapWith(&s.live, live, &liveUnknown, payload, res)
		st.cmp.canary[0].Add(1)
		return live, st
	}
	// Both rule sets map the record. In shadow mode res holds the live
	// result; in canary mode the candidate's.
	liveRes, candRes := res, &s.other
	if c.cfg.Mode == ModeCanary {
		liveRes, candRes = &s.other, res
	}
	mapWith(&s.live, live, &liveUnknown, payload, liveRes)
	mapWith(&s.cand, cand, &candUnknown, payload, candRes)
	v := mapper.Compare(liveRes, candRes)
	st.cmp.verdicts[verdictIndex(v)].Add(1)
	if ev := c.cfg.Events; ev != nil {
		ev.Compared(origin, payload, live, liveRes, cand, candRes, v)
	}
	if c.cfg.Mode == ModeShadow {
		return live, st
	}
	st.cmp.canary[1].Add(1)
	c.judgeCanary(st, liveRes.Outcome.Delivered(), candRes.Outcome.Delivered())
	return cand, st
}

// mapWith maps payload with src into res, or gives res the engine's
// unknown-source result when no source accepts the record.
func mapWith(m *mapper.Mapper, src *mapper.Source, unknown *mapper.Result, payload []byte, res *mapper.Result) {
	if src == nil {
		*res = *unknown
		return
	}
	m.Map(src, payload, res)
}

func verdictIndex(v mapper.Verdict) int {
	switch v {
	case mapper.VerdictSame:
		return 0
	case mapper.VerdictNowMapped:
		return 1
	case mapper.VerdictNewlyFailing:
		return 2
	case mapper.VerdictFailingDifferently:
		return 3
	}
	return 4
}

// InShare reports whether a record goes to the canary: the FNV-1a hash of
// its key (or, with an empty key, of its topic, partition and offset),
// mixed and scaled to [0, 1), is below share. The same key always gets the same
// answer.
func InShare(origin *mapper.Origin, share float64) bool {
	if share >= 1 {
		return true
	}
	if share <= 0 {
		return false
	}
	h := fnv.New64a()
	if len(origin.Key) > 0 {
		h.Write(origin.Key)
	} else {
		fmt.Fprintf(h, "%s\x00%d\x00%d", origin.Topic, origin.Partition, origin.Offset)
	}
	return float64(mix(h.Sum64())>>11)/(1<<53) < share
}

// mix is MurmurHash3's 64-bit finaliser: FNV-1a alone leaves the high bits
// of short, similar keys ("order-1", "order-2") too alike to split shares.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// judgeCanary counts one canary record and rolls the candidate back for
// the source when, over the window, its delivered ratio is below the live
// rules' by more than CanaryMaxDrop.
func (c *Controller) judgeCanary(st *sourceState, liveOK, candOK bool) {
	now := c.cfg.Now()
	total, lok, cok := st.cmp.judge.add(now, liveOK, candOK)
	if total < int64(c.cfg.CanaryMinRecords) {
		return
	}
	lr, cr := float64(lok)/float64(total), float64(cok)/float64(total)
	if lr-cr <= c.cfg.CanaryMaxDrop {
		return
	}
	st.cmp.rollbackOnce.Do(func() {
		r := Rollback{
			Source: st.name, RulesVersion: st.liveVersion, CandidateVersion: st.candVersion,
			Records: total, LiveRatio: lr, CandidateRatio: cr, At: now,
			Reason: fmt.Sprintf("candidate delivered %.1f%% of %d canary records, the live rules %.1f%%: a drop of %.1f points, more than the %.1f allowed",
				100*cr, total, 100*lr, 100*(lr-cr), 100*c.cfg.CanaryMaxDrop),
		}
		st.cmp.rollback.Store(&r)
		st.cmp.rolledBack.Store(true)
		c.cfg.Logger.Warn("canary rolled back; the live rules map every record of the source",
			"source", r.Source, "rules_version", r.RulesVersion, "candidate_version", r.CandidateVersion, "reason", r.Reason)
		if c.cfg.Events != nil {
			c.cfg.Events.RolledBack(r)
		}
	})
}

// judgeBreaker counts the record's outcome and reports whether the source
// is paused (just now or before).
func (c *Controller) judgeBreaker(st *sourceState, res *mapper.Result) bool {
	b := st.breaker
	if b.tripped.Load() != nil {
		return true
	}
	rejected := !res.Outcome.Delivered()
	now := c.cfg.Now()
	total, rej, _ := b.win.add(now, rejected, false)
	if total < int64(c.cfg.BreakerMinRecords) || float64(rej)/float64(total) <= c.cfg.MaxRejectRatio || !rejected {
		return false
	}
	t := &Trip{
		Source: st.name, RulesVersion: st.liveVersion, Records: total, Rejected: rej, At: now,
		Reason: fmt.Sprintf("source %s: %d of the last %d records rejected (%.0f%%), more than --max-reject-ratio %.0f%%; paused until the rules are reloaded or the worker restarts",
			st.name, rej, total, 100*float64(rej)/float64(total), 100*c.cfg.MaxRejectRatio),
	}
	if b.tripped.CompareAndSwap(nil, t) {
		c.cfg.Logger.Error("reject-ratio breaker tripped: source paused", "source", t.Source, "rules_version", t.RulesVersion, "reason", t.Reason)
		if c.cfg.Events != nil {
			c.cfg.Events.Tripped(*t)
		}
	}
	return true
}

// breaker is one source's reject-ratio breaker within a generation.
type breaker struct {
	win     window
	tripped atomic.Pointer[Trip]
}

// Paused returns the trips of the sources paused now, by source name; the
// worker is not ready while it is not empty.
func (c *Controller) Paused() []Trip {
	g := c.gen.Load()
	var out []Trip
	for _, s := range g.sources {
		if s.breaker != nil {
			if t := s.breaker.tripped.Load(); t != nil {
				out = append(out, *t)
			}
		}
	}
	slices.SortFunc(out, func(a, b Trip) int { return cmp.Compare(a.Source, b.Source) })
	return out
}

func versionList(e *mapper.Engine) map[string]int {
	if e == nil {
		return nil
	}
	m := map[string]int{}
	for _, s := range e.Sources() {
		m[s.Name()] = s.Version()
	}
	return m
}

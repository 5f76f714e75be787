package alerts

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/getsentry/sentry-go"
	"github.com/mapperhq/mapper/internal/ratelog"
	"github.com/mapperhq/mapper/mapper"
)

// Defaults of Config.
const (
	DefaultInterval               = time.Hour
	DefaultQueueSize              = 64
	DefaultTimeout                = 5 * time.Second
	DefaultFlushTimeout           = 2 * time.Second
	DefaultMaxCategoriesPerSource = 200
	DefaultLogInterval            = time.Minute
)

// Event statuses given to Stats.SentryEvent.
const (
	StatusSent        = "sent"         // Sentry accepted the event
	StatusDropped     = "dropped"      // the queue was full, or Close abandoned it
	StatusRateLimited = "rate_limited" // Sentry answered 429, or the SDK was backing off
	StatusFailed      = "failed"       // network error, timeout or another HTTP error
)

// Tag values used where the record has none of its own.
const (
	// UnknownSource is the source of records no source claims.
	UnknownSource = "unknown"
	// OtherField is the field of categories beyond the per-source cap.
	OtherField = "other"
	// AttachmentName is the file name of the redacted payload.
	AttachmentName = "payload.redacted.json"
)

// Stats is told what became of each event. *metrics.Client satisfies it.
// It must be safe for concurrent use and must not block.
type Stats interface {
	SentryEvent(source string, reason mapper.Reason, status string)
}

// Config configures an Alerter. DSN is required; every other field has a
// default.
type Config struct {
	// DSN is the Sentry project's DSN (SENTRY_DSN). Required.
	DSN string
	// Environment and Release are the event's environment and release
	// (SENTRY_ENVIRONMENT, SENTRY_RELEASE). Optional.
	Environment string
	Release     string
	// Interval is the least time between two events of one category.
	// Zero means DefaultInterval (1h).
	Interval time.Duration
	// QueueSize bounds the events waiting to be sent. Zero means 64.
	QueueSize int
	// Timeout bounds one event's HTTP request. Zero means 5s.
	Timeout time.Duration
	// FlushTimeout bounds how long Close sends queued events. Zero means 2s.
	FlushTimeout time.Duration
	// MaxCategoriesPerSource caps distinct categories per source; beyond it
	// the field becomes "other". Zero means 200.
	MaxCategoriesPerSource int
	// Stats, if not nil, is told what became of each event.
	Stats Stats
	// Logger receives rate-limited reports of dropped events. Nil means no logging.
	Logger *slog.Logger
	// LogInterval is the least time between two logged problems. Zero means 1m.
	LogInterval time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// HTTPTransport is the round tripper under the SDK's transport. Nil
	// means a new http.Transport.
	HTTPTransport http.RoundTripper
	// Ledger, when set, is asked before each category's first event whether
	// the group announced it already (see Ledger). Nil means every process
	// announces the categories it meets.
	Ledger Ledger
}

// Counts says what the Alerter did so far.
type Counts struct {
	Queued      uint64 // events handed to the sending goroutine
	Sent        uint64 // accepted by Sentry
	Dropped     uint64 // queue full or abandoned at Close
	RateLimited uint64 // 429 or backing off
	Failed      uint64 // network error, timeout, other HTTP error
	Suppressed  uint64 // failures not reported because their category reported recently
	Capped      uint64 // failures whose category's field became "other"
	// AlreadyAnnounced counts first events not sent because the Ledger
	// said the group had announced their category.
	AlreadyAnnounced uint64
}

// Alerter sends one Sentry event per failure category and interval. See the
// package documentation.
type Alerter struct {
	cfg    Config
	hub    *sentry.Hub
	client *sentry.Client
	rt     *recordingTransport

	categories sync.Map // catKey → *category
	notices    sync.Map // Notice key → true: notices already sent
	capMu      sync.Mutex
	perSource  map[string]int

	closeMu sync.RWMutex
	closed  bool
	queue   chan job
	done    chan struct{}
	abandon atomic.Bool
	abort   context.CancelFunc

	queued, sent, dropped, rateLimited, failed, suppressed, capped atomic.Uint64
	announced                                                      atomic.Uint64
	log                                                            *ratelog.Logger
}

type catKey struct {
	source  string
	version int
	reason  mapper.Reason
	field   string
}

type category struct {
	next       atomic.Int64 // unix nanos before which events are suppressed
	suppressed atomic.Int64 // since the last event
	seen       atomic.Bool  // an event was due at least once
}

// job is what one event needs, copied out of Observe's arguments.
type job struct {
	key        catKey
	src        *mapper.Source // immutable; kept to redact off the hot path
	field      string         // the failure's own field (the key's may be OtherField)
	detail     string
	outcome    mapper.Outcome
	failures   []mapper.Failure
	topic      string
	partition  int
	offset     int64
	recordKey  []byte
	recordTime time.Time
	payload    []byte // unredacted copy; redacted before it leaves the process
	suppressed int64
	firstSeen  bool
	notice     *Notice // a one-off event (Notify) instead of a category's
}

// New builds the Sentry client and hub and starts the sending goroutine. It
// fails on a missing or malformed DSN or an invalid setting.
func New(cfg Config) (*Alerter, error) {
	if cfg.DSN == "" {
		return nil, errors.New("alerts: no Sentry DSN (set SENTRY_DSN)")
	}
	if _, err := sentry.NewDsn(cfg.DSN); err != nil {
		return nil, fmt.Errorf("alerts: SENTRY_DSN: %w", err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Interval", cfg.Interval}, {"Timeout", cfg.Timeout}, {"FlushTimeout", cfg.FlushTimeout}, {"LogInterval", cfg.LogInterval}} {
		if d.v < 0 {
			return nil, fmt.Errorf("alerts: %s is %v; want 0 (default) or more", d.name, d.v)
		}
	}
	if cfg.QueueSize < 0 || cfg.MaxCategoriesPerSource < 0 {
		return nil, fmt.Errorf("alerts: QueueSize %d and MaxCategoriesPerSource %d must not be negative", cfg.QueueSize, cfg.MaxCategoriesPerSource)
	}
	cfg.Interval = orDefault(cfg.Interval, DefaultInterval)
	cfg.Timeout = orDefault(cfg.Timeout, DefaultTimeout)
	cfg.FlushTimeout = orDefault(cfg.FlushTimeout, DefaultFlushTimeout)
	cfg.LogInterval = orDefault(cfg.LogInterval, DefaultLogInterval)
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.MaxCategoriesPerSource == 0 {
		cfg.MaxCategoriesPerSource = DefaultMaxCategoriesPerSource
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	base := cfg.HTTPTransport
	if base == nil {
		base = &http.Transport{Proxy: http.ProxyFromEnvironment}
	}
	abortCtx, abort := context.WithCancel(context.Background())
	rt := &recordingTransport{base: base, abort: abortCtx}
	// The synchronous transport runs in our own goroutine, so each event's
	// fate is known (see recordingTransport) and the queue bounds memory.
	transport := sentry.NewHTTPSyncTransport()
	transport.Timeout = cfg.Timeout
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:           cfg.DSN,
		Environment:   cfg.Environment,
		Release:       cfg.Release,
		Transport:     transport,
		HTTPTransport: rt,
		// Keep only the runtime/OS contexts; the others read the process
		// environment or module list, which says nothing about a record.
		Integrations: func(in []sentry.Integration) []sentry.Integration {
			var out []sentry.Integration
			for _, i := range in {
				if i.Name() == "Environment" {
					out = append(out, i)
				}
			}
			return out
		},
	})
	if err != nil {
		abort()
		return nil, fmt.Errorf("alerts: start Sentry client: %w", err)
	}
	a := &Alerter{
		cfg:       cfg,
		client:    client,
		hub:       sentry.NewHub(client, sentry.NewScope()),
		rt:        rt,
		perSource: map[string]int{},
		queue:     make(chan job, cfg.QueueSize),
		done:      make(chan struct{}),
		abort:     abort,
		log:       &ratelog.Logger{Logger: logger, Every: cfg.LogInterval},
	}
	go a.run()
	return a, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Observe reports the record's failure categories that are due. It never
// blocks and keeps nothing of its arguments but copies.
func (a *Alerter) Observe(origin *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, took time.Duration) {
	if a == nil || res == nil || len(res.Failures) == 0 {
		return
	}
	source, version := UnknownSource, 0
	if src != nil {
		source, version = src.Name(), src.Version()
	}
	now := a.cfg.Now().UnixNano()
	for i := range res.Failures {
		f := &res.Failures[i]
		key, cat := a.category(catKey{source, version, f.Reason, f.Field})
		due := cat.next.Load()
		if now < due || !cat.next.CompareAndSwap(due, now+int64(a.cfg.Interval)) {
			cat.suppressed.Add(1)
			a.suppressed.Add(1)
			continue
		}
		n := cat.suppressed.Swap(0)
		j := job{
			key:        key,
			src:        src,
			field:      f.Field,
			detail:     f.Detail,
			outcome:    res.Outcome,
			failures:   append([]mapper.Failure(nil), res.Failures...),
			payload:    append([]byte(nil), payload...),
			suppressed: n,
			firstSeen:  !cat.seen.Swap(true),
		}
		if origin != nil {
			j.topic, j.partition, j.offset, j.recordTime = origin.Topic, origin.Partition, origin.Offset, origin.Time
			j.recordKey = append([]byte(nil), origin.Key...)
		}
		if !a.enqueue(j) {
			// Give the suppressed count back so the next event carries it.
			cat.suppressed.Add(n)
			a.drop(key, "sentry queue full; event dropped")
		}
	}
}

// category returns the state of k, creating it — or, beyond the source's
// cap, the state of k with field "other" — on first sight.
func (a *Alerter) category(k catKey) (catKey, *category) {
	if c, ok := a.categories.Load(k); ok {
		return k, c.(*category)
	}
	a.capMu.Lock()
	defer a.capMu.Unlock()
	if c, ok := a.categories.Load(k); ok {
		return k, c.(*category)
	}
	if a.perSource[k.source] >= a.cfg.MaxCategoriesPerSource {
		a.capped.Add(1)
		k.field = OtherField
		if c, ok := a.categories.Load(k); ok {
			return k, c.(*category)
		}
	}
	c := &category{}
	a.categories.Store(k, c)
	a.perSource[k.source]++
	return k, c
}

func (a *Alerter) enqueue(j job) bool {
	a.closeMu.RLock()
	defer a.closeMu.RUnlock()
	if a.closed {
		return false
	}
	select {
	case a.queue <- j:
		a.queued.Add(1)
		return true
	default:
		return false
	}
}

func (a *Alerter) drop(k catKey, msg string) {
	n := a.dropped.Add(1)
	if a.cfg.Stats != nil {
		a.cfg.Stats.SentryEvent(k.source, k.reason, StatusDropped)
	}
	a.log.Warn(msg, "source", k.source, "reason", k.reason, "field", k.field, "dropped_total", n)
}

// run sends queued events until the queue is closed.
func (a *Alerter) run() {
	defer close(a.done)
	for j := range a.queue {
		if a.abandon.Load() {
			a.drop(j.key, "sentry event abandoned at shutdown")
			continue
		}
		a.send(j)
	}
}

func (a *Alerter) send(j job) {
	if j.firstSeen && a.cfg.Ledger != nil && !a.claim(j) {
		return
	}
	var ev *sentry.Event
	if j.notice != nil {
		ev = noticeEvent(j.notice)
	} else {
		ev = a.event(j)
	}
	a.rt.reset()
	a.hub.CaptureEvent(ev)
	status, detail := a.rt.result()
	switch status {
	case StatusSent:
		a.sent.Add(1)
	case StatusRateLimited:
		n := a.rateLimited.Add(1)
		a.log.Warn("sentry is rate limiting; event dropped", "source", j.key.source, "reason", j.key.reason, "detail", detail, "rate_limited_total", n)
	default:
		status = StatusFailed
		n := a.failed.Add(1)
		a.log.Warn("sentry event not sent", "source", j.key.source, "reason", j.key.reason, "err", detail, "failed_total", n)
	}
	if a.cfg.Stats != nil {
		a.cfg.Stats.SentryEvent(j.key.source, j.key.reason, status)
	}
}

// event builds the Sentry event of one job. Nothing from a redacted path
// leaves unmasked: the payload goes through the source's Redact and the
// details of failures at redacted paths are replaced.
func (a *Alerter) event(j job) *sentry.Event {
	k := j.key
	ev := sentry.NewEvent()
	ev.Level = sentry.LevelError
	if j.outcome != mapper.OutcomeRejected {
		ev.Level = sentry.LevelWarning
	}
	cat := mapper.Category{Reason: k.reason, Field: k.field}.String()
	ev.Message = fmt.Sprintf("%s: %s (rules v%d)", k.source, cat, k.version)
	ev.Fingerprint = []string{k.source, string(k.reason), k.field, strconv.Itoa(k.version)}
	ev.Tags = map[string]string{
		"source":        k.source,
		"reason":        string(k.reason),
		"rules_version": strconv.Itoa(k.version),
		"outcome":       string(j.outcome),
	}
	if k.field != "" {
		ev.Tags["field"] = k.field
	}
	if j.topic != "" {
		ev.Tags["topic"] = j.topic
	}
	failures := make([]map[string]any, 0, len(j.failures))
	for _, f := range j.failures {
		failures = append(failures, map[string]any{
			"reason": string(f.Reason), "field": f.Field, "detail": j.safeDetail(f),
		})
	}
	detail := j.safeDetail(mapper.Failure{Reason: k.reason, Field: j.field, Detail: j.detail})
	if k.field == OtherField {
		detail = "(field beyond the per-source category cap) " + detail
	}
	ev.Contexts = map[string]sentry.Context{
		"record": {
			"topic":     j.topic,
			"partition": j.partition,
			"offset":    j.offset,
			"key":       keyString(j.recordKey),
		},
		"failure": {
			"category":              cat,
			"reason":                string(k.reason),
			"field":                 k.field,
			"detail":                detail,
			"rules_version":         k.version,
			"outcome":               string(j.outcome),
			"first_seen":            j.firstSeen,
			"suppressed_since_last": j.suppressed,
			"interval":              a.cfg.Interval.String(),
			"failures":              failures,
		},
	}
	if j.src != nil {
		ev.Contexts["failure"]["samples"] = "mapper samples show --source " + k.source + " --category " + cat
	}
	if !j.recordTime.IsZero() {
		ev.Contexts["record"]["time"] = j.recordTime.UTC().Format(time.RFC3339Nano)
	}
	if j.src != nil {
		ev.Attachments = []*sentry.Attachment{{
			Filename:    AttachmentName,
			ContentType: "application/json",
			Payload:     j.src.Redact(j.payload),
		}}
	}
	return ev
}

// safeDetail is f's detail as the source's redaction lets it leave the
// process; a record no source claims has no redact paths and its details
// (the topic) quote no payload.
func (j *job) safeDetail(f mapper.Failure) string {
	if j.src == nil {
		return f.Detail
	}
	return j.src.SafeDetail(f)
}

func keyString(k []byte) string {
	if k == nil {
		return ""
	}
	if utf8.Valid(k) {
		return string(k)
	}
	return "base64:" + base64.StdEncoding.EncodeToString(k)
}

// Counts returns what the Alerter did so far.
func (a *Alerter) Counts() Counts {
	if a == nil {
		return Counts{}
	}
	return Counts{
		Queued: a.queued.Load(), Sent: a.sent.Load(), Dropped: a.dropped.Load(),
		RateLimited: a.rateLimited.Load(), Failed: a.failed.Load(),
		Suppressed: a.suppressed.Load(), Capped: a.capped.Load(),
		AlreadyAnnounced: a.announced.Load(),
	}
}

// Close stops taking events, sends the queued ones for at most
// Config.FlushTimeout, abandons the rest and waits for the sending
// goroutine. It is safe to call more than once.
func (a *Alerter) Close() error {
	if a == nil {
		return nil
	}
	a.closeMu.Lock()
	if a.closed {
		a.closeMu.Unlock()
		<-a.done
		return nil
	}
	a.closed = true
	close(a.queue)
	a.closeMu.Unlock()

	t := time.NewTimer(a.cfg.FlushTimeout)
	defer t.Stop()
	select {
	case <-a.done:
	case <-t.C:
		// Sentry is too slow: abort the request in flight, drop the rest.
		a.abandon.Store(true)
		a.abort()
		<-a.done
	}
	a.abort()
	a.hub.Flush(a.cfg.FlushTimeout)
	a.client.Close()
	return nil
}

// recordingTransport is the HTTP round tripper under the SDK's transport. It
// records the fate of the last request, so the sending goroutine knows
// whether its event was sent, and aborts requests when Close gives up.
type recordingTransport struct {
	base  http.RoundTripper
	abort context.Context

	mu     sync.Mutex
	status string
	detail string
}

func (t *recordingTransport) reset() {
	t.mu.Lock()
	t.status, t.detail = "", ""
	t.mu.Unlock()
}

// result returns the last request's status; no request at all means the
// SDK held the event back because Sentry asked it to back off.
func (t *recordingTransport) result() (status, detail string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status == "" {
		return StatusRateLimited, "backing off after a 429"
	}
	return t.status, t.detail
}

func (t *recordingTransport) set(status, detail string) {
	t.mu.Lock()
	t.status, t.detail = status, detail
	t.mu.Unlock()
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(t.abort, cancel)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		stop()
		cancel()
		t.set(StatusFailed, err.Error())
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		t.set(StatusRateLimited, resp.Status)
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		t.set(StatusSent, resp.Status)
	default:
		t.set(StatusFailed, resp.Status)
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: func() { stop(); cancel() }}
	return resp, nil
}

// cancelBody releases the request's context once the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel func()
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

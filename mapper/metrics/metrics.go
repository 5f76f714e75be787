package metrics

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/DataDog/datadog-go/v5/statsd"
	"github.com/mapperhq/mapper/internal/ratelog"
	"github.com/mapperhq/mapper/mapper"
)

// Metric names, without the "mapper." namespace the client prefixes.
const (
	MetricRecords      = "records"
	MetricFailures     = "failures"
	MetricMapDuration  = "map.duration"
	MetricConsumerLag  = "consumer.lag"
	MetricDLQRecords   = "dlq.records"
	MetricSamplesKept  = "samples.kept"
	MetricSentryEvents = "sentry.events"
	MetricFieldCapped  = "failures.field_capped"
	MetricNewCategory  = "failures.new_category"
)

// Namespace prefixes every metric name.
const Namespace = "mapper."

// Tag values used where the record has none of its own.
const (
	// UnknownSource is the source tag of records no source claims.
	UnknownSource = "unknown"
	// NoField is the field tag of failures without a field.
	NoField = "none"
	// OtherField is the field tag of failures whose field is beyond the cap.
	OtherField = "other"
)

// DefaultMaxFieldsPerSource is the default cap on distinct field tag values
// per source.
const DefaultMaxFieldsPerSource = 200

// DefaultMaxSamplesPerContext is the default of Config.MaxSamplesPerContext.
const DefaultMaxSamplesPerContext = 128

// maxTagValue is the longest tag value sent; Datadog truncates tags at 200
// characters, so longer values would merge silently anyway.
const maxTagValue = 150

// Config configures a Client. The zero value sends to localhost:8125 over
// UDP with no constant tags.
type Config struct {
	// Addr is where the DogStatsD agent listens: "host:port" for UDP,
	// "unix:///path/dsd.socket" (or "unixgram://", "unixstream://") for a
	// Unix socket. Empty means "localhost:8125". See AddrFromEnv.
	Addr string
	// Tags are constant tags added to every metric, such as "env:prod". See
	// TagsFromEnv. The Datadog client itself also adds env, service and
	// version from the process's DD_ENV, DD_SERVICE and DD_VERSION; a tag
	// here with one of those keys is dropped when the process variable is
	// set, so that no metric carries the same key twice.
	Tags []string
	// MaxFieldsPerSource caps the distinct field tag values per source.
	// Zero means DefaultMaxFieldsPerSource; negative is invalid.
	MaxFieldsPerSource int
	// AggregationInterval is how often client-side aggregates are flushed.
	// Zero means the Datadog client's default (2s).
	AggregationInterval time.Duration
	// MaxSamplesPerContext bounds the map.duration samples kept per tag set
	// and aggregation interval; beyond it samples are kept at random and sent
	// with their sample rate. Zero means DefaultMaxSamplesPerContext.
	MaxSamplesPerContext int
	// Logger receives rate-limited reports of write errors. Nil means no logging.
	Logger *slog.Logger
	// ErrorLogInterval is the least time between two logged write errors.
	// Zero means one minute.
	ErrorLogInterval time.Duration
}

// Stats counts what the client could not do.
type Stats struct {
	// WriteErrors is the number of datagrams the Datadog client failed to write.
	WriteErrors uint64
	// FieldsCapped is the number of failures whose field was tagged "other".
	FieldsCapped uint64
}

// Client sends mapper's metrics. Its methods are safe for concurrent use;
// a nil *Client does nothing.
type Client struct {
	sd        *statsd.Client
	maxFields int

	mu         sync.RWMutex
	recordTags map[recordKey][]string
	failTags   map[failKey][]string
	fields     map[string]map[string]struct{} // source → field tag values admitted
	simple     map[simpleKey][]string
	candTags   map[candKey][]string

	writeErrors  atomic.Uint64
	fieldsCapped atomic.Uint64
	errLog       *ratelog.Logger
	noAgentOnce  sync.Once
}

type recordKey struct {
	source  string
	version int
	outcome mapper.Outcome
}

type failKey struct {
	source  string
	version int
	reason  mapper.Reason
	field   string
}

type simpleKey struct {
	metric string
	a, b   string
}

// New starts a client that sends to cfg.Addr. It fails on an invalid
// configuration or an address the Datadog client cannot use; an agent that is
// not listening is not an error (datagrams are dropped and counted).
func New(cfg Config) (*Client, error) {
	if cfg.MaxFieldsPerSource < 0 {
		return nil, fmt.Errorf("metrics: MaxFieldsPerSource is %d; want 0 (default %d) or more", cfg.MaxFieldsPerSource, DefaultMaxFieldsPerSource)
	}
	if cfg.MaxFieldsPerSource == 0 {
		cfg.MaxFieldsPerSource = DefaultMaxFieldsPerSource
	}
	if cfg.MaxSamplesPerContext < 0 {
		return nil, fmt.Errorf("metrics: MaxSamplesPerContext is %d; want 0 (default %d) or more", cfg.MaxSamplesPerContext, DefaultMaxSamplesPerContext)
	}
	if cfg.MaxSamplesPerContext == 0 {
		cfg.MaxSamplesPerContext = DefaultMaxSamplesPerContext
	}
	if cfg.AggregationInterval < 0 {
		return nil, fmt.Errorf("metrics: AggregationInterval is %v; want 0 (default) or more", cfg.AggregationInterval)
	}
	if cfg.ErrorLogInterval <= 0 {
		cfg.ErrorLogInterval = time.Minute
	}
	if cfg.Addr == "" {
		cfg.Addr = "localhost:8125"
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Client{
		maxFields:  cfg.MaxFieldsPerSource,
		recordTags: map[recordKey][]string{},
		failTags:   map[failKey][]string{},
		fields:     map[string]map[string]struct{}{},
		simple:     map[simpleKey][]string{},
		candTags:   map[candKey][]string{},
		errLog:     &ratelog.Logger{Logger: logger, Every: cfg.ErrorLogInterval},
	}
	opts := []statsd.Option{
		statsd.WithNamespace(Namespace),
		statsd.WithTags(constantTags(cfg.Tags, os.Getenv)),
		statsd.WithExtendedClientSideAggregation(),
		statsd.WithMaxSamplesPerContext(cfg.MaxSamplesPerContext),
		statsd.WithErrorHandler(func(err error) {
			n := c.writeErrors.Add(1)
			if noAgent(err) {
				// A laptop without an agent: say so once, not every minute.
				c.noAgentOnce.Do(func() {
					logger.Info("no DogStatsD agent is listening; metrics are dropped until one does",
						"addr", cfg.Addr, "error", err,
						"hint", "point DD_AGENT_HOST or DD_DOGSTATSD_URL at an agent, or set --metrics=false (MAPPER_METRICS=false) to send none")
				})
				return
			}
			c.errLog.Warn("dogstatsd write failed; datagrams dropped", "err", err, "write_errors", n)
		}),
	}
	if cfg.AggregationInterval > 0 {
		opts = append(opts, statsd.WithAggregationInterval(cfg.AggregationInterval))
	}
	sd, err := statsd.New(cfg.Addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("metrics: start DogStatsD client for %q: %w", cfg.Addr, err)
	}
	c.sd = sd
	return c, nil
}

// noAgent reports whether err means that nothing listens at the agent's
// address: a refused UDP datagram or a missing Unix socket.
func noAgent(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
}

// constantTags returns tags without the env/service/version tags that the
// Datadog client adds itself from the process environment.
func constantTags(tags []string, getenv func(string) string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		k, _, _ := strings.Cut(t, ":")
		switch {
		case k == "env" && getenv("DD_ENV") != "",
			k == "service" && getenv("DD_SERVICE") != "",
			k == "version" && getenv("DD_VERSION") != "":
			continue
		}
		out = append(out, t)
	}
	return out
}

// Observe counts one mapped record: mapper.records by outcome, one
// mapper.failures per failure, and its mapping time as mapper.map.duration.
// src is nil for a record no source claims. It keeps nothing of its
// arguments.
func (c *Client) Observe(origin *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, took time.Duration) {
	if c == nil || res == nil {
		return
	}
	k := keyOf(src, res)
	rtags := c.recordTagsFor(k)
	_ = c.sd.Count(MetricRecords, 1, rtags, 1)
	for i := range res.Failures {
		f := &res.Failures[i]
		_ = c.sd.Count(MetricFailures, 1, c.failTagsFor(k.source, k.version, f.Reason, f.Field, 1), 1)
	}
	c.mapDuration(rtags, took)
}

// keyOf is the record tags' key of a result of src (nil: no source).
func keyOf(src *mapper.Source, res *mapper.Result) recordKey {
	if src == nil {
		return recordKey{UnknownSource, 0, res.Outcome}
	}
	return recordKey{src.Name(), src.Version(), res.Outcome}
}

// mapDuration sends one record's mapping time, given its record tags. The
// duration shares them but the version, which adds nothing to a latency
// graph: rtags[0] is source, rtags[2] outcome.
func (c *Client) mapDuration(rtags []string, took time.Duration) {
	_ = c.sd.Distribution(MetricMapDuration, took.Seconds(), c.simpleTags(MetricMapDuration, rtags[0], rtags[2]), 1)
}

// Batch counts the records one mapping goroutine maps, to send
// mapper.records and mapper.failures once per Flush, one count per tag set,
// instead of once per record; mapper.map.duration still gets every
// record's time. Not safe for concurrent use: one per goroutine. The
// counts on the wire are the same as Observe's: the client aggregates
// those too before it sends them.
type Batch struct {
	c        *Client
	records  map[recordKey]int64
	failures map[failKey]int64
}

// NewBatch returns a Batch that sends through c (a nil c: one that does
// nothing).
func (c *Client) NewBatch() *Batch {
	return &Batch{c: c, records: map[recordKey]int64{}, failures: map[failKey]int64{}}
}

// Observe counts one mapped record as Client.Observe does, sending its
// counts at the next Flush.
func (b *Batch) Observe(origin *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, took time.Duration) {
	if b.c == nil || res == nil {
		return
	}
	k := keyOf(src, res)
	b.records[k]++
	for i := range res.Failures {
		f := &res.Failures[i]
		b.failures[failKey{k.source, k.version, f.Reason, f.Field}]++
	}
	b.c.mapDuration(b.c.recordTagsFor(k), took)
}

// Flush sends the counts observed since the last Flush.
func (b *Batch) Flush() {
	if b.c == nil {
		return
	}
	for k, n := range b.records {
		_ = b.c.sd.Count(MetricRecords, n, b.c.recordTagsFor(k), 1)
	}
	for k, n := range b.failures {
		_ = b.c.sd.Count(MetricFailures, n, b.c.failTagsFor(k.source, k.version, k.reason, k.field, n), 1)
	}
	clear(b.records)
	clear(b.failures)
}

// ConsumerLag sets the consumer lag gauge of one partition, in records.
func (c *Client) ConsumerLag(topic string, partition int, lag int64) {
	if c == nil {
		return
	}
	_ = c.sd.Gauge(MetricConsumerLag, float64(lag), c.simpleTags(MetricConsumerLag, "topic:"+tagValue(topic), "partition:"+strconv.Itoa(partition)), 1)
}

// DLQRecord counts one record written to the dead-letter topic.
func (c *Client) DLQRecord(source string) { c.DLQRecords(source, 1) }

// DLQRecords counts n records of source whose write to the dead-letter
// topic the brokers acknowledged.
func (c *Client) DLQRecords(source string, n int) {
	if c == nil || n <= 0 {
		return
	}
	_ = c.sd.Count(MetricDLQRecords, int64(n), c.simpleTags(MetricDLQRecords, "source:"+sourceTag(source), ""), 1)
}

// SampleKept counts one sample kept; reason is empty for a clean record.
func (c *Client) SampleKept(source string, reason mapper.Reason) {
	if c == nil {
		return
	}
	_ = c.sd.Count(MetricSamplesKept, 1, c.simpleTags(MetricSamplesKept, "source:"+sourceTag(source), "reason:"+reasonTag(reason)), 1)
}

// SentryEvent counts one Sentry event of a failure category by what became
// of it (status: "sent", "dropped", "rate_limited", "failed").
func (c *Client) SentryEvent(source string, reason mapper.Reason, status string) {
	if c == nil {
		return
	}
	tags := c.simpleTags(MetricSentryEvents, "source:"+sourceTag(source), "reason:"+reasonTag(reason))
	_ = c.sd.Count(MetricSentryEvents, 1, append(tags[:2:2], "status:"+tagValue(status)), 1)
}

// Stats returns what the client dropped or capped so far.
func (c *Client) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	return Stats{WriteErrors: c.writeErrors.Load(), FieldsCapped: c.fieldsCapped.Load()}
}

// Telemetry returns the Datadog client's own telemetry (what it sent and
// dropped), the same figures it reports as datadog.dogstatsd.client.*.
func (c *Client) Telemetry() statsd.Telemetry {
	if c == nil {
		return statsd.Telemetry{}
	}
	return c.sd.GetTelemetry()
}

// Flush sends every aggregate and buffered datagram now.
func (c *Client) Flush() error {
	if c == nil {
		return nil
	}
	if err := c.sd.Flush(); err != nil {
		return fmt.Errorf("metrics: flush: %w", err)
	}
	return nil
}

// Close flushes and stops the client's goroutines. Methods called after
// Close do nothing.
func (c *Client) Close() error {
	if c == nil {
		return nil
	}
	if err := c.sd.Close(); err != nil {
		return fmt.Errorf("metrics: close: %w", err)
	}
	return nil
}

func (c *Client) recordTagsFor(k recordKey) []string {
	c.mu.RLock()
	tags, ok := c.recordTags[k]
	c.mu.RUnlock()
	if ok {
		return tags
	}
	tags = []string{
		"source:" + sourceTag(k.source),
		"rules_version:" + strconv.Itoa(k.version),
		"outcome:" + tagValue(string(k.outcome)),
	}
	c.mu.Lock()
	c.recordTags[k] = tags
	c.mu.Unlock()
	return tags
}

// failTagsFor returns the tags of one failure, admitting its field into the
// source's bounded set of field values or tagging it "other".
func (c *Client) failTagsFor(source string, version int, reason mapper.Reason, field string, n int64) []string {
	k := failKey{source, version, reason, field}
	c.mu.RLock()
	tags, ok := c.failTags[k]
	c.mu.RUnlock()
	if ok {
		return tags
	}
	ftag := NoField
	if field != "" {
		ftag = tagValue(field)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if tags, ok := c.failTags[k]; ok {
		return tags
	}
	set := c.fields[source]
	if set == nil {
		set = map[string]struct{}{}
		c.fields[source] = set
	}
	if _, known := set[ftag]; !known {
		if len(set) >= c.maxFields {
			// Beyond the cap: count it and use the shared "other" tags,
			// without remembering this field (that would grow without bound).
			c.fieldsCapped.Add(uint64(n))
			_ = c.sd.Count(MetricFieldCapped, n, []string{"source:" + sourceTag(source)}, 1)
			k.field = "\x00other"
			if tags, ok := c.failTags[k]; ok {
				return tags
			}
			ftag = OtherField
		} else {
			set[ftag] = struct{}{}
		}
	}
	tags = []string{
		"source:" + sourceTag(source),
		"rules_version:" + strconv.Itoa(version),
		"reason:" + reasonTag(reason),
		"field:" + ftag,
	}
	c.failTags[k] = tags
	// First failure of this category (source, rules version, reason, field)
	// since the process started.
	_ = c.sd.Count(MetricNewCategory, 1, tags[:3:3], 1)
	return tags
}

// simpleTags returns the cached slice {a, b} (or {a} when b is empty) for
// one metric. Callers must not modify it; a full slice expression guards
// appends.
func (c *Client) simpleTags(metric, a, b string) []string {
	k := simpleKey{metric, a, b}
	c.mu.RLock()
	tags, ok := c.simple[k]
	c.mu.RUnlock()
	if ok {
		return tags
	}
	if b == "" {
		tags = []string{a}
	} else {
		tags = []string{a, b}
	}
	tags = tags[:len(tags):len(tags)]
	c.mu.Lock()
	c.simple[k] = tags
	c.mu.Unlock()
	return tags
}

func sourceTag(s string) string {
	if s == "" {
		return UnknownSource
	}
	return tagValue(s)
}

func reasonTag(r mapper.Reason) string {
	if r == "" {
		return NoField
	}
	return tagValue(string(r))
}

// tagValue makes s safe as a DogStatsD tag value: characters that would
// break the datagram (",", "|", "#", spaces, control characters) and any
// other that Datadog does not keep become "_", and it is cut at maxTagValue
// bytes. Normalised field paths ("items[].sku") pass unchanged; Datadog
// itself shows "[" and "]" as "_".
func tagValue(s string) string {
	clean := true
	for _, r := range s {
		if !tagRune(r) {
			clean = false
			break
		}
	}
	if clean && len(s) <= maxTagValue {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !tagRune(r) {
			r = '_'
		}
		if b.Len()+utf8.RuneLen(r) > maxTagValue {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

func tagRune(r rune) bool {
	switch r {
	case '_', '-', '.', ':', '/', '[', ']':
		return true
	}
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

package stream

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/mapper"
)

// Header names the worker adds. Output records carry the source, rules
// version, outcome, origin headers and one HeaderFailure per failure (for
// degraded records). Dead-letter records carry the original headers first,
// unchanged, then all of these plus HeaderFailureDetail and HeaderDeadLetteredAt.
const (
	// HeaderSource is the source's name; absent when no source claims the topic.
	HeaderSource = "mapper.source"
	// HeaderRulesVersion is the source's rules version, decimal; absent when
	// no source claims the topic.
	HeaderRulesVersion = "mapper.rules_version"
	// HeaderOutcome is mapped, degraded or rejected.
	HeaderOutcome = "mapper.outcome"
	// HeaderFailure is one failure category, "reason" or "reason:field";
	// repeated once per failure, in the result's order.
	HeaderFailure = "mapper.failure"
	// HeaderFailureDetail is the short detail of the failure at the same
	// position among the HeaderFailure headers (dead-letter records only).
	HeaderFailureDetail = "mapper.failure_detail"
	// HeaderOriginTopic, HeaderOriginPartition and HeaderOriginOffset say
	// where the input record was read.
	HeaderOriginTopic     = "mapper.origin_topic"
	HeaderOriginPartition = "mapper.origin_partition"
	HeaderOriginOffset    = "mapper.origin_offset"
	// HeaderOriginTime is the input record's timestamp, RFC 3339 with
	// nanoseconds, UTC (dead-letter records only).
	HeaderOriginTime = "mapper.origin_time"
	// HeaderDeadLetteredAt is when the record was dead-lettered, RFC 3339
	// with nanoseconds, UTC.
	HeaderDeadLetteredAt = "mapper.dead_lettered_at"
)

// outputMessage builds the output record of a delivered result: the input
// key, the domain record as value, and the worker's headers. The value, the
// header values and the headers come from a (one allocation for many
// records).
func outputMessage(a *recordArena, in *kafka.Message, src *mapper.Source, res *mapper.Result, prefix []byte) kafka.Message {
	h := a.headers(6 + len(res.Failures))
	buf := a.bytes(len(prefix) + len(res.Output) + commonHeadersLen(in, src, res))
	buf = append(buf, prefix...)
	buf = append(buf, res.Output...)
	var value []byte // nil for an empty output, as before
	if len(buf) > 0 {
		value = buf[:len(buf):len(buf)]
	}
	h, _ = appendCommonHeaders(h, buf[len(buf):], in, src, res)
	return kafka.Message{Key: in.Key, Value: value, Headers: h}
}

// timeLen is room for a UTC time in RFC 3339 with nanoseconds.
const timeLen = len("2006-01-02T15:04:05.999999999Z")

// deadLetterMessage builds the dead-letter record of a rejected result: the
// original key, value and headers, byte for byte, followed by the worker's
// headers saying why. The worker's header values and the headers come from
// a.
func deadLetterMessage(a *recordArena, in *kafka.Message, src *mapper.Source, res *mapper.Result, now time.Time, tt *timeTexts) kafka.Message {
	h := a.headers(len(in.Headers) + 8 + 2*len(res.Failures))
	h = append(h, in.Headers...)
	n := commonHeadersLen(in, src, res) + 2*timeLen
	for i := range res.Failures {
		n += len(res.Failures[i].Detail)
	}
	h, buf := appendCommonHeaders(h, a.bytes(n), in, src, res)
	for i := range res.Failures {
		start := len(buf)
		buf = append(buf, res.Failures[i].Detail...)
		h = append(h, kafka.Header{Key: HeaderFailureDetail, Value: buf[start:len(buf):len(buf)]})
	}
	start := len(buf)
	buf = append(buf, tt.origin.of(in.Time)...)
	h = append(h, kafka.Header{Key: HeaderOriginTime, Value: buf[start:len(buf):len(buf)]})
	start = len(buf)
	buf = append(buf, tt.at.of(now)...)
	h = append(h, kafka.Header{Key: HeaderDeadLetteredAt, Value: buf[start:len(buf):len(buf)]})
	return kafka.Message{Key: in.Key, Value: in.Value, Headers: h}
}

// timeTexts are the last times a mapping goroutine wrote into dead-letter
// headers, kept as text: a batch's dead letters share their time, and the
// records of one producer batch often their origin time.
type timeTexts struct{ origin, at timeText }

// timeText is a time and its text, UTC in RFC 3339 with nanoseconds.
type timeText struct {
	t    time.Time
	text []byte
	ok   bool
}

// of returns t as text, formatted only when t is not the last time asked
// for; the text is valid until the next call.
func (c *timeText) of(t time.Time) []byte {
	if !c.ok || !t.Equal(c.t) {
		c.t, c.ok = t, true
		c.text = t.UTC().AppendFormat(c.text[:0], time.RFC3339Nano)
	}
	return c.text
}

// commonHeadersLen is room for the values appendCommonHeaders appends.
func commonHeadersLen(in *kafka.Message, src *mapper.Source, res *mapper.Result) int {
	n := len(in.Topic) + len(res.Outcome) + 48
	if src != nil {
		n += len(src.Name()) + 20
	}
	for i := range res.Failures {
		n += len(res.Failures[i].Reason) + len(res.Failures[i].Field) + 1
	}
	return n
}

// appendCommonHeaders appends the headers output and dead-letter records
// share, their values appended to buf (sized by commonHeadersLen not to
// move; were it to, the values taken before stay valid), and returns both.
func appendCommonHeaders(h []kafka.Header, buf []byte, in *kafka.Message, src *mapper.Source, res *mapper.Result) ([]kafka.Header, []byte) {
	// value is what was appended to buf since start.
	value := func(start int) []byte { return buf[start:len(buf):len(buf)] }
	if src != nil {
		start := len(buf)
		buf = append(buf, src.Name()...)
		h = append(h, kafka.Header{Key: HeaderSource, Value: value(start)})
		start = len(buf)
		buf = strconv.AppendInt(buf, int64(src.Version()), 10)
		h = append(h, kafka.Header{Key: HeaderRulesVersion, Value: value(start)})
	}
	start := len(buf)
	buf = append(buf, res.Outcome...)
	h = append(h, kafka.Header{Key: HeaderOutcome, Value: value(start)})
	for i := range res.Failures {
		f := &res.Failures[i]
		start = len(buf)
		buf = append(buf, f.Reason...)
		if f.Field != "" {
			buf = append(append(buf, ':'), f.Field...)
		}
		h = append(h, kafka.Header{Key: HeaderFailure, Value: value(start)})
	}
	start = len(buf)
	buf = append(buf, in.Topic...)
	h = append(h, kafka.Header{Key: HeaderOriginTopic, Value: value(start)})
	start = len(buf)
	buf = strconv.AppendInt(buf, int64(in.Partition), 10)
	h = append(h, kafka.Header{Key: HeaderOriginPartition, Value: value(start)})
	start = len(buf)
	buf = strconv.AppendInt(buf, in.Offset, 10)
	return append(h, kafka.Header{Key: HeaderOriginOffset, Value: value(start)}), buf
}

// workerHeaders are the headers the worker adds; every other header of a
// dead-letter record is one of the original record's.
var workerHeaders = []string{
	HeaderSource, HeaderRulesVersion, HeaderOutcome, HeaderFailure, HeaderFailureDetail,
	HeaderOriginTopic, HeaderOriginPartition, HeaderOriginOffset, HeaderOriginTime, HeaderDeadLetteredAt,
}

// IsWorkerHeader reports whether a header name is one the worker adds.
func IsWorkerHeader(k string) bool { return slices.Contains(workerHeaders, k) }

// DeadLetter is a dead-letter record read back: the original record and
// what the worker's headers say about it.
type DeadLetter struct {
	// Key, Value and Headers are the original record's, byte for byte
	// (nil where it had null); Headers excludes the worker's.
	Key, Value []byte
	Headers    []kafka.Header
	// Source and RulesVersion say which rules rejected it; Source is empty
	// when no source claimed its topic.
	Source       string
	RulesVersion int
	// Failures are the result's failures, in order, with their details.
	Failures []mapper.Failure
	// OriginTopic, OriginPartition, OriginOffset and OriginTime say where
	// and when the original record was read.
	OriginTopic     string
	OriginPartition int
	OriginOffset    int64
	OriginTime      time.Time
	// DeadLetteredAt is when it was dead-lettered.
	DeadLetteredAt time.Time
}

// ParseDeadLetter reads a dead-letter record as deadLetterMessage wrote it.
// A header that is missing or malformed leaves its field zero.
func ParseDeadLetter(m kafka.Message) DeadLetter {
	d := DeadLetter{Key: m.Key, Value: m.Value}
	var details []string
	for _, h := range m.Headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderSource:
			d.Source = v
		case HeaderRulesVersion:
			d.RulesVersion, _ = strconv.Atoi(v)
		case HeaderFailure:
			reason, field, _ := strings.Cut(v, ":")
			d.Failures = append(d.Failures, mapper.Failure{Reason: mapper.Reason(reason), Field: field})
		case HeaderFailureDetail:
			details = append(details, v)
		case HeaderOriginTopic:
			d.OriginTopic = v
		case HeaderOriginPartition:
			d.OriginPartition, _ = strconv.Atoi(v)
		case HeaderOriginOffset:
			d.OriginOffset, _ = strconv.ParseInt(v, 10, 64)
		case HeaderOriginTime:
			d.OriginTime, _ = time.Parse(time.RFC3339Nano, v)
		case HeaderDeadLetteredAt:
			d.DeadLetteredAt, _ = time.Parse(time.RFC3339Nano, v)
		case HeaderOutcome:
		default:
			d.Headers = append(d.Headers, h)
		}
	}
	for i := range d.Failures {
		if i < len(details) {
			d.Failures[i].Detail = details[i]
		}
	}
	return d
}

// recordArena hands out the values and headers of built records from
// shared chunks, one allocation for many records. Each slice it returns
// has exactly the capacity asked for, so that an append past it moves the
// slice rather than overwrite a neighbour's. Without a pool, a chunk lives
// as long as one record cut from it. With one, chunks come from the pool
// and are listed until handOff, whose caller gives them back once no
// record cut from them is read any more. Not safe for concurrent use: one
// per mapping goroutine.
type recordArena struct {
	buf  []byte
	hdrs []kafka.Header
	pool *arenaPool
	// taken lists the chunks taken from pool since the last handOff.
	taken arenaChunks
}

const (
	arenaBytes   = 32 << 10
	arenaHeaders = 512
)

// bytes returns an empty slice of capacity n.
func (a *recordArena) bytes(n int) []byte {
	if n > arenaBytes/4 {
		return make([]byte, 0, n)
	}
	if cap(a.buf)-len(a.buf) < n {
		a.buf = a.pool.bytes()
		if a.pool != nil {
			a.taken.bufs = append(a.taken.bufs, a.buf)
		}
	}
	l := len(a.buf)
	a.buf = a.buf[:l+n]
	return a.buf[l : l : l+n]
}

// headers returns an empty slice of capacity n.
func (a *recordArena) headers(n int) []kafka.Header {
	if n > arenaHeaders/4 {
		return make([]kafka.Header, 0, n)
	}
	if cap(a.hdrs)-len(a.hdrs) < n {
		a.hdrs = a.pool.headers()
		if a.pool != nil {
			a.taken.hdrs = append(a.taken.hdrs, a.hdrs)
		}
	}
	l := len(a.hdrs)
	a.hdrs = a.hdrs[:l+n]
	return a.hdrs[l : l : l+n]
}

// handOff returns the chunks taken since the last handOff; the next
// record is cut from a new chunk.
func (a *recordArena) handOff() arenaChunks {
	t := a.taken
	a.taken = arenaChunks{}
	a.buf, a.hdrs = nil, nil
	return t
}

// arenaChunks are chunks of a recordArena.
type arenaChunks struct {
	bufs [][]byte
	hdrs [][]kafka.Header
}

// arenaPool keeps chunks given back for the arenas to use again, up to
// arenaPoolChunks of each kind (more are left to the collector). Safe for
// concurrent use; a nil *arenaPool makes new chunks only.
type arenaPool struct {
	bufs chan []byte
	hdrs chan []kafka.Header
}

// arenaPoolChunks bounds the chunks an arenaPool keeps of each kind
// (8 MiB of bytes, 5 MiB of headers).
const arenaPoolChunks = 256

func newArenaPool() *arenaPool {
	return &arenaPool{bufs: make(chan []byte, arenaPoolChunks), hdrs: make(chan []kafka.Header, arenaPoolChunks)}
}

func (p *arenaPool) bytes() []byte {
	if p != nil {
		select {
		case b := <-p.bufs:
			return b[:0]
		default:
		}
	}
	return make([]byte, 0, arenaBytes)
}

func (p *arenaPool) headers() []kafka.Header {
	if p != nil {
		select {
		case h := <-p.hdrs:
			return h[:0]
		default:
		}
	}
	return make([]kafka.Header, 0, arenaHeaders)
}

// put gives c's chunks back. Header chunks are cleared first, so that the
// pool holds no record's bytes alive.
func (p *arenaPool) put(c arenaChunks) {
	for _, b := range c.bufs {
		select {
		case p.bufs <- b:
		default:
		}
	}
	for _, h := range c.hdrs {
		clear(h[:cap(h)])
		select {
		case p.hdrs <- h:
		default:
		}
	}
}

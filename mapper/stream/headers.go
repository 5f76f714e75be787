package stream

import (
	"encoding/binary"
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

// outputMessage builds into m the output record of a delivered result: the
// input key, the domain record as value, and the worker's headers, encoded
// into e as it goes (see encoded), cut from a (one allocation for many
// records). It writes m in place, not a copy of it: a record is 152 bytes.
// The record's key and value are slices of e.body; its headers are read
// from there when asked for (headersOf), which only a record that failed
// to be written is.
func outputMessage(m *kafka.Message, a *recordArena, in *kafka.Message, src *mapper.Source, res *mapper.Result, prefix []byte, ht *headerTexts, e *encoded) {
	nh := commonHeaders(src, res)
	r := newRecordBuilder(a, len(in.Key)+len(prefix)+len(res.Output)+commonHeadersLen(in, src, res)+headerRoom*(nh+3))
	key := r.nullBytes(in.Key)
	var value []byte // nil for an empty output, as before
	if n := len(prefix) + len(res.Output); n > 0 {
		start := r.lenPrefix(n)
		r.b = append(append(r.b, prefix...), res.Output...)
		value = r.b[start:len(r.b):len(r.b)]
	} else {
		r.b = binary.AppendVarint(r.b, -1)
	}
	r.b = binary.AppendVarint(r.b, int64(nh))
	r.commonHeaders(in, src, res, ht)
	r.message(m, key, value, 0, e)
	a.trim(r.b)
}

// timeLen is room for a UTC time in RFC 3339 with nanoseconds.
const timeLen = len("2006-01-02T15:04:05.999999999Z")

// deadLetterMessage builds into m the dead-letter record of a rejected
// result: the original key, value and headers, byte for byte, followed by
// the worker's headers saying why, encoded into e as it goes (see encoded),
// cut from a.
// The record's key is a slice of the encoding; its value is the original
// value itself, not copied (the encoding sets it apart), and must stay
// unchanged until the record is answered. Its headers are read from the
// encoding when asked for (headersOf).
func deadLetterMessage(m *kafka.Message, a *recordArena, in *kafka.Message, src *mapper.Source, res *mapper.Result, now time.Time, ht *headerTexts, e *encoded) {
	nh := len(in.Headers) + commonHeaders(src, res) + len(res.Failures) + 2
	n := len(in.Key) + commonHeadersLen(in, src, res) + 2*timeLen + headerRoom*(nh+3)
	for i := range in.Headers {
		n += len(in.Headers[i].Key) + len(in.Headers[i].Value)
	}
	for i := range res.Failures {
		n += len(res.Failures[i].Detail)
	}
	r := newRecordBuilder(a, n)
	key := r.nullBytes(in.Key)
	value, apart := r.valueApart(in.Value)
	r.b = binary.AppendVarint(r.b, int64(nh))
	for _, h := range in.Headers {
		r.header(h.Key, h.Value)
	}
	r.commonHeaders(in, src, res, ht)
	for i := range res.Failures {
		r.text(HeaderFailureDetail, res.Failures[i].Detail)
	}
	r.header(HeaderOriginTime, ht.origin.of(in.Time))
	r.header(HeaderDeadLetteredAt, ht.at.of(now))
	r.message(m, key, value, apart, e)
	a.trim(r.b)
}

// headerTexts are what a mapping scratch keeps, encoded, of the headers it
// last wrote: the records of a batch share their source, rules version and
// origin topic and partition, most their outcome, its dead letters their
// time, and the records of one producer batch often their origin time.
type headerTexts struct {
	origin, at timeText
	// head is the source, rules version and outcome headers of src and
	// outcome; tail the origin topic and partition headers of topic and
	// partition. Each is written again when they change.
	src       *mapper.Source
	outcome   mapper.Outcome
	head      []byte
	topic     string
	partition int
	tail      []byte
}

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

// commonHeaders is how many headers commonHeaders writes.
func commonHeaders(src *mapper.Source, res *mapper.Result) int {
	n := 4 + len(res.Failures)
	if src != nil {
		n += 2
	}
	return n
}

// commonHeadersLen is room for the values commonHeaders writes.
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

// headerRoom is room for a header's key (the worker's are at most 23
// bytes) and both its varints; a key of the original record's is counted
// with its value.
const headerRoom = 24 + 2*binary.MaxVarintLen32

// recordBuilder writes a built record's encoding (encoded) in one pass:
// each value is written once, into the encoding, and the record's key and
// value point there (a dead letter's value is set apart instead). b is cut
// with room for the whole record, so it does not move; were it to, the
// slices taken before stay valid.
type recordBuilder struct{ b []byte }

// newRecordBuilder starts a record of up to n bytes of encoding, cut from a.
func newRecordBuilder(a *recordArena, n int) recordBuilder {
	return recordBuilder{b: a.bytes(n)}
}

// valueApart writes the length of a non-empty v and sets v apart: the
// encoding goes on after it, and v is not copied. It returns v (capacity
// cut to its length) and where the encoding goes on, or for a null or
// empty v writes it as nullBytes does and returns 0.
func (r *recordBuilder) valueApart(v []byte) ([]byte, int) {
	if len(v) == 0 {
		return r.nullBytes(v), 0
	}
	return v[:len(v):len(v)], r.lenPrefix(len(v))
}

// nullBytes writes v as nullable bytes and returns their slice of b (nil
// for nil v, empty for empty v).
func (r *recordBuilder) nullBytes(v []byte) []byte {
	if v == nil {
		r.b = binary.AppendVarint(r.b, -1)
		return nil
	}
	start := r.lenPrefix(len(v))
	r.b = append(r.b, v...)
	return r.b[start:len(r.b):len(r.b)]
}

// lenPrefix writes the varint length n and returns where the bytes start.
func (r *recordBuilder) lenPrefix(n int) int {
	r.b = binary.AppendVarint(r.b, int64(n))
	return len(r.b)
}

// header writes a header of value v (nil stays null).
func (r *recordBuilder) header(key string, v []byte) {
	r.b = binary.AppendVarint(r.b, int64(len(key)))
	r.b = append(r.b, key...)
	r.nullBytes(v)
}

// text writes a header of value v.
func (r *recordBuilder) text(key, v string) {
	r.b = binary.AppendVarint(r.b, int64(len(key)))
	r.b = append(r.b, key...)
	r.lenPrefix(len(v))
	r.b = append(r.b, v...)
}

// begin starts a header whose value, of a length not known yet, is
// appended to r.b next: up to 63 bytes long as a rule (end makes room for
// a longer one). It returns where the value starts.
func (r *recordBuilder) begin(key string) int {
	r.b = binary.AppendVarint(r.b, int64(len(key)))
	r.b = append(r.b, key...)
	r.b = append(r.b, 0) // the value's length, one byte below 64
	return len(r.b)
}

// end ends the header begun at start: it writes the value's length before
// it, moving a value of 64 bytes or more up to make room for its longer
// varint.
func (r *recordBuilder) end(start int) {
	n := len(r.b) - start
	if extra := int(varintLen(int64(n))) - 1; extra > 0 {
		r.b = append(r.b, make([]byte, extra)...)
		copy(r.b[start+extra:], r.b[start:start+n])
		binary.PutVarint(r.b[start-1:], int64(n))
	} else {
		r.b[start-1] = byte(n << 1)
	}
}

// commonHeaders writes the headers output and dead-letter records share:
// those that do not change from record to record copied from ht (written
// there first when they do change).
func (r *recordBuilder) commonHeaders(in *kafka.Message, src *mapper.Source, res *mapper.Result, ht *headerTexts) {
	if ht.head == nil || ht.src != src || ht.outcome != res.Outcome {
		h := recordBuilder{b: ht.head[:0]}
		if src != nil {
			h.text(HeaderSource, src.Name())
			start := h.begin(HeaderRulesVersion)
			h.b = strconv.AppendInt(h.b, int64(src.Version()), 10)
			h.end(start)
		}
		h.text(HeaderOutcome, string(res.Outcome))
		ht.head, ht.src, ht.outcome = h.b, src, res.Outcome
	}
	r.b = append(r.b, ht.head...)
	for i := range res.Failures {
		f := &res.Failures[i]
		start := r.begin(HeaderFailure)
		r.b = append(r.b, f.Reason...)
		if f.Field != "" {
			r.b = append(append(r.b, ':'), f.Field...)
		}
		r.end(start)
	}
	if ht.tail == nil || ht.topic != in.Topic || ht.partition != in.Partition {
		t := recordBuilder{b: ht.tail[:0]}
		t.text(HeaderOriginTopic, in.Topic)
		start := t.begin(HeaderOriginPartition)
		t.b = strconv.AppendInt(t.b, int64(in.Partition), 10)
		t.end(start)
		ht.tail, ht.topic, ht.partition = t.b, in.Topic, in.Partition
	}
	r.b = append(r.b, ht.tail...)
	start := r.begin(HeaderOriginOffset)
	r.b = strconv.AppendInt(r.b, in.Offset, 10)
	r.end(start)
}

// message makes m the record built, its encoding in e (its WriterData):
// all of r.b, or when apart is not 0, r.b up to apart, the value set apart
// and r.b after it.
func (r *recordBuilder) message(m *kafka.Message, key, value []byte, apart int, e *encoded) {
	*e = encoded{body: r.b[:len(r.b):len(r.b)]}
	if apart > 0 {
		e.body, e.value, e.tail = r.b[:apart:apart], value, r.b[apart:len(r.b):len(r.b)]
	}
	e.size = recordFixed + int64(len(key)+len(value)) + int64(e.bodyLen()) - nullBytesLen(key) - nullBytesLen(value)
	*m = kafka.Message{}
	m.Key, m.Value, m.WriterData = key, value, e
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

// recordArena hands out the bytes of built records (their encodings) from
// shared chunks, one allocation for many records. Each slice it returns
// has exactly the capacity asked for, so that an append past it moves the
// slice rather than overwrite a neighbour's. Without a pool, a chunk lives
// as long as one record cut from it. With one, chunks come from the pool
// and are listed until handOff, whose caller gives them back once no
// record cut from them is read any more. Not safe for concurrent use: one
// per mapping goroutine.
type recordArena struct {
	buf  []byte
	pool *arenaPool
	// taken lists the chunks taken from pool since the last handOff.
	taken arenaChunks
}

const arenaBytes = 32 << 10

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

// trim gives back the room that the last slice bytes returned was cut
// with and its record did not use: b is that slice as written (a slice
// moved out of the arena by an append, or one not from it, is left).
// Records then lie next to each other in the chunk, as they are read.
func (a *recordArena) trim(b []byte) {
	if c := cap(b); c > 0 && len(a.buf) >= c && &b[:1][0] == &a.buf[len(a.buf)-c] {
		a.buf = a.buf[:len(a.buf)-(c-len(b))]
	}
}

// handOff returns the chunks taken since the last handOff; the next
// record is cut from a new chunk.
func (a *recordArena) handOff() arenaChunks {
	t := a.taken
	a.taken = arenaChunks{}
	a.buf = nil
	return t
}

// arenaChunks are chunks of a recordArena.
type arenaChunks struct{ bufs [][]byte }

// arenaPool keeps chunks given back for the arenas to use again, up to
// arenaPoolChunks (more are left to the collector). Safe for concurrent
// use; a nil *arenaPool makes new chunks only.
type arenaPool struct{ bufs chan []byte }

// arenaPoolChunks bounds the chunks an arenaPool keeps (8 MiB).
const arenaPoolChunks = 256

func newArenaPool() *arenaPool { return &arenaPool{bufs: make(chan []byte, arenaPoolChunks)} }

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

// put gives c's chunks back.
func (p *arenaPool) put(c arenaChunks) {
	for _, b := range c.bufs {
		select {
		case p.bufs <- b:
		default:
		}
	}
}

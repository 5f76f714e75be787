package samples

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/mapperhq/mapper/mapper"
)

// Defaults of ShapeConfig.
const (
	DefaultShapeGroups       = 64
	DefaultShapePaths        = 256
	DefaultShapeKeyBytes     = 64
	DefaultShapeDepth        = 8
	DefaultShapeArrayItems   = 16
	DefaultShapeHeaders      = 32
	DefaultShapeValueBytes   = 64
	DefaultShapePayloadBytes = 1 << 20
	DefaultShapeKeyRecords   = 3
)

// ShapesFile is the file of the unrouted records' structural profiles,
// relative to the samples directory.
const ShapesFile = "unrouted.shapes.json"

// OtherKey stands in a profile's paths for an object key that is not
// shaped like a field name (see ShapeConfig.MaxKeyBytes): such keys are
// often data themselves (an address or an id used as a key), so they are
// never kept.
const OtherKey = "*"

// ShapeConfig bounds the structural profiles the store keeps of records
// no source accepts (see Shapes). Every zero value means the default named
// on the field.
type ShapeConfig struct {
	// RoutingHeaders names the headers whose values are kept with the
	// profile (matched without regard to case): the headers some source's
	// accept predicates read (mapper.Engine.RoutingHeaders). Records are
	// profiled per topic and values of these headers. A header's value
	// names what a record is (X-GitHub-Event: push), as the rules that
	// route on it spell it, not what it holds: it is the discriminator a
	// new source or a widened accept list would test. Nil keeps none:
	// records are profiled per topic alone. Set once, at Open; a reload
	// of the rules does not change it.
	RoutingHeaders []string
	// MaxGroups caps the groups (topic and routing values) profiled; the
	// records of further groups are counted in Shapes.GroupsDropped only.
	// Zero means DefaultShapeGroups; negative keeps no profile at all.
	MaxGroups int
	// MaxPaths caps the paths of one group; a value at a further new path
	// is counted in ShapeGroup.PathsDropped and its contents are not
	// walked. Zero means DefaultShapePaths.
	MaxPaths int
	// MaxKeyBytes is the longest object key kept in a path; a longer key,
	// or one not shaped like a field name (ASCII letters, digits, '_', '-'
	// and '$', starting with a letter, '_', '$' or '@'), is written
	// OtherKey. It also caps header names. Zero means DefaultShapeKeyBytes.
	MaxKeyBytes int
	// MaxDepth is the deepest nesting described: the contents of an object
	// or array at this depth (the payload's own keys are at depth 1) are
	// not walked, and counted in ShapeGroup.TooDeep. Zero means
	// DefaultShapeDepth.
	MaxDepth int
	// MaxArrayItems is how many elements of each array are walked; the
	// rest are counted in ShapeGroup.ItemsSkipped. Zero means
	// DefaultShapeArrayItems.
	MaxArrayItems int
	// MaxHeaders caps the distinct header names counted per group; further
	// names are counted in ShapeGroup.HeadersDropped. Zero means
	// DefaultShapeHeaders.
	MaxHeaders int
	// MaxValueBytes is the longest routing header value kept; a longer one,
	// or one that is not printable UTF-8, is withheld
	// (RoutingValue.Withheld). Zero means DefaultShapeValueBytes.
	MaxValueBytes int
	// MaxPayloadBytes is the largest payload walked; a larger one is
	// counted in ShapeGroup.NotObjects. Zero means DefaultShapePayloadBytes.
	MaxPayloadBytes int
	// MinKeyRecords is how many records must carry a path before it is
	// written: a key shaped like a name may still be a value used as a key
	// (an id, a user name), and such keys change from record to record,
	// where the keys of a structure recur. Paths carried by fewer records
	// are counted in memory but never written (so a restart forgets
	// them). Zero means DefaultShapeKeyRecords.
	MinKeyRecords int
}

func (c ShapeConfig) withDefaults() ShapeConfig {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.MaxGroups == 0 {
		c.MaxGroups = DefaultShapeGroups
	}
	def(&c.MaxPaths, DefaultShapePaths)
	def(&c.MaxKeyBytes, DefaultShapeKeyBytes)
	def(&c.MaxDepth, DefaultShapeDepth)
	def(&c.MaxArrayItems, DefaultShapeArrayItems)
	def(&c.MaxHeaders, DefaultShapeHeaders)
	def(&c.MaxValueBytes, DefaultShapeValueBytes)
	def(&c.MaxPayloadBytes, DefaultShapePayloadBytes)
	def(&c.MinKeyRecords, DefaultShapeKeyRecords)
	return c
}

// Shapes is what ShapesFile holds: value-free structural profiles of the
// records no source accepted (failure unknown_source), one per topic and
// routing header values. Their payloads are not kept (with no source, no
// redact paths are known), so this is all that is known of them: which
// paths their payloads have, of which JSON types, how often, and which
// headers they carry. Never a payload value.
type Shapes struct {
	UpdatedAt time.Time `json:"updated_at"`
	// Bounds are the limits the profiles were kept with.
	Bounds ShapeBounds `json:"bounds"`
	// GroupsDropped counts the records of groups past MaxGroups.
	GroupsDropped uint64       `json:"groups_dropped,omitempty"`
	Groups        []ShapeGroup `json:"groups"`
}

// ShapeBounds are the limits of ShapeConfig a profile was kept with.
type ShapeBounds struct {
	MaxGroups     int `json:"max_groups"`
	MaxPaths      int `json:"max_paths"`
	MaxKeyBytes   int `json:"max_key_bytes"`
	MaxDepth      int `json:"max_depth"`
	MaxArrayItems int `json:"max_array_items"`
	MaxHeaders    int `json:"max_headers"`
	MaxValueBytes int `json:"max_value_bytes"`
	MinKeyRecords int `json:"min_key_records"`
}

// ShapeGroup is the profile of the unrouted records of one topic and one
// set of routing header values.
type ShapeGroup struct {
	Topic string `json:"topic"`
	// Routing are the values of the routing headers the records carry,
	// sorted by header name; a routing header a record lacks is not listed.
	Routing []RoutingValue `json:"routing,omitempty"`
	// Records counts the group's records; Objects those whose payload was
	// a JSON object within MaxPayloadBytes and was walked; NotObjects the
	// others.
	Records    uint64    `json:"records"`
	Objects    uint64    `json:"objects"`
	NotObjects uint64    `json:"not_objects,omitempty"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	// Headers are the header names the records carried, with how many
	// records carried each (names only, no values), sorted by name.
	Headers        []HeaderCount `json:"headers,omitempty"`
	HeadersDropped uint64        `json:"headers_dropped,omitempty"`
	// Paths are the payload paths seen in at least MinKeyRecords records
	// ("a.b", "items[]" for an array's elements, "items[].sku"), sorted.
	Paths []ShapePath `json:"paths"`
	// PathsDropped counts values at new paths past MaxPaths, TooDeep the
	// objects and arrays whose contents lay past MaxDepth, ItemsSkipped
	// the array elements past MaxArrayItems: none of them is described.
	PathsDropped uint64 `json:"paths_dropped,omitempty"`
	TooDeep      uint64 `json:"too_deep,omitempty"`
	ItemsSkipped uint64 `json:"items_skipped,omitempty"`
}

// RoutingValue is the value of one routing header.
type RoutingValue struct {
	Header string `json:"header"`
	Value  string `json:"value"`
	// Withheld is set (and Value empty) when the value was longer than
	// MaxValueBytes or not printable text: not a name a rule would route on.
	Withheld bool `json:"withheld,omitempty"`
}

// String is "Header=value" ("Header=(withheld)").
func (r RoutingValue) String() string {
	if r.Withheld {
		return r.Header + "=(withheld)"
	}
	return r.Header + "=" + r.Value
}

// HeaderCount is a header name and how many records carried it.
type HeaderCount struct {
	Key     string `json:"key"`
	Records uint64 `json:"records"`
}

// ShapePath is one payload path: how many records carried it, how many
// values it held (Present: once per record for a path outside arrays, once
// per walked element inside one) and of which JSON types (null, boolean,
// integer, number, string, object, array) with their counts.
type ShapePath struct {
	Path    string            `json:"path"`
	Records uint64            `json:"records"`
	Present uint64            `json:"present"`
	Types   map[string]uint64 `json:"types"`
}

// pathCounts are one path's counts: values per kind, and the records that
// carried it (last is the sequence number of the last one).
type pathCounts struct {
	kinds         [nKinds]uint64
	records, last uint64
}

// jsonTypes are the JSON type names of ShapePath.Types, by shapeKind.
var jsonTypes = [...]string{"null", "boolean", "integer", "number", "string", "object", "array"}

const (
	kNull = iota
	kBool
	kInteger
	kNumber
	kString
	kObject
	kArray
	nKinds
)

type shapeGroup struct {
	ShapeGroup
	headers map[string]*HeaderCount // by lower-case name
	paths   map[string]*pathCounts
}

// shapes keeps the structural profiles; guarded by mu.
type shapes struct {
	cfg ShapeConfig
	// routing holds the lower-case routing header names.
	routing map[string]bool
	// parsers parse payloads outside the lock (a free list).
	parsers chan *fastjson.Parser

	mu      sync.Mutex
	groups  map[string]*shapeGroup
	dropped uint64
	dirty   bool
	buf     []byte // the path being walked
	seq     uint64 // the record being walked, counted from 1
}

func newShapes(cfg ShapeConfig) *shapes {
	cfg = cfg.withDefaults()
	if cfg.MaxGroups < 0 {
		return nil
	}
	s := &shapes{cfg: cfg, routing: map[string]bool{}, groups: map[string]*shapeGroup{}, parsers: make(chan *fastjson.Parser, 4)}
	for _, h := range cfg.RoutingHeaders {
		s.routing[strings.ToLower(h)] = true
	}
	return s
}

// unknownSource reports whether res is a record no source accepted.
func unknownSource(res *mapper.Result) bool {
	for _, f := range res.Failures {
		if f.Reason == mapper.ReasonUnknownSource {
			return true
		}
	}
	return false
}

// observe profiles one unrouted record. The payload is parsed outside the
// lock; nothing of it but its structure is kept.
func (s *shapes) observe(origin *mapper.Origin, payload []byte, when time.Time) {
	var topic string
	var headers []mapper.Header
	if origin != nil {
		topic, headers = origin.Topic, origin.Headers
	}
	routing := s.routingValues(headers)
	var doc *fastjson.Value
	var p *fastjson.Parser
	if len(payload) <= s.cfg.MaxPayloadBytes {
		select {
		case p = <-s.parsers:
		default:
			p = new(fastjson.Parser)
		}
		defer func() {
			select {
			case s.parsers <- p:
			default:
			}
		}()
		if v, err := p.ParseBytes(payload); err == nil && v.Type() == fastjson.TypeObject {
			doc = v
		}
	}
	key := groupKey(topic, routing)
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[key]
	if g == nil {
		if len(s.groups) >= s.cfg.MaxGroups {
			s.dropped++
			s.dirty = true
			return
		}
		g = &shapeGroup{ShapeGroup: ShapeGroup{Topic: topic, Routing: routing, FirstSeen: when},
			headers: map[string]*HeaderCount{}, paths: map[string]*pathCounts{}}
		s.groups[key] = g
	}
	s.dirty = true
	g.Records++
	if g.FirstSeen.IsZero() || when.Before(g.FirstSeen) {
		g.FirstSeen = when
	}
	if when.After(g.LastSeen) {
		g.LastSeen = when
	}
	s.countHeaders(g, headers)
	if doc == nil {
		g.NotObjects++
		return
	}
	g.Objects++
	s.seq++
	s.buf = s.buf[:0]
	s.walkObject(g, doc, 1)
}

// routingValues are the values of the routing headers among headers,
// sorted by name, the first of each name only.
func (s *shapes) routingValues(headers []mapper.Header) []RoutingValue {
	var out []RoutingValue
	for _, h := range headers {
		k := strings.ToLower(h.Key)
		if !s.routing[k] || slicesContainsFold(out, h.Key) {
			continue
		}
		rv := RoutingValue{Header: h.Key}
		if printable(h.Value) && len(h.Value) <= s.cfg.MaxValueBytes {
			rv.Value = string(h.Value)
		} else {
			rv.Withheld = true
		}
		out = append(out, rv)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Header) < strings.ToLower(out[j].Header) })
	return out
}

func slicesContainsFold(rs []RoutingValue, name string) bool {
	for _, r := range rs {
		if strings.EqualFold(r.Header, name) {
			return true
		}
	}
	return false
}

// printable reports whether b is UTF-8 text without control characters.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func groupKey(topic string, routing []RoutingValue) string {
	var b strings.Builder
	b.WriteString(topic)
	for _, r := range routing {
		b.WriteByte(0)
		b.WriteString(strings.ToLower(r.Header))
		b.WriteByte(0)
		if r.Withheld {
			b.WriteByte(1)
		} else {
			b.WriteString(r.Value)
		}
	}
	return b.String()
}

// countHeaders counts the header names of one record, each once.
func (s *shapes) countHeaders(g *shapeGroup, headers []mapper.Header) {
	for i, h := range headers {
		k := strings.ToLower(h.Key)
		dup := false
		for _, o := range headers[:i] {
			dup = dup || strings.EqualFold(o.Key, h.Key)
		}
		if dup {
			continue
		}
		hc := g.headers[k]
		if hc == nil {
			if len(h.Key) > s.cfg.MaxKeyBytes || !printable([]byte(h.Key)) || len(g.headers) >= s.cfg.MaxHeaders {
				g.HeadersDropped++
				continue
			}
			hc = &HeaderCount{Key: h.Key}
			g.headers[k] = hc
		}
		hc.Records++
	}
}

// keyName is the key as a path element: the key, or OtherKey when it is
// longer than MaxKeyBytes or not shaped like a field name.
func (s *shapes) keyName(k []byte) []byte {
	if len(k) == 0 || len(k) > s.cfg.MaxKeyBytes {
		return []byte(OtherKey)
	}
	for i, c := range k {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$'
		switch {
		case letter, i == 0 && c == '@', i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return []byte(OtherKey)
		}
	}
	return k
}

// walkObject counts the values of an object at depth (its keys' depth);
// s.buf holds the object's path.
func (s *shapes) walkObject(g *shapeGroup, o *fastjson.Value, depth int) {
	obj, _ := o.Object()
	base := len(s.buf)
	obj.Visit(func(k []byte, v *fastjson.Value) {
		s.buf = s.buf[:base]
		if base > 0 {
			s.buf = append(s.buf, '.')
		}
		s.buf = append(s.buf, s.keyName(k)...)
		s.value(g, v, depth)
	})
	s.buf = s.buf[:base]
}

// value counts one value at the path in s.buf and walks its contents.
func (s *shapes) value(g *shapeGroup, v *fastjson.Value, depth int) {
	counts := g.paths[string(s.buf)]
	if counts == nil {
		if len(g.paths) >= s.cfg.MaxPaths {
			g.PathsDropped++
			return
		}
		counts = new(pathCounts)
		g.paths[string(s.buf)] = counts
	}
	if counts.last != s.seq {
		counts.last = s.seq
		counts.records++
	}
	switch v.Type() {
	case fastjson.TypeNull:
		counts.kinds[kNull]++
	case fastjson.TypeTrue, fastjson.TypeFalse:
		counts.kinds[kBool]++
	case fastjson.TypeNumber:
		if isInteger(v) {
			counts.kinds[kInteger]++
		} else {
			counts.kinds[kNumber]++
		}
	case fastjson.TypeString:
		counts.kinds[kString]++
	case fastjson.TypeObject:
		counts.kinds[kObject]++
		if depth >= s.cfg.MaxDepth {
			g.TooDeep++
			return
		}
		s.walkObject(g, v, depth+1)
	case fastjson.TypeArray:
		counts.kinds[kArray]++
		if depth >= s.cfg.MaxDepth {
			g.TooDeep++
			return
		}
		items, _ := v.Array()
		base := len(s.buf)
		for i, it := range items {
			if i >= s.cfg.MaxArrayItems {
				g.ItemsSkipped += uint64(len(items) - i)
				break
			}
			s.buf = append(s.buf[:base], "[]"...)
			s.value(g, it, depth+1)
		}
		s.buf = s.buf[:base]
	}
}

// isInteger reports whether a JSON number is written without fraction or
// exponent (as the infer package types integers).
func isInteger(v *fastjson.Value) bool {
	var buf [32]byte
	t := v.MarshalTo(buf[:0])
	return !strings.ContainsAny(string(t), ".eE")
}

// snapshot is the profiles as they stand, and whether they changed since
// the last snapshot taken with reset.
func (s *shapes) snapshot(now time.Time, reset bool) (Shapes, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dirty := s.dirty
	if reset {
		s.dirty = false
	}
	out := Shapes{UpdatedAt: now.UTC(), GroupsDropped: s.dropped, Groups: make([]ShapeGroup, 0, len(s.groups)), Bounds: ShapeBounds{
		MaxGroups: s.cfg.MaxGroups, MaxPaths: s.cfg.MaxPaths, MaxKeyBytes: s.cfg.MaxKeyBytes, MaxDepth: s.cfg.MaxDepth,
		MaxArrayItems: s.cfg.MaxArrayItems, MaxHeaders: s.cfg.MaxHeaders, MaxValueBytes: s.cfg.MaxValueBytes,
		MinKeyRecords: s.cfg.MinKeyRecords,
	}}
	for _, g := range s.groups {
		sg := g.ShapeGroup
		sg.FirstSeen, sg.LastSeen = sg.FirstSeen.UTC(), sg.LastSeen.UTC()
		sg.Routing = append([]RoutingValue(nil), g.Routing...)
		sg.Headers = make([]HeaderCount, 0, len(g.headers))
		for _, h := range g.headers {
			sg.Headers = append(sg.Headers, *h)
		}
		sort.Slice(sg.Headers, func(i, j int) bool { return sg.Headers[i].Key < sg.Headers[j].Key })
		sg.Paths = make([]ShapePath, 0, len(g.paths))
		for p, c := range g.paths {
			if c.records < uint64(s.cfg.MinKeyRecords) {
				continue
			}
			sp := ShapePath{Path: p, Records: c.records, Types: map[string]uint64{}}
			for k, n := range c.kinds {
				if n > 0 {
					sp.Types[jsonTypes[k]] = n
					sp.Present += n
				}
			}
			sg.Paths = append(sg.Paths, sp)
		}
		sort.Slice(sg.Paths, func(i, j int) bool { return sg.Paths[i].Path < sg.Paths[j].Path })
		out.Groups = append(out.Groups, sg)
	}
	SortShapeGroups(out.Groups)
	return out, dirty
}

// SortShapeGroups sorts groups most records first, then by topic and
// routing values.
func SortShapeGroups(gs []ShapeGroup) {
	sort.Slice(gs, func(i, j int) bool {
		a, b := gs[i], gs[j]
		if a.Records != b.Records {
			return a.Records > b.Records
		}
		return groupKey(a.Topic, a.Routing) < groupKey(b.Topic, b.Routing)
	})
}

// restore takes up the profiles a previous store wrote (within today's
// bounds: what does not fit is dropped).
func (s *shapes) restore(prev Shapes) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropped += prev.GroupsDropped
	for _, pg := range prev.Groups {
		key := groupKey(pg.Topic, pg.Routing)
		g := s.groups[key]
		if g == nil {
			if len(s.groups) >= s.cfg.MaxGroups {
				s.dropped += pg.Records
				continue
			}
			g = &shapeGroup{ShapeGroup: ShapeGroup{Topic: pg.Topic, Routing: pg.Routing, FirstSeen: pg.FirstSeen},
				headers: map[string]*HeaderCount{}, paths: map[string]*pathCounts{}}
			s.groups[key] = g
		}
		g.Records += pg.Records
		g.Objects += pg.Objects
		g.NotObjects += pg.NotObjects
		g.HeadersDropped += pg.HeadersDropped
		g.PathsDropped += pg.PathsDropped
		g.TooDeep += pg.TooDeep
		g.ItemsSkipped += pg.ItemsSkipped
		if pg.LastSeen.After(g.LastSeen) {
			g.LastSeen = pg.LastSeen
		}
		for _, h := range pg.Headers {
			k := strings.ToLower(h.Key)
			if hc := g.headers[k]; hc != nil {
				hc.Records += h.Records
			} else if len(g.headers) < s.cfg.MaxHeaders && len(h.Key) <= s.cfg.MaxKeyBytes {
				g.headers[k] = &HeaderCount{Key: h.Key, Records: h.Records}
			} else {
				g.HeadersDropped += h.Records
			}
		}
		for _, p := range pg.Paths {
			c := g.paths[p.Path]
			if c == nil {
				if len(g.paths) >= s.cfg.MaxPaths {
					g.PathsDropped += p.Present
					continue
				}
				c = new(pathCounts)
				g.paths[p.Path] = c
			}
			c.records += p.Records
			for k, name := range jsonTypes {
				c.kinds[k] += p.Types[name]
			}
		}
	}
}

// ReadShapes reads the structural profiles of the unrouted records of a
// samples directory; ok is false when there are none.
func ReadShapes(dir string) (sh Shapes, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, ShapesFile))
	if errors.Is(err, fs.ErrNotExist) {
		return sh, false, nil
	}
	if err != nil {
		return sh, false, fmt.Errorf("read unrouted shapes: %w", err)
	}
	if err := json.Unmarshal(b, &sh); err != nil {
		return sh, false, fmt.Errorf("read unrouted shapes %s: %w", filepath.Join(dir, ShapesFile), err)
	}
	return sh, true, nil
}

// ShapesSink is told of the unrouted records' profiles, so that they can
// be shared beyond the samples directory (package sampletopic writes them
// to the samples topic). A Config.Sink that also implements ShapesSink
// receives them: from the store's writer goroutine, one call at a time, at
// each flush in which they changed. sh is the whole profile, cumulative
// since the directory was first used; the sink may keep it but must not
// change it.
type ShapesSink interface {
	Shapes(sh Shapes)
}

// MergeShapes merges the profiles kept by different workers (each of its
// own records) into one: the counts of a group, path or header add up,
// within the first profile's bounds (what does not fit is counted as
// dropped, as a store counts it). UpdatedAt is the latest. shs must not be
// empty.
func MergeShapes(shs ...Shapes) Shapes {
	b := shs[0].Bounds
	m := newShapes(ShapeConfig{MaxGroups: b.MaxGroups, MaxPaths: b.MaxPaths, MaxKeyBytes: b.MaxKeyBytes, MaxDepth: b.MaxDepth,
		MaxArrayItems: b.MaxArrayItems, MaxHeaders: b.MaxHeaders, MaxValueBytes: b.MaxValueBytes, MinKeyRecords: b.MinKeyRecords})
	var at time.Time
	for _, sh := range shs {
		m.restore(sh)
		if sh.UpdatedAt.After(at) {
			at = sh.UpdatedAt
		}
	}
	out, _ := m.snapshot(at, false)
	return out
}

// WriteShapes replaces ShapesFile in dir with sh, atomically. It is how a
// directory is materialised from profiles kept elsewhere; a Store writes
// its own.
func WriteShapes(dir string, sh Shapes) error {
	b, err := json.MarshalIndent(sh, "", "  ")
	if err == nil {
		err = writeAtomic(filepath.Join(dir, ShapesFile), append(b, '\n'))
	}
	if err != nil {
		return fmt.Errorf("samples: write %s: %w", ShapesFile, err)
	}
	return nil
}

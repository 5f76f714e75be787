package mapper

// A plan whose fields each read plain source paths (no each, case, when,
// template or currency_from) needs from the payload only the values at
// those paths. For such a plan the strict scan records, as it reads, where
// each of them is (recVal), and what it found at each leading segment of
// each path; a payload that the scan finds clean, and whose compiled input
// checks all hold or whose failures the scan reported (see scancheck.go),
// is mapped from those records without being parsed at all. Whenever the
// records cannot give exactly what the parsed value would (a fallback
// path of default_from, an escaped string, a container a transform would
// read), the record is mapped from the parsed value as before: the
// results are the same either way.

// pathNode is one key of the tree of source paths a flat plan reads.
type pathNode struct {
	key  string
	sig  uint64
	slot int // index of the value recorded at this path; -1: not read itself
	kids []pathNode
}

// recKind is what the scan found at a recorded path.
type recKind uint8

const (
	recAbsent recKind = iota
	recString
	recNumber
	recTrue
	recFalse
	recNull
	recObject
	recArray
)

// recVal is a value found at a read path: its bytes are b[off:end] (a
// string's content between its quotes); esc is set for a string with
// escapes, items counts an array's elements.
type recVal struct {
	kind     recKind
	esc      bool
	off, end int
	items    int
}

// pathFrame is an open container of the recording scan: the path node
// under which its keys are looked up (nil: none are read) and the slot of
// its own value (-1: not read).
type pathFrame struct {
	node *pathNode
	slot int
}

// child is the node of key (signature sig) under n, or nil.
func (n *pathNode) child(key []byte, sig uint64) *pathNode {
	for i := range n.kids {
		if k := &n.kids[i]; k.sig == sig && k.key == b2s(key) {
			return k
		}
	}
	return nil
}

// add puts the path segs under n and returns its slot, numbering a new
// path with *slots.
func (n *pathNode) add(segs []string, slots *int) int {
	for _, seg := range segs {
		var next *pathNode
		for i := range n.kids {
			if n.kids[i].key == seg {
				next = &n.kids[i]
			}
		}
		if next == nil {
			n.kids = append(n.kids, pathNode{key: seg, sig: keySigOf(seg), slot: -1})
			next = &n.kids[len(n.kids)-1]
		}
		n = next
	}
	if n.slot < 0 {
		n.slot = *slots
		*slots++
	}
	return n.slot
}

// flatPlan compiles the paths of root's fields into a tree for the
// recording scan, or returns nil when some field needs the parsed value.
// It sets each field's stepSlots.
func flatPlan(root *outNode) (*pathNode, int) {
	if root == nil || !flatFields(root) {
		return nil, 0
	}
	tree := &pathNode{slot: -1}
	slots := 0
	var walk func(n *outNode)
	walk = func(n *outNode) {
		if r := n.rule; r != nil {
			r.stepSlots = r.stepSlots[:0]
			for i := range r.from {
				segs := r.from[i].segs
				steps := make([]int, len(segs))
				for j := range segs {
					steps[j] = tree.add(segs[:j+1], &slots)
				}
				r.stepSlots = append(r.stepSlots, steps)
			}
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(root)
	return tree, slots
}

// flatFields reports whether every field under n reads plain paths only.
func flatFields(n *outNode) bool {
	if r := n.rule; r != nil {
		if r.when != nil || len(r.cases) > 0 || r.template != nil || r.each != nil || len(r.from) == 0 {
			return false
		}
		for i := range r.from {
			if len(r.from[i].segs) == 0 {
				return false
			}
		}
		for i := range r.transforms {
			if a := r.transforms[i].arg; a != nil && a.currency != nil {
				return false
			}
		}
	}
	for _, k := range n.kids {
		if !flatFields(k) {
			return false
		}
	}
	return true
}

// cleanRecorded is cleanChecked, recording the values at the paths of tree
// (nil: none) into s.rec, which has one entry per slot.
func (s *strictScan) cleanRecorded(b []byte, maxDepth int, root *checkNode, tree *pathNode, slots int) (clean, checked bool) {
	s.startRecording(tree, slots)
	clean, checked = s.cleanChecked(b, maxDepth, root)
	s.paths, s.pnode = nil, nil
	return clean, checked
}

// startRecording makes the scan record the values at the paths of tree
// (nil: none) into s.rec, which has one entry per slot.
func (s *strictScan) startRecording(tree *pathNode, slots int) {
	s.paths, s.pnode = tree, tree
	s.pframes = s.pframes[:0]
	if cap(s.rec) < slots {
		s.rec = make([]recVal, slots)
	}
	s.rec = s.rec[:slots]
	clear(s.rec)
}

// pathOpen records a container (kind) starting at b[i] and opens its frame.
func (s *strictScan) pathOpen(kind recKind, i int) {
	f := pathFrame{slot: -1}
	if n := s.pnode; n != nil {
		if n.slot >= 0 {
			f.slot = n.slot
			s.rec[n.slot] = recVal{kind: kind, off: i}
		}
		if kind == recObject && len(n.kids) > 0 {
			f.node = n
		}
	}
	s.pframes = append(s.pframes, f)
	s.pnode = nil
}

// pathClose closes the innermost container, which ends before b[i].
func (s *strictScan) pathClose(i int) {
	f := s.pframes[len(s.pframes)-1]
	s.pframes = s.pframes[:len(s.pframes)-1]
	if f.slot >= 0 {
		s.rec[f.slot].end = i
	}
}

// pathMember sets the node of the value of key in the innermost object.
func (s *strictScan) pathMember(key []byte, sig uint64) {
	s.pnode = nil
	if n := s.pframes[len(s.pframes)-1].node; n != nil {
		s.pnode = n.child(key, sig)
	}
}

// pathElement counts an element of the innermost array: no path reads
// inside arrays.
func (s *strictScan) pathElement() {
	if f := s.pframes[len(s.pframes)-1]; f.slot >= 0 {
		s.rec[f.slot].items++
	}
	s.pnode = nil
}

// literalKind is the kind of the literal that starts with c.
func literalKind(c byte) recKind {
	switch c {
	case 't':
		return recTrue
	case 'f':
		return recFalse
	}
	return recNull
}

// pathScalar records a scalar at b[off:end] (a string's content) when its
// path is read.
func (s *strictScan) pathScalar(kind recKind, off, end int, esc bool) {
	if n := s.pnode; n != nil && n.slot >= 0 {
		s.rec[n.slot] = recVal{kind: kind, off: off, end: end, esc: esc}
	}
}

// emitRecorded writes a field of a flat plan from the values the scan
// recorded in payload. When they cannot give exactly what the parsed value
// would, it sets m.bail and returns false: the record is then mapped from
// the parsed value.
func (m *Mapper) emitRecorded(r *fieldRule, prefix string) bool {
	rec := m.scan.rec
	for i, steps := range r.stepSlots {
		v := &rec[steps[len(steps)-1]]
		switch v.kind {
		case recAbsent:
			continue
		case recNull:
			if r.nullable {
				m.out = append(m.out, "null"...)
				return true
			}
			continue
		}
		ts := r.transforms
		var val tv
		switch v.kind {
		case recString:
			if v.esc {
				m.bail = true
				return false
			}
			val = tv{k: kString, s: b2s(m.payload[v.off:v.end])}
		case recNumber:
			val = tv{k: kNumber, s: b2s(m.payload[v.off:v.end])}
		case recTrue:
			val = tv{k: kBool, b: true}
		case recFalse:
			val = tv{k: kBool}
		default:
			// A container is read only by count, which needs no more
			// than its length.
			if v.kind != recArray || len(ts) == 0 || ts[0].name != "count" {
				m.bail = true
				return false
			}
			val, ts = tv{k: kNumber, s: m.keepInt(int64(v.items))}, ts[1:]
		}
		return m.emitThrough(r, ts, val, nil, prefix, &r.from[i])
	}
	if r.defaultFrom != nil {
		// The fallback paths are not recorded: the parsed value gives them.
		m.bail = true
		return false
	}
	miss := m.recordedMiss(r)
	return m.emitAbsent(r, prefix, &miss)
}

// recordedMiss is what pickFrom says of a field none of whose paths gave a
// value (each is absent, or null where the field is not nullable), from
// the kinds the scan recorded at each path's leading segments: how far
// each path got into the payload, and what stopped it.
func (m *Mapper) recordedMiss(r *fieldRule) fromMiss {
	rec := m.scan.rec
	miss := fromMiss{reached: -1, nullIdx: -1, blockedIdx: -1}
	for i, steps := range r.stepSlots {
		// lookup's walk: through objects, segment by segment.
		cur, reached, blocked := recObject, len(steps), recAbsent
		for j, slot := range steps {
			if cur != recObject {
				reached, blocked = j, cur
				break
			}
			if cur = rec[slot].kind; cur == recAbsent {
				reached = j
				break
			}
		}
		miss.note(i, reached, len(steps), reached == len(steps), blocked.jsonType())
	}
	return miss
}

// jsonType is the JSON type of a recorded value of kind k (numbers all
// tNumber, as kindOf has them; 0 for recAbsent).
func (k recKind) jsonType() jsonType {
	switch k {
	case recString:
		return tString
	case recNumber:
		return tNumber
	case recTrue, recFalse:
		return tBool
	case recNull:
		return tNull
	case recObject:
		return tObject
	case recArray:
		return tArray
	}
	return 0
}

package mapper

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
	"unsafe"
)

// strictScan reads a payload once, front to back, and decides whether it
// is clean in every way the payload guards ask about: a JSON object that
// the validator accepts (strict strings, escapes and numbers), valid UTF-8,
// nested at most maxDepth levels, and no object with the same key twice.
// It needs no recursion and, once its stacks have grown, no allocation.
// Given a schema's compiled checks it runs them too as it reads (see
// scancheck.go), so that a payload that passes is neither walked again
// nor, for a mapped record, parsed at all.
//
// It answers only yes or no. No means "not known to be clean": the careful
// path then runs every guard in turn and says why, so that the details of
// bad payloads stay exactly what they are. The scan is never more lenient
// than those guards, only sometimes stricter (an escaped key, say, sends
// the payload down the careful path even when it is fine).
type strictScan struct {
	open  []byte   // the containers open: '{' or '['
	keys  []keyRef // the keys of the objects open
	bases []int    // where each open object's keys start in keys
	// blooms has a bit set for each of the open objects' keys compared
	// one by one (bit sig>>58): a key whose bit is not set is new, with no
	// comparison.
	blooms []uint64
	// Objects with more than linearKeys keys are looked up in table, an
	// open-addressing set keyed by object serial and key signature. An
	// entry whose serial is below first (the first object of this
	// payload) is empty, so the table is never cleared.
	table   []keyEntry
	used    int
	serial  uint64
	first   uint64
	serials []uint64 // serial of each open object
	// The compiled checks run as the scan reads (see scancheck.go):
	// nodes[cur:] are the check nodes of the value being read, frames
	// those of each open container; checked is false once a check failed
	// or could not be decided.
	nodes   []*checkNode
	frames  []nodeFrame
	cur     int
	checked bool
	// report is set while the checks report failures rather than doubt
	// (see fault); fails are those reported, field the path fault writes.
	report bool
	fails  []scanFail
	field  []byte
	// formatArg is the string a format check reads (see formatOK).
	formatArg string
	// The values at the read paths of a flat plan are recorded in rec as
	// the scan reads (see recorded.go): paths is the tree of those paths
	// (nil: nothing is recorded), pnode the node of the value being read,
	// pframes those of each open container.
	paths   *pathNode
	pnode   *pathNode
	pframes []pathFrame
	rec     []recVal
}

// linearKeys is the number of keys of one object compared one by one
// before the object's keys go into the table.
const linearKeys = 16

type keyEntry struct {
	serial uint64
	sig    uint64
	key    int // index in keys
}

// keyRef is one key of an open object: a signature to compare first and
// where its bytes are.
type keyRef struct {
	sig      uint64
	off, end int
}

// clean reports whether b passes every payload guard (see strictScan).
func (s *strictScan) clean(b []byte, maxDepth int) bool {
	ok, _ := s.cleanChecked(b, maxDepth, nil)
	return ok
}

// cleanChecked is clean, and reports beside it whether b also passes every
// compiled check of root (false when root is nil, or when a check failed
// or could not be decided from the bytes: the walk then decides).
func (s *strictScan) cleanChecked(b []byte, maxDepth int, root *checkNode) (clean, checked bool) {
	s.startChecks(root)
	clean = s.scan(b, maxDepth)
	return clean, clean && s.checked
}

func (s *strictScan) scan(b []byte, maxDepth int) bool {
	s.open, s.keys, s.bases, s.serials, s.blooms = s.open[:0], s.keys[:0], s.bases[:0], s.serials[:0], s.blooms[:0]
	s.first, s.used = s.serial+1, 0
	n := len(b)
	i := skipSpace(b, 0)
	if i >= n || b[i] != '{' {
		return false
	}
	var ok bool
value:
	i = skipSpace(b, i)
	if i >= n {
		return false
	}
	switch b[i] {
	case '{':
		if len(s.open) >= maxDepth {
			return false
		}
		s.open = append(s.open, '{')
		s.bases = append(s.bases, len(s.keys))
		s.blooms = append(s.blooms, 0)
		s.serial++
		s.serials = append(s.serials, s.serial)
		if s.checked {
			s.openContainer(b, tObject)
		}
		if s.paths != nil {
			s.pathOpen(recObject, i)
		}
		if i = skipSpace(b, i+1); i < n && b[i] == '}' {
			i++
			if s.checked {
				s.closeObjectChecks(b)
			}
			s.closeObject()
			if s.paths != nil {
				s.pathClose(i)
			}
			goto after
		}
		goto key
	case '[':
		if len(s.open) >= maxDepth {
			return false
		}
		s.open = append(s.open, '[')
		if s.checked {
			s.openContainer(b, tArray)
		}
		if s.paths != nil {
			s.pathOpen(recArray, i)
		}
		if i = skipSpace(b, i+1); i < n && b[i] == ']' {
			i++
			s.open = s.open[:len(s.open)-1]
			if s.checked {
				s.closeArray(b)
			}
			if s.paths != nil {
				s.pathClose(i)
			}
			goto after
		}
		if s.checked {
			s.element()
		}
		if s.paths != nil {
			s.pathElement()
		}
		goto value
	case '"':
		start := i + 1
		var esc bool
		if i, esc, ok = scanString(b, start); !ok {
			return false
		}
		if s.checked {
			s.checkString(b, start, i-1, esc)
		}
		if s.pnode != nil {
			s.pathScalar(recString, start, i-1, esc)
		}
		goto after
	case 't', 'f', 'n':
		lit := literalAt(b[i])
		if !bytes.HasPrefix(b[i:], lit) {
			return false
		}
		if s.checked {
			s.checkLiteral(b, lit)
		}
		if s.pnode != nil {
			s.pathScalar(literalKind(b[i]), i, i+len(lit), false)
		}
		i += len(lit)
		goto after
	default:
		start := i
		if i, ok = scanNumber(b, i); !ok {
			return false
		}
		if s.checked {
			s.checkNumber(b, start, i)
		}
		if s.pnode != nil {
			s.pathScalar(recNumber, start, i, false)
		}
		goto after
	}
key:
	i = skipSpace(b, i)
	if i >= n || b[i] != '"' {
		return false
	}
	{
		start := i + 1
		var esc bool
		if i, esc, ok = scanString(b, start); !ok || esc {
			// An escaped key may equal another written plainly: the
			// careful path compares keys unescaped.
			return false
		}
		if !s.addKey(b, start, i-1) {
			return false
		}
		if s.checked {
			s.member(b, b[start:i-1], s.keys[len(s.keys)-1].sig)
		}
		if s.paths != nil {
			s.pathMember(b[start:i-1], s.keys[len(s.keys)-1].sig)
		}
	}
	if i = skipSpace(b, i); i >= n || b[i] != ':' {
		return false
	}
	i++
	goto value
after:
	if len(s.open) == 0 {
		return skipSpace(b, i) == n
	}
	if i = skipSpace(b, i); i >= n {
		return false
	}
	switch top := s.open[len(s.open)-1]; {
	case b[i] == ',':
		i++
		if top == '{' {
			goto key
		}
		if s.checked {
			s.element()
		}
		if s.paths != nil {
			s.pathElement()
		}
		goto value
	case top == '{' && b[i] == '}':
		i++
		if s.checked {
			s.closeObjectChecks(b)
		}
		s.closeObject()
		if s.paths != nil {
			s.pathClose(i)
		}
		goto after
	case top == '[' && b[i] == ']':
		i++
		s.open = s.open[:len(s.open)-1]
		if s.checked {
			s.closeArray(b)
		}
		if s.paths != nil {
			s.pathClose(i)
		}
		goto after
	}
	return false
}

func (s *strictScan) closeObject() {
	s.open = s.open[:len(s.open)-1]
	s.keys = s.keys[:s.bases[len(s.bases)-1]]
	s.bases = s.bases[:len(s.bases)-1]
	s.blooms = s.blooms[:len(s.blooms)-1]
	s.serials = s.serials[:len(s.serials)-1]
}

// addKey records the key b[off:end] of the innermost open object and
// reports false if that object already has it.
func (s *strictScan) addKey(b []byte, off, end int) bool {
	k := b[off:end]
	sig := keySig(k)
	base := s.bases[len(s.bases)-1]
	serial := s.serials[len(s.serials)-1]
	switch n := len(s.keys) - base; {
	case n < linearKeys:
		bloom, bit := &s.blooms[len(s.blooms)-1], uint64(1)<<(sig>>58)
		if *bloom&bit != 0 {
			for _, r := range s.keys[base:] {
				if r.sig == sig && bytes.Equal(b[r.off:r.end], k) {
					return false
				}
			}
		}
		*bloom |= bit
	case n == linearKeys:
		for i := base; i < len(s.keys); i++ {
			s.insert(serial, s.keys[i].sig, i)
		}
		fallthrough
	default:
		if !s.insertNew(b, serial, sig, k) {
			return false
		}
	}
	s.keys = append(s.keys, keyRef{sig: sig, off: off, end: end})
	return true
}

func slot(serial, sig uint64, mask int) int {
	return int((sig^serial*0x9E3779B97F4A7C15)>>17) & mask
}

// insertNew adds the key k (about to be keys[len(keys)]) of the object
// serial to the table, or reports false if the object has it already.
func (s *strictScan) insertNew(b []byte, serial, sig uint64, k []byte) bool {
	if 2*(s.used+1) > len(s.table) {
		s.grow()
	}
	mask := len(s.table) - 1
	for i := slot(serial, sig, mask); ; i = (i + 1) & mask {
		e := &s.table[i]
		if e.serial < s.first {
			*e = keyEntry{serial: serial, sig: sig, key: len(s.keys)}
			s.used++
			return true
		}
		if e.serial == serial && e.sig == sig {
			if r := s.keys[e.key]; bytes.Equal(b[r.off:r.end], k) {
				return false
			}
		}
	}
}

// insert adds a key known to be new to the table.
func (s *strictScan) insert(serial, sig uint64, key int) {
	if 2*(s.used+1) > len(s.table) {
		s.grow()
	}
	mask := len(s.table) - 1
	i := slot(serial, sig, mask)
	for s.table[i].serial >= s.first {
		i = (i + 1) & mask
	}
	s.table[i] = keyEntry{serial: serial, sig: sig, key: key}
	s.used++
}

// grow doubles the table and puts back the keys of the open objects that
// are in it.
func (s *strictScan) grow() {
	old := s.table
	s.table = make([]keyEntry, max(256, 2*len(old)))
	s.used = 0
	mask := len(s.table) - 1
	for _, e := range old {
		if e.serial < s.first || !s.isOpen(e.serial) {
			continue
		}
		i := slot(e.serial, e.sig, mask)
		for s.table[i].serial != 0 {
			i = (i + 1) & mask
		}
		s.table[i] = e
		s.used++
	}
}

// isOpen reports whether the object serial is still open.
func (s *strictScan) isOpen(serial uint64) bool {
	for _, o := range s.serials {
		if o == serial {
			return true
		}
	}
	return false
}

// keySig is a cheap signature of a key: its length and its first and last
// eight bytes (all of it for keys up to 16 bytes).
func keySig(k []byte) uint64 {
	n := len(k)
	if n >= 8 {
		return uint64(n) ^ binary.LittleEndian.Uint64(k)*0x9E3779B97F4A7C15 ^ binary.LittleEndian.Uint64(k[n-8:])*0xC2B2AE3D27D4EB4F
	}
	var x uint64
	for _, c := range k {
		x = x<<8 | uint64(c)
	}
	return uint64(n)<<59 ^ x*0x9E3779B97F4A7C15
}

// keySigOf is keySig of a key held as a string.
func keySigOf(k string) uint64 {
	return keySig(unsafe.Slice(unsafe.StringData(k), len(k)))
}

var (
	litTrue  = []byte("true")
	litFalse = []byte("false")
	litNull  = []byte("null")
)

// literalAt is the literal a value starting with c must be.
func literalAt(c byte) []byte {
	switch c {
	case 't':
		return litTrue
	case 'f':
		return litFalse
	}
	return litNull
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space; runs of spaces (indentation) are skipped a word at a
// time.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ':
			if i+8 > len(b) {
				i++
				continue
			}
			// Skip the run of spaces (up to eight) in one step.
			x := binary.LittleEndian.Uint64(b[i:]) ^ lsb*' '
			if x == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(x) >> 3
		case '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// scanString reads a JSON string whose opening quote is before b[i]: it
// returns the index after the closing quote, whether there was an escape,
// and false if the string is not valid (unterminated, a control character,
// an unknown escape, invalid UTF-8).
func scanString(b []byte, i int) (int, bool, bool) {
	esc := false
	n := len(b)
	for {
		// Eight bytes at a time while none is a quote, a backslash, a
		// control character or part of a multi-byte character.
		for i+8 <= n {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (lsb * '"')
			e := x ^ (lsb * '\\')
			if m := ((q-lsb)&^q | (e-lsb)&^e | (x-lsb*0x20)&^x | x) & msb; m != 0 {
				// The lowest flagged byte is a real one (a borrow only
				// flags bytes above it): go straight to it.
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= n {
			return i, esc, false
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, esc, true
		case c == '\\':
			esc = true
			if i+1 >= n {
				return i, esc, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > n || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, esc, false
				}
				i += 6
			default:
				return i, esc, false
			}
		case c < 0x20:
			return i, esc, false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return i, esc, false
			}
			i += size
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber reads a JSON number starting at b[i] (the grammar of RFC 8259:
// no leading zeros, no bare dot, no leading plus) and returns the index
// after it.
func scanNumber(b []byte, i int) (int, bool) {
	n := len(b)
	if i < n && b[i] == '-' {
		i++
	}
	start := i
	if i = digitsEnd(b, i); i == start || (b[start] == '0' && i-start > 1) {
		return i, false
	}
	if i < n && b[i] == '.' {
		if d := i + 1; digitsEnd(b, d) == d {
			return d, false
		}
		i = digitsEnd(b, i+1)
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		if i = digitsEnd(b, i); i == d {
			return i, false
		}
	}
	return i, true
}

// digitsEnd returns the index after the decimal digits starting at b[i].
func digitsEnd(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

package profile

import (
	"bytes"
	"hash/maphash"
	"sort"
)

// Defaults of New.
const (
	// DefaultCapacity is the number of distinct values tracked when New is
	// given zero.
	DefaultCapacity = 32
	// MaxValueBytes is the longest value kept; longer values are cut to it
	// and marked Truncated (values sharing those first bytes count as one).
	MaxValueBytes = 96
)

type slot struct {
	n         uint8
	truncated bool
	buf       [MaxValueBytes]byte
	count     uint64
	err       uint64
	hash      uint64
}

// Sketch is a Space-Saving sketch. Its zero value is not usable: call New.
// A Sketch is not safe for concurrent use.
type Sketch struct {
	seed  maphash.Seed
	slots []slot
	table []int32 // index into slots, -1 when empty; len is a power of two
	total uint64
}

// New returns a sketch that tracks capacity distinct values (zero or less
// means DefaultCapacity).
func New(capacity int) *Sketch {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	size := 1
	for size < 2*capacity {
		size <<= 1
	}
	s := &Sketch{seed: maphash.MakeSeed(), slots: make([]slot, 0, capacity), table: make([]int32, size)}
	for i := range s.table {
		s.table[i] = -1
	}
	return s
}

// Capacity is the number of distinct values the sketch tracks.
func (s *Sketch) Capacity() int { return cap(s.slots) }

// Total is the sum of every count added, including values no longer
// tracked.
func (s *Sketch) Total() uint64 { return s.total }

// Add counts one occurrence of value.
func (s *Sketch) Add(value []byte) { s.AddN(value, 1) }

// AddN counts n occurrences of value (n = 0 does nothing).
func (s *Sketch) AddN(value []byte, n uint64) {
	s.total += n
	s.add(value, n, 0)
}

func (s *Sketch) add(value []byte, n, err uint64) {
	if n == 0 {
		return
	}
	truncated := len(value) > MaxValueBytes
	if truncated {
		value = value[:MaxValueBytes]
	}
	h := maphash.Bytes(s.seed, value)
	pos, found := s.find(h, value, truncated)
	if found >= 0 {
		s.slots[found].count += n
		s.slots[found].err += err
		return
	}
	if len(s.slots) < cap(s.slots) {
		i := len(s.slots)
		s.slots = s.slots[:i+1]
		s.fill(i, h, value, truncated, n, err)
		s.table[pos] = int32(i)
		return
	}
	// Full: the least counted value gives up its slot.
	victim := 0
	for i := 1; i < len(s.slots); i++ {
		if s.slots[i].count < s.slots[victim].count {
			victim = i
		}
	}
	min := s.slots[victim].count
	s.remove(victim)
	s.fill(victim, h, value, truncated, min+n, min+err)
	pos, _ = s.find(h, value, truncated)
	s.table[pos] = int32(victim)
}

func (s *Sketch) fill(i int, h uint64, value []byte, truncated bool, count, err uint64) {
	sl := &s.slots[i]
	sl.n = uint8(copy(sl.buf[:], value))
	sl.truncated, sl.count, sl.err, sl.hash = truncated, count, err, h
}

// find returns the table position holding value (and its slot), or the
// empty position where it would go (and -1).
func (s *Sketch) find(h uint64, value []byte, truncated bool) (pos int, slotIdx int) {
	mask := len(s.table) - 1
	for p := int(h) & mask; ; p = (p + 1) & mask {
		i := s.table[p]
		if i < 0 {
			return p, -1
		}
		sl := &s.slots[i]
		if sl.hash == h && sl.truncated == truncated && bytes.Equal(sl.buf[:sl.n], value) {
			return p, int(i)
		}
	}
}

// remove takes slot i's value out of the table (backward-shift deletion,
// so probing stays correct without tombstones).
func (s *Sketch) remove(i int) {
	sl := &s.slots[i]
	mask := len(s.table) - 1
	p, _ := s.find(sl.hash, sl.buf[:sl.n], sl.truncated)
	for {
		s.table[p] = -1
		q := p
		for {
			q = (q + 1) & mask
			j := s.table[q]
			if j < 0 {
				return
			}
			home := int(s.slots[j].hash) & mask
			// Move j back to p when its home is not in (p, q] cyclically.
			if (q > p && (home <= p || home > q)) || (q < p && home <= p && home > q) {
				s.table[p] = j
				p = q
				break
			}
		}
	}
}

// Entry is one tracked value.
type Entry struct {
	// Value is the value's text as it was added (cut to MaxValueBytes).
	Value string `json:"value"`
	// Count is how many times the value was counted; the true count lies in
	// [Count-Error, Count].
	Count uint64 `json:"count"`
	// Error is the most Count may overstate the true count (0: exact).
	Error uint64 `json:"error,omitempty"`
	// Truncated says that Value was cut to MaxValueBytes.
	Truncated bool `json:"truncated,omitempty"`
}

// Top returns the tracked values, most counted first, ties by value. It
// allocates; call it to report, not per record.
func (s *Sketch) Top() []Entry {
	out := make([]Entry, len(s.slots))
	for i := range s.slots {
		sl := &s.slots[i]
		out[i] = Entry{Value: string(sl.buf[:sl.n]), Count: sl.count, Error: sl.err, Truncated: sl.truncated}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return out
}

// Merge adds the entries of a profile kept earlier (for example read back
// from a file) whose total was total, keeping their counts and errors.
func (s *Sketch) Merge(entries []Entry, total uint64) {
	s.total += total
	for _, e := range entries {
		s.add([]byte(e.Value), e.Count, e.Error)
	}
}

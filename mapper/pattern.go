package mapper

import (
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// bytePattern is a schema pattern simple enough to check with one loop over
// the bytes instead of the regexp machine: anchored at both ends (^…$), a
// sequence of character classes each repeated a fixed or bounded number of
// times, and optional groups of the same. It is built only when the greedy
// loop cannot decide differently from the regexp: every class that may
// repeat a variable number of times (and every optional group's first
// class) shares no character with whatever may follow it. For any other
// pattern compilePattern returns nil and the regexp is used.
type bytePattern struct {
	items []patItem
}

type patItem struct {
	ranges   []rune    // pairs lo, hi (as syntax.Regexp.Rune of a class)
	ascii    [2]uint64 // the class's members below 128, one bit each
	min, max int       // max -1: no limit
	group    []patItem
}

// hasByte reports whether the ASCII byte c is in the class.
func (it *patItem) hasByte(c byte) bool { return it.ascii[c>>6]&(1<<(c&63)) != 0 }

// fillASCII sets the bitmap of the class's ASCII members.
func (it *patItem) fillASCII() {
	for c := 0; c < utf8.RuneSelf; c++ {
		if it.has(rune(c)) {
			it.ascii[c>>6] |= 1 << (c & 63)
		}
	}
	for i := range it.group {
		it.group[i].fillASCII()
	}
}

func (it *patItem) has(r rune) bool {
	for i := 0; i+1 < len(it.ranges); i += 2 {
		if r >= it.ranges[i] && r <= it.ranges[i+1] {
			return true
		}
	}
	return false
}

// first is the class a match of it starts with.
func (it *patItem) first() []rune {
	if it.group != nil {
		return it.group[0].ranges
	}
	return it.ranges
}

// compilePattern returns the byte loop equal to re, or nil.
func compilePattern(re *regexp.Regexp) *bytePattern {
	if re == nil {
		return nil
	}
	t, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil || t.Op != syntax.OpConcat || len(t.Sub) < 2 ||
		t.Sub[0].Op != syntax.OpBeginText || t.Sub[len(t.Sub)-1].Op != syntax.OpEndText {
		return nil
	}
	items, ok := patItems(t.Sub[1 : len(t.Sub)-1])
	if !ok || !deterministic(items, nil) {
		return nil
	}
	for i := range items {
		items[i].fillASCII()
	}
	return &bytePattern{items: items}
}

func patItems(subs []*syntax.Regexp) ([]patItem, bool) {
	var items []patItem
	for _, s := range subs {
		switch s.Op {
		case syntax.OpLiteral:
			if s.Flags&syntax.FoldCase != 0 {
				return nil, false
			}
			for _, r := range s.Rune {
				items = append(items, patItem{ranges: []rune{r, r}, min: 1, max: 1})
			}
			continue
		case syntax.OpQuest:
			if g := groupBody(s.Sub[0]); g != nil {
				body, ok := patItems(g)
				if !ok || len(body) == 0 || body[0].min < 1 || body[0].group != nil {
					return nil, false
				}
				items = append(items, patItem{group: body, min: 0, max: 1})
				continue
			}
		}
		it, ok := repeatItem(s)
		if !ok {
			return nil, false
		}
		items = append(items, it)
	}
	return items, true
}

// groupBody is the sequence inside an optional group, or nil if s is a
// single class.
func groupBody(s *syntax.Regexp) []*syntax.Regexp {
	if s.Op == syntax.OpCapture {
		s = s.Sub[0]
	}
	switch s.Op {
	case syntax.OpConcat:
		return s.Sub
	case syntax.OpLiteral:
		if len(s.Rune) > 1 {
			return []*syntax.Regexp{s}
		}
	}
	return nil
}

func repeatItem(s *syntax.Regexp) (patItem, bool) {
	min, max := 1, 1
	switch s.Op {
	case syntax.OpStar:
		min, max, s = 0, -1, s.Sub[0]
	case syntax.OpPlus:
		min, max, s = 1, -1, s.Sub[0]
	case syntax.OpQuest:
		min, max, s = 0, 1, s.Sub[0]
	case syntax.OpRepeat:
		min, max, s = s.Min, s.Max, s.Sub[0]
	}
	if s.Op == syntax.OpCapture {
		return patItem{}, false
	}
	ranges, ok := classOf(s)
	return patItem{ranges: ranges, min: min, max: max}, ok
}

func classOf(s *syntax.Regexp) ([]rune, bool) {
	switch s.Op {
	case syntax.OpLiteral:
		if len(s.Rune) == 1 && s.Flags&syntax.FoldCase == 0 {
			return []rune{s.Rune[0], s.Rune[0]}, true
		}
	case syntax.OpCharClass:
		return s.Rune, len(s.Rune) > 0
	case syntax.OpAnyCharNotNL:
		return []rune{0, '\n' - 1, '\n' + 1, utf8.MaxRune}, true
	case syntax.OpAnyChar:
		return []rune{0, utf8.MaxRune}, true
	}
	return nil, false
}

// deterministic reports whether the greedy loop over items decides as the
// regexp does, given the classes that may follow the sequence (nil: the
// end of the text).
func deterministic(items []patItem, after [][]rune) bool {
	for i := range items {
		it := &items[i]
		follow := followSet(items[i+1:], after)
		if it.group != nil {
			if !deterministic(it.group, follow) {
				return false
			}
		}
		if it.min == it.max {
			continue
		}
		for _, f := range follow {
			if rangesOverlap(it.first(), f) {
				return false
			}
		}
	}
	return true
}

// followSet is every class a match of items (then after) may start with.
func followSet(items []patItem, after [][]rune) [][]rune {
	var set [][]rune
	for i := range items {
		set = append(set, items[i].first())
		if items[i].min > 0 {
			return set
		}
	}
	return append(set, after...)
}

func rangesOverlap(a, b []rune) bool {
	for i := 0; i+1 < len(a); i += 2 {
		for j := 0; j+1 < len(b); j += 2 {
			if a[i] <= b[j+1] && b[j] <= a[i+1] {
				return true
			}
		}
	}
	return false
}

// match reports whether all of b matches the pattern.
func (p *bytePattern) match(b []byte) bool {
	i, ok := matchItems(p.items, b, 0)
	return ok && i == len(b)
}

func matchItems(items []patItem, b []byte, i int) (int, bool) {
	for k := range items {
		it := &items[k]
		if it.group != nil {
			if r, _ := runeAt(b, i); i < len(b) && it.group[0].has(r) {
				var ok bool
				if i, ok = matchItems(it.group, b, i); !ok {
					return i, false
				}
			}
			continue
		}
		n := 0
		for (it.max < 0 || n < it.max) && i < len(b) {
			if c := b[i]; c < utf8.RuneSelf {
				if !it.hasByte(c) {
					break
				}
				i++
			} else {
				r, size := utf8.DecodeRune(b[i:])
				if !it.has(r) {
					break
				}
				i += size
			}
			n++
		}
		if n < it.min {
			return i, false
		}
	}
	return i, true
}

// runeAt decodes the character at b[i] as the regexp package does (an
// invalid byte is U+FFFD, one byte long).
func runeAt(b []byte, i int) (rune, int) {
	if i >= len(b) {
		return utf8.RuneError, 0
	}
	if c := b[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRune(b[i:])
}

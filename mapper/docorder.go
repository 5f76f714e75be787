package mapper

import (
	"slices"
	"strings"

	"github.com/valyala/fastjson"
)

// docPos is where a field is in a payload: the member index at each step
// of its path (the first element for "[]"), and absent steps after every
// present member. Only the first maxDocDepth steps count.
type docPos struct {
	steps [maxDocDepth]int32
	n     int
}

const maxDocDepth = 12

const absentStep = 1 << 30

// positionOf locates a normalised field path in doc.
func positionOf(doc *fastjson.Value, field string) docPos {
	var p docPos
	cur := doc
	for field != "" && p.n < maxDocDepth {
		var seg string
		switch {
		case strings.HasPrefix(field, "[]"):
			seg, field = "[]", strings.TrimPrefix(field[2:], ".")
		default:
			end := strings.IndexAny(field, ".[")
			if end < 0 {
				end = len(field)
			}
			seg, field = field[:end], strings.TrimPrefix(field[end:], ".")
		}
		step := int32(absentStep)
		var next *fastjson.Value
		if cur != nil {
			switch cur.Type() {
			case fastjson.TypeArray:
				if a, _ := cur.Array(); seg == "[]" && len(a) > 0 {
					step, next = 0, a[0]
				}
			case fastjson.TypeObject:
				o, _ := cur.Object()
				i := int32(0)
				o.Visit(func(k []byte, v *fastjson.Value) {
					if next == nil && string(k) == seg {
						step, next = i, v
					}
					i++
				})
			}
		}
		p.steps[p.n] = step
		p.n++
		cur = next
	}
	return p
}

// add appends a step, if there is room for it.
func (p *docPos) add(step int) {
	if p.n < maxDocDepth {
		p.steps[p.n] = int32(step)
		p.n++
	}
}

func (a *docPos) cmp(b *docPos) int {
	for i := 0; i < min(a.n, b.n); i++ {
		if a.steps[i] != b.steps[i] {
			if a.steps[i] < b.steps[i] {
				return -1
			}
			return 1
		}
	}
	return a.n - b.n
}

// sortByDocument orders the input schema's failures by where their field
// is in the payload (a field that is absent comes after its parent's
// members), then by field and reason: the order no longer depends on how
// the validator walked the schema, so a payload gets the same list every
// time.
func (m *Mapper) sortByDocument(doc *fastjson.Value, fs []Failure) {
	m.pos = m.pos[:0]
	for i := range fs {
		m.pos = append(m.pos, positionOf(doc, fs[i].Field))
	}
	m.sortByPositions(fs)
}

// sortByPositions is sortByDocument with the positions of fs in m.pos.
func (m *Mapper) sortByPositions(fs []Failure) {
	idx := m.order[:0]
	for i := range fs {
		idx = append(idx, i)
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := m.pos[a].cmp(&m.pos[b]); c != 0 {
			return c
		}
		if c := strings.Compare(fs[a].Field, fs[b].Field); c != 0 {
			return c
		}
		return strings.Compare(string(fs[a].Reason), string(fs[b].Reason))
	})
	m.sorted = append(m.sorted[:0], fs...)
	for i, j := range idx {
		fs[i] = m.sorted[j]
	}
	m.order = idx
	clear(m.sorted)
}

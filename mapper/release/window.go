package release

import (
	"sync"
	"time"
)

// buckets is how many buckets a window has: it slides in steps of a tenth
// of its span.
const buckets = 10

// window counts records, and two yes/no properties of them, over a sliding
// span of time. Safe for concurrent use; its zero value must be init'ed.
type window struct {
	mu   sync.Mutex
	step int64 // nanoseconds per bucket
	b    [buckets]bucket
}

type bucket struct {
	id      int64
	n, a, b int64
}

func (w *window) init(span time.Duration) {
	w.step = max(int64(span)/buckets, 1)
}

// add counts one record at now, with properties a and b, and returns the
// totals over the window that ends at now.
func (w *window) add(now time.Time, a, b bool) (n, na, nb int64) {
	id := now.UnixNano() / w.step
	w.mu.Lock()
	defer w.mu.Unlock()
	cur := &w.b[id%buckets]
	if cur.id != id {
		*cur = bucket{id: id}
	}
	cur.n++
	if a {
		cur.a++
	}
	if b {
		cur.b++
	}
	for i := range w.b {
		if x := &w.b[i]; id-x.id < buckets && x.id <= id {
			n, na, nb = n+x.n, na+x.a, nb+x.b
		}
	}
	return n, na, nb
}

package stream

import (
	"testing"
	"time"
)

func TestHistory(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 13, 0, 10, 0, time.UTC)
	orders := sourceKey{"orders", 1}
	one := func(i int) map[sourceKey]*[3]int64 {
		c := new([3]int64)
		c[i] = 1
		return map[sourceKey]*[3]int64{orders: c}
	}
	t.Run("records land in their minute, empty minutes are zero", func(t *testing.T) {
		var h history
		h.add(t0, one(0))
		h.add(t0.Add(30*time.Second), one(2))
		h.add(t0.Add(2*time.Minute), one(1))
		got := h.snapshot(t0.Add(2*time.Minute), 3)
		if len(got) != 3 {
			t.Fatalf("%d minutes, want 3", len(got))
		}
		if !got[0].Start.Equal(time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)) {
			t.Errorf("first minute starts %v", got[0].Start)
		}
		if s := got[0].Sources; len(s) != 1 || s[0].Mapped != 1 || s[0].Rejected != 1 || s[0].Degraded != 0 {
			t.Errorf("minute 0 = %+v, want 1 mapped and 1 rejected", s)
		}
		if len(got[1].Sources) != 0 {
			t.Errorf("minute 1 = %+v, want none", got[1].Sources)
		}
		if s := got[2].Sources; len(s) != 1 || s[0].Degraded != 1 {
			t.Errorf("minute 2 = %+v, want 1 degraded", s)
		}
	})
	t.Run("a minute that comes round again starts from zero", func(t *testing.T) {
		var h history
		h.add(t0, one(0))
		later := t0.Add(HistoryMinutes * time.Minute) // the same bucket
		h.add(later, one(2))
		got := h.snapshot(later, HistoryMinutes)
		last := got[len(got)-1].Sources
		if len(last) != 1 || last[0].Mapped != 0 || last[0].Rejected != 1 {
			t.Errorf("reused minute = %+v, want only the new record", last)
		}
		for _, m := range got[:len(got)-1] {
			if len(m.Sources) != 0 {
				t.Errorf("minute %v = %+v, want none (older than the ring)", m.Start, m.Sources)
			}
		}
	})
	t.Run("at most HistoryMinutes are returned", func(t *testing.T) {
		var h history
		if got := h.snapshot(t0, 1000); len(got) != HistoryMinutes {
			t.Errorf("%d minutes, want %d", len(got), HistoryMinutes)
		}
	})
}

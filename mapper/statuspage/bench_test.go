package statuspage_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper/statuspage"
	"github.com/mapperhq/mapper/mapper/stream"
)

// BenchmarkPage is one view of the page: the status document encoded,
// decoded and rendered.
func BenchmarkPage(b *testing.B) {
	st := status(time.Now())
	for range 12 {
		st.History = append(st.History, st.History[len(st.History)-1])
	}
	h, err := statuspage.Handler(statuspage.Config{Status: func(context.Context) any { return st }, Objectives: map[string]float64{"orders": 0.95}})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		rw := httptest.NewRecorder()
		h.ServeHTTP(rw, req)
		if rw.Code != 200 {
			b.Fatal(rw.Code)
		}
	}
	_ = stream.HistoryMinutes
}

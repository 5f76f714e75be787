package alerts_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
)

// BenchmarkObserve measures Observe alone while the Sentry endpoint hangs,
// over a mix of mapped and failing records of a real source.
func BenchmarkObserve(b *testing.B) {
	src := loadShop(b)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	a, err := alerts.New(alerts.Config{DSN: "http://k@" + strings.TrimPrefix(srv.URL, "http://") + "/1", FlushTimeout: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	var results [][2]any
	for _, p := range []string{
		`{"order_id":"1","customer":{"email":"a@b.co"},"state":"PAID"}`,
		`{"order_id":"2","customer":{"email":"a@b.co"},"state":"LOST"}`,
		`{"customer":{"email":"a@b.co"}}`,
		`{"order_id":"3","customer":{"email":"a@b.co"},"state":"OPEN"}`,
	} {
		r := src.Map([]byte(p))
		results = append(results, [2]any{[]byte(p), &r})
	}
	origin := &mapper.Origin{Topic: "shop.orders"}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r := results[i%len(results)]
			a.Observe(origin, src, r[0].([]byte), r[1].(*mapper.Result), time.Microsecond)
			i++
		}
	})
}

package metrics_test

import (
	"net"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/metrics"
)

// BenchmarkObserve measures Observe alone, to a live UDP listener, over a
// mix of mapped and failing records of a real source, and the same through
// a Batch.
func BenchmarkObserve(b *testing.B) {
	src := loadShop(b)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	go func() {
		buf := make([]byte, 1<<16)
		for {
			if _, _, err := conn.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	c, err := metrics.New(metrics.Config{Addr: conn.LocalAddr().String()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var results []mapper.Result
	for _, p := range []string{
		`{"order_id":"1","customer":{"email":"a@b.co"},"state":"PAID"}`,
		`{"order_id":"2","customer":{"email":"a@b.co"},"state":"LOST"}`,
		`{"customer":{"email":"a@b.co"}}`,
		`{"order_id":"3","customer":{"email":"a@b.co"},"state":"OPEN"}`,
	} {
		results = append(results, src.Map([]byte(p)))
	}
	origin := &mapper.Origin{Topic: "shop.orders"}
	b.Run("record", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				c.Observe(origin, src, nil, &results[i%len(results)], time.Microsecond)
				i++
			}
		})
	})
	// The worker's way: a Batch per goroutine, flushed every 500 records.
	b.Run("batch", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			batch := c.NewBatch()
			i := 0
			for pb.Next() {
				batch.Observe(origin, src, nil, &results[i%len(results)], time.Microsecond)
				if i++; i%500 == 0 {
					batch.Flush()
				}
			}
			batch.Flush()
		})
	})
}

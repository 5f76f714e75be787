//go:build unix

package main

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/observe"
)

// observer is the worker's Observer contract, declared here for the benchmark.
type benchObserver interface {
	Observe(origin *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, took time.Duration)
}

// benchRecords returns the shipped orders fixtures (clean and defective).
func benchRecords(b *testing.B) (*mapper.Source, [][]byte) {
	b.Helper()
	eng, err := mapper.Load("../../rules", "../../schemas", mapper.Options{})
	if err != nil {
		b.Fatal(err)
	}
	src := eng.Source("orders")
	if src == nil {
		b.Fatal("no orders source")
	}
	var payloads [][]byte
	for _, name := range []string{"../../fixtures/orders/generated.jsonl", "../../fixtures/orders/defects.jsonl"} {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
				payloads = append(payloads, append([]byte(nil), line...))
			}
		}
		f.Close()
	}
	return src, payloads
}

// processCPU returns the user+system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkObserveTelemetry maps the orders fixtures and tells the
// observers of each record, as the worker's mapping goroutines do:
// "off" maps only; "metrics" adds DogStatsD to a live UDP listener;
// "metrics+sentry-hanging" and "metrics+sentry-429" add the Sentry alerter
// against an endpoint that never answers or always answers 429.
// Compare ns/op of the variants with "off".
func BenchmarkObserveTelemetry(b *testing.B) {
	src, payloads := benchRecords(b)

	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer udp.Close()
	go func() { // a live agent: drain every datagram
		buf := make([]byte, 1<<16)
		for {
			if _, _, err := udp.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hanging.Close()
	defer close(release)
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer refusing.Close()
	dsn := func(s *httptest.Server) string { return "http://k@" + strings.TrimPrefix(s.URL, "http://") + "/1" }

	variants := []struct {
		name    string
		metrics bool
		sentry  string
	}{
		{"off", false, ""},
		{"metrics", true, ""},
		{"metrics+sentry-hanging", true, dsn(hanging)},
		{"metrics+sentry-429", true, dsn(refusing)},
	}
	for _, v := range variants {
		for _, parallel := range []bool{false, true} {
			name := v.name + "/serial"
			if parallel {
				name = v.name + "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				vars := map[string]string{"DD_DOGSTATSD_URL": "udp://" + udp.LocalAddr().String(), "SENTRY_DSN": v.sentry}
				if !v.metrics {
					vars["MAPPER_METRICS"] = "false"
				}
				e := telemetryEnv(vars)
				tf := parseTelemetryFlags(b, e)
				mc, err := observe.NewMetrics(tf.settings(e, nil))
				if err != nil {
					b.Fatal(err)
				}
				al, err := observe.NewAlerts(tf.settings(e, nil), mc, nil)
				if err != nil {
					b.Fatal(err)
				}
				var obs []benchObserver
				if mc != nil {
					obs = append(obs, mc)
				}
				if al != nil {
					obs = append(obs, al)
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := processCPU(b)
				if parallel {
					b.RunParallel(func(pb *testing.PB) {
						var m mapper.Mapper
						var res mapper.Result
						origin := &mapper.Origin{Topic: "partner.orders.raw"}
						i := 0
						for pb.Next() {
							p := payloads[i%len(payloads)]
							i++
							m.Map(src, p, &res)
							origin.Offset++
							for _, o := range obs {
								o.Observe(origin, src, p, &res, time.Microsecond)
							}
						}
					})
				} else {
					var m mapper.Mapper
					var res mapper.Result
					origin := &mapper.Origin{Topic: "partner.orders.raw"}
					for i := 0; i < b.N; i++ {
						p := payloads[i%len(payloads)]
						m.Map(src, p, &res)
						origin.Offset++
						for _, o := range obs {
							o.Observe(origin, src, p, &res, time.Microsecond)
						}
					}
				}
				b.StopTimer()
				// The machine may be shared: CPU time of the whole process
				// (the clients' goroutines included) per record is the
				// figure to compare, wall time per op is noisier.
				b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
				mc.Close()
				al.Close()
			})
		}
	}
}

package mapper_test

import (
	"testing"
)

// benchRedact measures one call of Source.Redact, which runs once per kept
// sample and Sentry event (not per record).
func benchRedact(b *testing.B, source string, payload []byte) {
	src := loadShipped(b).Source(source)
	if src == nil {
		b.Fatalf("no source %q", source)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		_ = src.Redact(payload)
	}
}

func BenchmarkRedactOrder(b *testing.B) { benchRedact(b, "orders", []byte(cleanOrder)) }

func BenchmarkRedactOrderDrifted(b *testing.B) {
	benchRedact(b, "orders", []byte(`{"order_id":"ORD-1","customer":"Chloe Nguyen <chloe@mail.example.org>","items":[{"sku":"SKU-1","qty":2}],"amount":"2.00","meta":[{"ip":"10.1.2.3"}]}`))
}

func BenchmarkRedactGitHub(b *testing.B) {
	benchRedact(b, "github-work-items", readFixture(b, "../fixtures/github-work-items/pull_request.closed.payload.json"))
}

func BenchmarkRedactMalformed(b *testing.B) { benchRedact(b, "orders", []byte(cleanOrder[:300])) }

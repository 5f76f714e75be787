package mapper_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

func loadShipped(tb testing.TB) *mapper.Engine {
	tb.Helper()
	eng, err := mapper.Load("../rules", "../schemas", mapper.Options{})
	if err != nil {
		tb.Fatalf("load shipped rules: %v", err)
	}
	return eng
}

func benchMap(b *testing.B, source string, payload []byte) {
	eng := loadShipped(b)
	src := eng.Source(source)
	if src == nil {
		b.Fatalf("no source %q", source)
	}
	var m mapper.Mapper
	var res mapper.Result
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		m.Map(src, payload, &res)
	}
}

const cleanOrder = `{"order_id":"ORD-000000001","source":"partner-beta","customer":{"email":"Chloe.Nguyen100@mail.example.org","name":"Chloe Nguyen","address":{"line1":"212 Main St","city":"Berlin","postcode":"12345","country":"DE"}},"items":[{"sku":"SKU-12345","qty":2,"price":"12.30","title":"Widget 7"},{"sku":"SKU-54321","qty":1,"price":"199.99","title":"Gadget 3"}],"amount":"224.59","currency":"USD","status":"paid","created":"2024-05-01T12:00:00Z","shipping":{"method":"express","tracking":"TRK123456789012","eta_days":3},"meta":{"channel":"web","ip":"10.1.2.3","user_agent":"curl/8.5.0"}}`

const defectiveOrder = `{"order_id":"ORD-000000002","source":"partner-beta","customer":{"email":null,"name":"Chloe Nguyen","address":{"line1":"212 Main St","city":"Berlin","postcode":"12345","country":"DE"}},"items":[{"sku":"SKU-12345","qty":"2","price":"12.30","title":"Widget 7"}],"amount":"224.59","currency":"USD","status":"on-hold","created":"yesterday","shipping":{"method":"express","tracking":"TRK123456789012","eta_days":3},"meta":{"channel":"web","ip":"10.1.2.3","user_agent":"curl/8.5.0"}}`

func BenchmarkMapOrderClean(b *testing.B)     { benchMap(b, "orders", []byte(cleanOrder)) }
func BenchmarkMapOrderDefective(b *testing.B) { benchMap(b, "orders", []byte(defectiveOrder)) }

func readFixture(b *testing.B, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkMapGitHubClean(b *testing.B) {
	benchMap(b, "github-work-items", readFixture(b, "../fixtures/github-work-items/pull_request.closed.payload.json"))
}

func BenchmarkMapGitHubDefective(b *testing.B) {
	// pinned issues carry no state and no labels: rejected and defaulted.
	benchMap(b, "github-work-items", readFixture(b, "../fixtures/github-work-items/issues.pinned.payload.json"))
}

func BenchmarkMapOrderMalformed(b *testing.B) {
	benchMap(b, "orders", []byte(cleanOrder[:300]))
}

// BenchmarkMapOrderFullPass maps a clean order with the reference
// validator's full pass on every record (input_validation.full_share: 1),
// the cost each sampled record pays.
func BenchmarkMapOrderFullPass(b *testing.B) {
	rules, err := os.ReadFile("../rules/orders.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	rules = bytes.Replace(rules, []byte("full_share: 0.01"), []byte("full_share: 1"), 1)
	if err := os.WriteFile(filepath.Join(dir, "orders.yaml"), rules, 0o644); err != nil {
		b.Fatal(err)
	}
	eng, err := mapper.Load(dir, "../schemas", mapper.Options{})
	if err != nil {
		b.Fatal(err)
	}
	src := eng.Source("orders")
	var m mapper.Mapper
	var res mapper.Result
	payload := []byte(cleanOrder)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		m.Map(src, payload, &res)
	}
}

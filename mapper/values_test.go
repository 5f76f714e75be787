package mapper_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

func TestValueScanner(t *testing.T) {
	eng, err := mapper.Load(filepath.Join("..", "rules"), filepath.Join("..", "schemas"), mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("orders")
	payload := []byte(`{"status":"on-hold","customer":{"email":"a@b.c","name":"Ana"},"items":[{"sku":"A","qty":"2"},{"sku":"B","qty":3},{"qty":1}],"meta":{"ip":"10.0.0.1"},"created":"21/11/2024 10:00","n":null,"tags":[1,"x",{"a":1}]}`)
	tests := []struct {
		name  string
		field string
		max   int
		want  []string
	}{
		{"a string is reported quoted", "status", 8, []string{`"on-hold"`}},
		{"each array element's value is reported", "items[].qty", 8, []string{`"2"`, `3`, `1`}},
		{"max bounds the values reported", "items[].qty", 2, []string{`"2"`, `3`}},
		{"array elements themselves, containers as markers", "tags[]", 8, []string{`1`, `"x"`, mapper.ContainerObject}},
		{"an object is a marker, never its content", "customer", 8, []string{mapper.ContainerObject}},
		{"null is reported", "n", 8, []string{"null"}},
		{"an absent field reports nothing", "shipping.method", 8, nil},
		{"a redacted field reports nothing", "customer.email", 8, nil},
		{"a field under a redacted path reports nothing", "meta.ip", 8, nil},
		{"a path through a scalar reports nothing", "status.x", 8, nil},
	}
	var vs mapper.ValueScanner
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			n := vs.Scan(src, payload, tc.field, tc.max, func(b []byte) { got = append(got, string(b)) })
			if !reflect.DeepEqual(got, tc.want) || n != len(tc.want) {
				t.Fatalf("Scan(%q) = %q (n=%d), want %q", tc.field, got, n, tc.want)
			}
		})
	}
	t.Run("a scalar where a redacted field's parent should be reports nothing", func(t *testing.T) {
		p := []byte(`{"customer":"ana@example.com","meta":["10.0.0.1"]}`)
		for _, field := range []string{"customer", "meta", "meta[]"} {
			vs.Scan(src, p, field, 8, func(b []byte) {
				if string(b) != mapper.ContainerArray {
					t.Errorf("Scan(%q) reported %s", field, b)
				}
			})
		}
	})
	t.Run("hostile input reports nothing", func(t *testing.T) {
		for _, p := range []string{"", "not json", `{"status":`, `[1,2]`, `"status"`} {
			if n := vs.Scan(src, []byte(p), "status", 8, func([]byte) { t.Errorf("reported a value of %q", p) }); n != 0 {
				t.Errorf("Scan(%q) = %d", p, n)
			}
		}
	})
}

func BenchmarkValueScanner(b *testing.B) {
	eng, err := mapper.Load(filepath.Join("..", "rules"), filepath.Join("..", "schemas"), mapper.Options{})
	if err != nil {
		b.Fatal(err)
	}
	src := eng.Source("orders")
	payload := []byte(`{"order_id":"ORD-1","status":"on-hold","customer":{"email":"a@b.c","name":"Ana"},"items":[{"sku":"A","qty":"2"},{"sku":"B","qty":3}],"meta":{"ip":"10.0.0.1"}}`)
	var vs mapper.ValueScanner
	b.ReportAllocs()
	for b.Loop() {
		vs.Scan(src, payload, "items[].qty", 8, func([]byte) {})
	}
}

// FuzzValueScannerNeverReportsRedactedValues: whatever the payload's
// shape, a field at or under a redact path reports nothing, and a field
// above one reports no scalar.
func FuzzValueScannerNeverReportsRedactedValues(f *testing.F) {
	eng, err := mapper.Load(filepath.Join("..", "rules"), filepath.Join("..", "schemas"), mapper.Options{})
	if err != nil {
		f.Fatal(err)
	}
	src := eng.Source("orders")
	for _, seed := range []string{
		`{"customer":{"email":"ana@example.com","address":{"city":"Lisbon"}}}`,
		`{"customer":"ana@example.com","meta":{"ip":"10.0.0.1"}}`,
		`{"customer":[{"email":1}],"meta":[["10.0.0.1"]]}`,
		`{"customer":{"email":{"v":"x"}},"meta":null}`,
		`not json`,
	} {
		f.Add([]byte(seed))
	}
	var vs mapper.ValueScanner
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, field := range []string{"customer.email", "customer.email.v", "customer.address.city", "meta.ip", "meta[].ip", "customer.name"} {
			vs.Scan(src, payload, field, 8, func(b []byte) {
				t.Errorf("redacted field %s reported %s", field, b)
			})
		}
		for _, field := range []string{"customer", "meta", "meta[]", "customer[]"} {
			vs.Scan(src, payload, field, 8, func(b []byte) {
				if s := string(b); s != mapper.ContainerObject && s != mapper.ContainerArray {
					t.Errorf("field %s above a redacted one reported %s", field, b)
				}
			})
		}
	})
}

package mapper_test

import (
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

const invoicePayload = `{"id":"in_1","object":"invoice","amount":150000,"currency":"eur","customer":{"first_name":"Ana","last_name":"Silva"},"billing":{"street":"1 Main St","postcode":"1000-001","city":"Lisbon"},"account":{"country":"PT"},"lines":{"object":"list","data":[{"id":"il_1","amount":100000,"tax_amounts":[{"amount":23000}]},{"id":"il_2","amount":50000,"tax_amounts":[]}]}}`

const chargePayload = `{"id":"ch_1","object":"charge","amount":9999.99,"currency":"eur","captured":true,"customer":{"first_name":"Ana","last_name":"Silva"},"account":{"country":"DE"}}`

// The language forms on the record path: templates, exact comparisons,
// default_from, $root/$parent inside nested each, when.
func benchPayments(b *testing.B, payload string) {
	eng, err := mapper.Load("testdata/payments/rules", "testdata/payments/schemas", mapper.Options{})
	if err != nil {
		b.Fatal(err)
	}
	src := eng.Source("payments")
	var m mapper.Mapper
	var res mapper.Result
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		m.Map(src, []byte(payload), &res)
	}
	if res.Outcome != mapper.OutcomeMapped {
		b.Fatalf("%s: %v", res.Outcome, res.Failures)
	}
}

func BenchmarkMapPaymentsInvoice(b *testing.B) { benchPayments(b, invoicePayload) }
func BenchmarkMapPaymentsCharge(b *testing.B)  { benchPayments(b, chargePayload) }

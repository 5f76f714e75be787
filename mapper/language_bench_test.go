package mapper_test

import (
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

const invoicePayload = `{"id":"in_1","object":"invoice","amount":150000,"currency":"eur","customer":{"first_name":"Ana","last_name":"Silva"},"billing":{"street":"1 Main St","postcode":"1000-001","city":"Lisbon"},"account":{"country":"PT"},"lines":{"object":"list","data":[{"id":"il_1","amount":100000,"tax_amounts":[{"amount":23000}]},{"id":"il_2","amount":50000,"tax_amounts":[]}]}}`

const chargePayload = `{"id":"ch_1","object":"charge","amount":9999.99,"currency":"eur","captured":true,"customer":{"first_name":"Ana","last_name":"Silva"},"account":{"country":"DE"}}`

const providerCharge = `{"id":"ch_1","object":"charge","amount":123456789012345678901234567890,"currency":"kwd","status":"succeeded","description":"Tea","created":1700000000,"captured":true,"livemode":true,"risk":{"level":"normal"},"payment_method_details":{"type":"card","card":{"last4":"4242"}}}`

// The language forms on the record path: templates, exact comparisons,
// default_from, $root/$parent inside nested each, when.
func benchPayments(b *testing.B, payload string) { benchSource(b, "payments", payload) }

func benchSource(b *testing.B, source, payload string) {
	eng, err := mapper.Load("testdata/payments/rules", "testdata/payments/schemas", mapper.Options{})
	if err != nil {
		b.Fatal(err)
	}
	src := eng.Source(source)
	var m mapper.Mapper
	var res mapper.Result
	p := []byte(payload) // once: the record path's allocations are what is counted
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		m.Map(src, p, &res)
	}
	if res.Outcome != mapper.OutcomeMapped {
		b.Fatalf("%s: %v", res.Outcome, res.Failures)
	}
}

func BenchmarkMapPaymentsInvoice(b *testing.B) { benchPayments(b, invoicePayload) }
func BenchmarkMapPaymentsCharge(b *testing.B)  { benchPayments(b, chargePayload) }

// minor_to_decimal with currency_from, cases with from, all/any/not and a
// template separator, on a 30-digit amount.
func BenchmarkMapPaymentsProviderCharge(b *testing.B) { benchSource(b, "provider", providerCharge) }

// A decimal value costs no allocation on the record path: the charge's
// non-integer 9999.99 against the schema's checks and comparisons, and a
// 30-digit amount through minor_to_decimal with currency_from.
func TestPaymentsDecimalsAllocateNothing(t *testing.T) {
	eng, err := mapper.Load("testdata/payments/rules", "testdata/payments/schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ source, payload string }{{"payments", chargePayload}, {"provider", providerCharge}} {
		src := eng.Source(tc.source)
		var m mapper.Mapper
		var res mapper.Result
		p := []byte(tc.payload)
		allocs := testing.AllocsPerRun(100, func() { m.Map(src, p, &res) })
		if res.Outcome != mapper.OutcomeMapped {
			t.Fatalf("%s: %s %v", tc.source, res.Outcome, res.Failures)
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocations a record, want 0", tc.source, allocs)
		}
	}
}

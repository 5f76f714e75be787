package samples_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

func TestWriteText(t *testing.T) {
	at := time.Date(2026, 11, 21, 10, 57, 24, 0, time.UTC)
	tests := []struct {
		name string
		s    samples.Sample
		want string
	}{
		{"failing fields marked in key order, nested and in arrays, absent ones listed",
			samples.Sample{CapturedAt: at, RulesVersion: 1, Outcome: mapper.OutcomeRejected, Imported: "generated.jsonl:8",
				Failures: []mapper.Failure{
					{Reason: mapper.ReasonUnknownEnum, Field: "status", Detail: `"on-hold" is not one of "paid"`},
					{Reason: mapper.ReasonTypeMismatch, Field: "items[].qty", Detail: "string, expected integer"},
					{Reason: mapper.ReasonMissingField, Field: "currency", Detail: "required field is absent"},
				},
				Payload: []byte(`{"status":"on-hold","customer":{"email":"Xxx@xxx.xx"},"items":[{"sku":"A","qty":"2"},{"sku":"B","qty":1}],"n":1.50}`)},
			`#3  rejected  imported from generated.jsonl:8  rules v1  captured 2026-11-21T10:57:24Z
failure unknown_enum:status: "on-hold" is not one of "paid"
failure type_mismatch:items[].qty: string, expected integer
failure missing_field:currency: required field is absent
{
  "status": "on-hold",  <-- unknown_enum
  "customer": {
    "email": "Xxx@xxx.xx"
  },
  "items": [
    {
      "sku": "A",
      "qty": "2"  <-- type_mismatch
    },
    {
      "sku": "B",
      "qty": 1  <-- type_mismatch
    }
  ],
  "n": 1.50
}
not in payload: currency (missing_field)
`},
		{"a payload that is not JSON, from a topic",
			samples.Sample{CapturedAt: at, RulesVersion: 2, Outcome: mapper.OutcomeRejected, Topic: "t", Partition: 1, Offset: 9, Key: []byte("k"),
				Headers:       []samples.Header{{Key: "X-GitHub-Event", Value: []byte("issues")}},
				Failures:      []mapper.Failure{{Reason: mapper.ReasonMalformedPayload, Detail: "not JSON"}},
				PayloadBase64: []byte("xxx xxx")},
			`#3  rejected  t/1@9  rules v2  captured 2026-11-21T10:57:24Z
key: "k"
header X-GitHub-Event: "issues"
failure malformed_payload: not JSON
payload (not JSON): "xxx xxx"
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := samples.WriteText(&b, 3, &tt.s); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
}

package mapper_test

import (
	"fmt"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

func TestFailureOrderIsDeterministic(t *testing.T) {
	rules, schemas := writeRules(t, map[string]string{
		"rules/a.yaml": `source: s
version: 1
topics: [t]
input_schema: in.json
output_schema: out.json
fields:
  id: { from: id, required: true }
  z:  { from: z, required: true }
  a:  { from: a, required: true }
`,
		// if/then/else makes the full reference validation run on every
		// record; its errors come from maps.
		"schemas/in.json": `{"type":"object",
  "if": {"properties":{"kind":{"const":"x"}}},
  "then": {"properties":{"p":{"type":"string"},"q":{"type":"string"},"r":{"type":"string"},"s":{"type":"string"}}},
  "else": {"required":["k1","k2","k3"]},
  "properties":{"id":{"type":"string"},"b":{"type":"integer"},"c":{"type":"integer"},"d":{"type":"integer"},
    "e":{"type":"object","properties":{"f":{"type":"integer"},"g":{"type":"integer"}}}}}`,
	})
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("s")
	tests := []struct{ name, payload, want string }{
		{"then branch: document order, then rules order",
			`{"kind":"x","s":1,"e":{"g":"7","f":"6"},"q":2,"d":"4","p":3,"c":"3","r":4,"b":"2"}`,
			"type_mismatch@s type_mismatch@e.g type_mismatch@e.f type_mismatch@q type_mismatch@d type_mismatch@p " +
				"type_mismatch@c type_mismatch@r type_mismatch@b missing_field@id missing_field@z missing_field@a"},
		{"else branch: missing fields after the present ones",
			`{"kind":"y","d":"4","b":"2","id":"1"}`,
			"type_mismatch@d type_mismatch@b missing_field@k1 missing_field@k2 missing_field@k3 missing_field@z missing_field@a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m mapper.Mapper
			var res mapper.Result
			for i := range 300 {
				m.Map(src, []byte(tt.payload), &res)
				got := ""
				for j, f := range res.Failures {
					if j > 0 {
						got += " "
					}
					got += fmt.Sprintf("%s@%s", f.Reason, f.Field)
				}
				if got != tt.want {
					t.Fatalf("run %d:\n got %s\nwant %s", i, got, tt.want)
				}
			}
		})
	}
}

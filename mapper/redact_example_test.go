package mapper_test

import (
	"fmt"
	"testing/fstest"

	"github.com/mapperhq/mapper/mapper"
)

// A customer that arrives as a string, where the rules expect an object
// holding a redacted e-mail, is masked whole.
func ExampleSource_Redact() {
	rules := fstest.MapFS{"people.yaml": {Data: []byte(`source: people
version: 1
topics: [people]
output_schema: out.json
fields:
  email: { from: customer.email, required: true }
redact: [customer.email, lines[].sku]
`)}}
	schemas := fstest.MapFS{"out.json": {Data: []byte(`{"type": "object"}`)}}
	eng, err := mapper.LoadFS(rules, "rules", schemas, "schemas", mapper.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	src := eng.Source("people")
	payload := []byte(`{"customer":"Jane <jane@example.org>","lines":[{"sku":"AB-12","qty":2}]}`)
	fmt.Println(string(src.Redact(payload)))
	for _, f := range src.Map(payload).Failures {
		fmt.Println(f.Category(), "-", f.Detail)
	}
	// Output:
	// {"customer":"Xxxx <xxxx@xxxxxxx.xxx>","lines":[{"sku":"XX-00","qty":2}]}
	// type_mismatch:customer - detail withheld: the value is, or holds, a redacted field (type_mismatch)
}

package mapper_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

func TestInputEnumsSayWhereTheSchemaListsAFieldsValues(t *testing.T) {
	const schema = `{
  "type": "object",
  "properties": {
    "object": {"enum": ["invoice", "charge"]},
    "kind": {"const": "x"},
    "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}},
    "free": {"type": "string"},
    "code": {"enum": [12345678901234567890, 1.50, 1e3]},
    "big": {"const": 12345678901234567890}
  },
  "allOf": [{"properties": {"object": {"enum": ["invoice", "charge", "refund"]}}}],
  "$defs": {"line": {"properties": {"unit": {"type": "string", "enum": ["day", "month"]}}}}
}`
	eng, err := loadWithSchema(t, schema, invoiceHead)
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("invoices")
	tests := []struct {
		name, field string
		want        []mapper.InputEnum
		err         string
	}{
		{"an enum at the field and one in allOf, each with its pointer", "object", []mapper.InputEnum{
			{File: "in.json", Pointer: "/properties/object", Values: []string{"invoice", "charge"}},
			{File: "in.json", Pointer: "/allOf/0/properties/object", Values: []string{"invoice", "charge", "refund"}},
		}, ""},
		{"an enum reached through array elements and $ref", "lines[].unit", []mapper.InputEnum{
			{File: "in.json", Pointer: "/$defs/line/properties/unit", Values: []string{"day", "month"}},
		}, ""},
		{"numbers read as the schema writes them, not through float64", "code", []mapper.InputEnum{
			{File: "in.json", Pointer: "/properties/code", Values: []string{"12345678901234567890", "1.50", "1e3"}},
		}, ""},
		{"a field without an enum has none", "free", nil, ""},
		{"a field the schema is silent about has none", "metadata.x", nil, ""},
		{"a const cannot be extended", "kind", nil, `const "x"`},
		{"a number const is named as the schema writes it", "big", nil, `const "12345678901234567890"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := src.InputEnums(tc.field)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

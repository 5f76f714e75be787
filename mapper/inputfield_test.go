package mapper_test

import (
	"fmt"
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

func TestInputFieldReadsTheInputSchema(t *testing.T) {
	eng, err := mapper.Load("../rules", "../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := eng.Source("github-work-items")
	tests := []struct {
		name, field string
		want        string
	}{
		{"a required property through $ref", "issue.reactions", "{Known:true Required:true Types:[object] Enum:false}"},
		{"an enum", "issue.state", "{Known:true Required:false Types:[string] Enum:true}"},
		{"a property the schema lacks", "issue.sub_issues_summary", "{Known:false Required:false Types:[] Enum:false}"},
		{"a required property at the root", "sender", "{Known:true Required:true Types:[object] Enum:false}"},
		{"array elements", "issue.labels[]", "{Known:true Required:false Types:[object] Enum:false}"},
		{"a path that does not parse", "[]x", "{Known:false Required:false Types:[] Enum:false}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fmt.Sprintf("%+v", src.InputField(tt.field)); got != tt.want {
				t.Errorf("InputField(%q) = %s, want %s", tt.field, got, tt.want)
			}
		})
	}
}

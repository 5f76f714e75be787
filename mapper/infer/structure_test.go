package infer

import (
	"strings"
	"testing"
)

func TestAStructuralProfileGivesThePayloadsTypesAndRequired(t *testing.T) {
	payloads := []string{
		`{"a":1,"b":"x","c":{"d":null},"e":[{"f":1.5}]}`,
		`{"a":2,"c":{"d":true},"e":[{"f":2},{"g":"y"}]}`,
	}
	fromValues := New(Options{})
	for _, p := range payloads {
		if err := fromValues.Add([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	// The same payloads as a structural profile would count them.
	fromShape := New(Options{})
	err := fromShape.AddStructure(2, []PathTypes{
		{Path: "a", Types: map[string]uint64{"integer": 2}},
		{Path: "b", Types: map[string]uint64{"string": 1}},
		{Path: "c", Types: map[string]uint64{"object": 2}},
		{Path: "c.d", Types: map[string]uint64{"null": 1, "boolean": 1}},
		{Path: "e", Types: map[string]uint64{"array": 2}},
		{Path: "e[]", Types: map[string]uint64{"object": 3}},
		{Path: "e[].f", Types: map[string]uint64{"number": 1, "integer": 1}},
		{Path: "e[].g", Types: map[string]uint64{"string": 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want, err := fromValues.JSON("t")
	if err != nil {
		t.Fatal(err)
	}
	got, err := fromShape.JSON("t")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("schema from the profile:\n%s\nwant, as from the payloads:\n%s", got, want)
	}
}

func TestAStructuralProfileGivesNoFormatNorEnum(t *testing.T) {
	in := New(Options{MinEnumValues: 1, MinEnumRepeats: 1})
	if err := in.AddStructure(50, []PathTypes{{Path: "created", Types: map[string]uint64{"string": 50}}}); err != nil {
		t.Fatal(err)
	}
	b, err := in.JSON("")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"format"`) || strings.Contains(string(b), `"enum"`) {
		t.Errorf("a format or an enum from no value:\n%s", b)
	}
}

func TestAStructuralProfileIsRefusedWhole(t *testing.T) {
	cases := []struct {
		name  string
		paths []PathTypes
	}{
		{"a path without its parent", []PathTypes{{Path: "a.b", Types: map[string]uint64{"string": 1}}}},
		{"an unknown type", []PathTypes{{Path: "a", Types: map[string]uint64{"text": 1}}}},
		{"a path that is not one", []PathTypes{{Path: "a..b", Types: map[string]uint64{"string": 1}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := New(Options{})
			paths := append([]PathTypes{{Path: "ok", Types: map[string]uint64{"string": 1}}}, c.paths...)
			if err := in.AddStructure(1, paths); err == nil {
				t.Fatal("accepted")
			}
			if in.Records() != 0 || len(in.root.props) != 0 {
				t.Errorf("a refused profile changed the Inferrer: %d records", in.Records())
			}
		})
	}
}

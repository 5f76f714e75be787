package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

func TestSchemaPrintsEachFormat(t *testing.T) {
	for _, format := range []string{"rules", "tests"} {
		t.Run(format, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), []string{"schema", format}, nil, &out, &errb, func(string) string { return "" }); code != exitOK {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if !json.Valid(out.Bytes()) {
				t.Fatal("not JSON")
			}
			c := jsonschema.NewCompiler()
			if err := c.AddResource("s.json", bytes.NewReader(out.Bytes())); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Compile("s.json"); err != nil {
				t.Errorf("not a JSON Schema: %v", err)
			}
		})
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"schema", "rulez"}, nil, &out, &errb, func(string) string { return "" }); code != exitUsage ||
		!strings.Contains(errb.String(), `unknown format "rulez"`) {
		t.Errorf("an unknown format: exit %d, %q", code, errb.String())
	}
}

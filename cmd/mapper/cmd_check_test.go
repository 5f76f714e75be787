package main

import "testing"

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		rules  string
		code   int
		golden string
	}{
		{"shipped rules load", "../../rules", exitOK, "testdata/check/shipped.golden"},
		{"a broken copy lists every problem with its position", "testdata/broken-rules", exitFailure, "testdata/check/broken.golden"},
		{"a rule test file with mistakes fails the check", "testdata/broken-tests", exitFailure, "testdata/check/broken-tests.golden"},
		{"rule bugs the input schema rules out are problems, silence a warning", "testdata/static-rules", exitFailure, "testdata/check/static.golden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", "check", "--rules", tt.rules, "--schemas", "../../schemas")
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			golden(t, tt.golden, stdout+stderr)
		})
	}
}

// Package testneeds lets a test skip when something it needs from the
// machine is missing (a browser, a tool, the Go module proxy), and fail
// instead where that must not happen: in CI, which sets MAPPER_REQUIRE_ALL.
package testneeds

import (
	"fmt"
	"os"
	"testing"
)

// RequireAllEnv is the variable that turns every Missing into a failure.
const RequireAllEnv = "MAPPER_REQUIRE_ALL"

// Missing skips t with the message, or fails it when RequireAllEnv (or the
// named extra variables, such as MAPPER_REQUIRE_BROWSER) is set.
func Missing(t testing.TB, extra []string, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	for _, k := range append([]string{RequireAllEnv}, extra...) {
		if os.Getenv(k) != "" {
			t.Fatalf("%s (required here: %s is set)", msg, k)
		}
	}
	t.Skip(msg)
}

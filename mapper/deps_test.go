package mapper_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEngineImportsNoIOPackage holds the engine to its one job: it imports
// no Kafka, Datadog or Sentry client, and none of the packages that use them.
func TestEngineImportsNoIOPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/mapperhq/mapper/mapper").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{"kafka", "franz-go", "datadog", "sentry", "mapper/mapper/"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.Contains(dep, f) {
				t.Errorf("the engine depends on %s", dep)
			}
		}
	}
}

package testneeds

import (
	"runtime"
	"testing"
)

func TestMissingSkipsUnlessRequired(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		wantFailed bool
	}{
		{"nothing required: a skip", nil, false},
		{"CI requires everything: a failure", map[string]string{RequireAllEnv: "1"}, true},
		{"the extra variable requires it: a failure", map[string]string{"MAPPER_REQUIRE_X": "1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(RequireAllEnv, "")
			t.Setenv("MAPPER_REQUIRE_X", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			rec := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Missing(rec, []string{"MAPPER_REQUIRE_X"}, "no %s", "widget")
			}()
			<-done
			if rec.failed != tt.wantFailed || rec.skipped == tt.wantFailed {
				t.Errorf("failed %v, skipped %v; want failed %v", rec.failed, rec.skipped, tt.wantFailed)
			}
		})
	}
}

// recorder notes a skip or a failure instead of ending the test.
type recorder struct {
	testing.TB
	failed, skipped bool
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(string, ...any) {
	r.failed = true
	runtime.Goexit()
}
func (r *recorder) Skip(...any) {
	r.skipped = true
	runtime.Goexit()
}

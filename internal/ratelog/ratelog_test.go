package ratelog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestWarnIsRateLimited(t *testing.T) {
	var buf bytes.Buffer
	l := &Logger{Logger: slog.New(slog.NewTextHandler(&buf, nil)), Every: time.Hour}
	for range 5 {
		l.Warn("agent unreachable", "addr", "x")
	}
	if got := strings.Count(buf.String(), "agent unreachable"); got != 1 {
		t.Fatalf("logged %d times, want 1:\n%s", got, buf.String())
	}
	l.last = time.Now().Add(-2 * time.Hour)
	l.Warn("agent unreachable")
	if !strings.Contains(buf.String(), "similar_messages_skipped=4") {
		t.Fatalf("skipped count not reported:\n%s", buf.String())
	}
}

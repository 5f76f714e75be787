package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
)

func TestReaderErrorLogger(t *testing.T) {
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	tests := []struct {
		name      string
		args      []any
		wantLevel string
	}{
		{"an idle fetch's i/o timeout is debug", []any{0, "orders", int64(5), timeout}, "level=DEBUG"},
		{"a wrapped timeout is debug", []any{0, "orders", int64(5), fmt.Errorf("fetch: %w", timeout)}, "level=DEBUG"},
		{"any other error is a warning", []any{0, "orders", int64(5), errors.New("connection reset by peer")}, "level=WARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			l := groupErrorLogger(context.Background(), slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})))
			l.Printf("the kafka reader got an unknown error reading partition %d of %s at offset %d: %s", tt.args...)
			if got := b.String(); !strings.HasPrefix(got, "time=") || !strings.Contains(got, tt.wantLevel) || !strings.Contains(got, "partition 0 of orders") {
				t.Errorf("logged %q, want %s", got, tt.wantLevel)
			}
		})
	}
	t.Run("repeated warnings are rate-limited", func(t *testing.T) {
		var b bytes.Buffer
		l := groupErrorLogger(context.Background(), slog.New(slog.NewTextHandler(&b, nil)))
		for range 50 {
			l.Printf("error initializing the kafka reader for partition %d of %s: %s", 1, "orders", errors.New("broken pipe"))
		}
		if n := strings.Count(b.String(), "level=WARN"); n != 1 {
			t.Errorf("%d warnings for 50 errors within a minute, want 1:\n%s", n, b.String())
		}
	})
}

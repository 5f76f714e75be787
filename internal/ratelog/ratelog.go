// Package ratelog logs a recurring warning at most once per interval, so
// that a telemetry endpoint that is down cannot flood the worker's log.
package ratelog

import (
	"log/slog"
	"sync"
	"time"
)

// Logger logs at most once per Every and says how many messages it skipped
// since the last one. It is safe for concurrent use. Every of zero logs
// every message.
type Logger struct {
	Logger *slog.Logger
	Every  time.Duration

	mu      sync.Mutex
	last    time.Time
	skipped int
}

// Warn logs msg with args at warning level unless a message was logged
// less than Every ago.
func (l *Logger) Warn(msg string, args ...any) {
	l.mu.Lock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < l.Every {
		l.skipped++
		l.mu.Unlock()
		return
	}
	skipped := l.skipped
	l.last, l.skipped = now, 0
	l.mu.Unlock()
	l.Logger.Warn(msg, append(args, "similar_messages_skipped", skipped)...)
}

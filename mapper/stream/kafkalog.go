package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/ratelog"
)

// groupErrorLogger is the consumer group's ErrorLogger. kafka-go logs
// network timeouts that it retries itself: those go to debug. Everything
// else is a warning, at most one a minute (the rest are counted in the next
// one). Nothing is logged once ctx has ended: errors of a group being left
// at shutdown are expected.
func groupErrorLogger(ctx context.Context, log *slog.Logger) kafka.Logger {
	warn := &ratelog.Logger{Logger: log, Every: time.Minute}
	return kafka.LoggerFunc(func(format string, args ...any) {
		if ctx.Err() != nil {
			return
		}
		msg := "consumer group: " + fmt.Sprintf(format, args...)
		if isTimeout(args) {
			log.Debug(msg)
			return
		}
		warn.Warn(msg)
	})
}

// isTimeout reports whether one of args is a network timeout.
func isTimeout(args []any) bool {
	for _, a := range args {
		err, ok := a.(error)
		if !ok {
			continue
		}
		var ne net.Error
		if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return true
		}
	}
	return false
}

package stream

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/ratelog"
)

// readerErrorLogger is the consumer's ErrorLogger. kafka-go logs every
// fetch that times out on an idle partition ("… i/o timeout") and retries
// it itself: those go to debug. Everything else is a warning, at most one a
// minute (the rest are counted in the next one).
func readerErrorLogger(log *slog.Logger) kafka.Logger {
	warn := &ratelog.Logger{Logger: log, Every: time.Minute}
	return kafka.LoggerFunc(func(format string, args ...any) {
		msg := "kafka reader: " + fmt.Sprintf(format, args...)
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

package alerts

import (
	"fmt"

	"github.com/getsentry/sentry-go"
)

// CheckDSN reports whether dsn is a DSN the Sentry SDK accepts, with an
// error naming SENTRY_DSN when it is not; New makes the same check. It lets
// a command refuse a bad DSN with its other configuration problems, before
// anything starts.
func CheckDSN(dsn string) error {
	if _, err := sentry.NewDsn(dsn); err != nil {
		return fmt.Errorf("SENTRY_DSN: %w", err)
	}
	return nil
}

package sampletopic

import (
	"context"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"
)

// retryAttempts bounds how often a request that failed with a transient
// broker error (a leader moving, a topic's partitions coming up) is sent.
const retryAttempts = 8

// retry calls fn until it succeeds, fails with an error that is not a
// transient broker error, has been tried retryAttempts times, or ctx ends,
// backing off from 100ms to 2s. A missing topic is not retried: it is the
// operator's to create.
func retry(ctx context.Context, fn func() error) error {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		var ke kafka.Error
		if err == nil || attempt == retryAttempts || !errors.As(err, &ke) || !ke.Temporary() || ke == kafka.UnknownTopicOrPartition {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

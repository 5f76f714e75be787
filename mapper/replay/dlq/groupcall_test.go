package dlq

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/segmentio/kafka-go"
)

func TestRetryGroupCall(t *testing.T) {
	tests := []struct {
		name      string
		errs      []error // returned by successive calls; nil after the list
		wantCalls int
		wantErr   error
	}{
		{"a coordinator that is not ready yet is asked again",
			[]error{fmt.Errorf("offsets: %w", kafka.NotCoordinatorForGroup), kafka.GroupCoordinatorNotAvailable}, 3, nil},
		{"a refusal a retry cannot cure is returned at once",
			[]error{kafka.GroupAuthorizationFailed}, 1, kafka.GroupAuthorizationFailed},
		{"a coordinator that never answers gives up after the attempts",
			repeat(kafka.NotCoordinatorForGroup, redriveAttempts+5), redriveAttempts, kafka.NotCoordinatorForGroup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := retryGroupCall(context.Background(), func() error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			})
			if calls != tt.wantCalls || !errors.Is(err, tt.wantErr) {
				t.Errorf("%d calls, error %v; want %d calls, error %v", calls, err, tt.wantCalls, tt.wantErr)
			}
		})
	}
}

func repeat(err error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

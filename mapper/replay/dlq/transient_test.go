package dlq

import (
	"errors"
	"fmt"
	"testing"

	"github.com/segmentio/kafka-go"
)

func TestTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"a topic the broker does not know yet", kafka.UnknownTopicOrPartition, true},
		{"a leader moving", fmt.Errorf("write: %w", kafka.NotLeaderForPartition), true},
		{"a record too large", kafka.MessageSizeTooLarge, false},
		{"not a broker error", errors.New("dial tcp: refused"), false},
		{"a partial write with only transient errors", kafka.WriteErrors{nil, kafka.LeaderNotAvailable}, true},
		{"a partial write with a lasting error", kafka.WriteErrors{kafka.LeaderNotAvailable, kafka.TopicAuthorizationFailed}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transient(tt.err); got != tt.want {
				t.Errorf("transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

package didyoumean

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"brokers", "batch-size", "client-id", "lowercase", "uppercase"}
	tests := []struct {
		name, in, want string
	}{
		{"one letter missing", "brokr", "brokers"},
		{"two letters swapped", "btach-size", "batch-size"},
		{"case is ignored", "BROKERS", "brokers"},
		{"a prefix of three letters or more", "upper", "uppercase"},
		{"a word far from every name has no suggestion", "sessions", ""},
		{"a short prefix is not enough", "up", ""},
		{"a very long word is nobody's typo", "brokersbrokersbrokersbrokers", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Closest(tt.in, names); got != tt.want {
				t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

package metrics

import (
	"slices"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestAddrFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"nothing set means the local agent", nil, "localhost:8125", ""},
		{"agent host with the default port", map[string]string{"DD_AGENT_HOST": "dd-agent"}, "dd-agent:8125", ""},
		{"agent host and port", map[string]string{"DD_AGENT_HOST": "10.0.0.5", "DD_DOGSTATSD_PORT": "9125"}, "10.0.0.5:9125", ""},
		{"IPv6 agent host", map[string]string{"DD_AGENT_HOST": "::1"}, "[::1]:8125", ""},
		{"udp URL wins over agent host", map[string]string{"DD_DOGSTATSD_URL": "udp://stats:8126", "DD_AGENT_HOST": "other"}, "stats:8126", ""},
		{"udp URL without port", map[string]string{"DD_DOGSTATSD_URL": "udp://stats"}, "stats:8125", ""},
		{"unix socket URL", map[string]string{"DD_DOGSTATSD_URL": "unix:///var/run/datadog/dsd.socket"}, "unix:///var/run/datadog/dsd.socket", ""},
		{"unixgram socket URL", map[string]string{"DD_DOGSTATSD_URL": "unixgram:///tmp/dsd.socket"}, "unixgram:///tmp/dsd.socket", ""},
		{"unknown scheme is refused", map[string]string{"DD_DOGSTATSD_URL": "http://stats:8125"}, "", `DD_DOGSTATSD_URL="http://stats:8125": scheme "http"`},
		{"unix URL without path is refused", map[string]string{"DD_DOGSTATSD_URL": "unix://"}, "", "no socket path"},
		{"bad port is refused", map[string]string{"DD_AGENT_HOST": "h", "DD_DOGSTATSD_PORT": "eighty"}, "", `DD_DOGSTATSD_PORT="eighty"`},
		{"port out of range is refused", map[string]string{"DD_DOGSTATSD_URL": "udp://h:70000"}, "", "1 to 65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AddrFromEnv(envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestTagsFromEnv(t *testing.T) {
	got := TagsFromEnv(envOf(map[string]string{"DD_ENV": "prod", "DD_VERSION": "1.4.0"}))
	if want := []string{"env:prod", "version:1.4.0"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestConstantTagsLeaveProcessTagsToTheClient(t *testing.T) {
	tags := []string{"env:staging", "service:mapper", "team:data"}
	t.Run("process variables unset keeps every tag", func(t *testing.T) {
		if got := constantTags(tags, envOf(nil)); !slices.Equal(got, tags) {
			t.Errorf("got %q, want %q", got, tags)
		}
	})
	t.Run("process DD_ENV set drops our env tag", func(t *testing.T) {
		got := constantTags(tags, envOf(map[string]string{"DD_ENV": "staging"}))
		if want := []string{"service:mapper", "team:data"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

package metrics

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// DefaultPort is the DogStatsD agent's UDP port.
const DefaultPort = "8125"

// AddrFromEnv returns the agent address the way Datadog's own clients find
// it: DD_DOGSTATSD_URL first ("udp://host:port", "unix:///path/dsd.socket",
// "unixgram:///…", "unixstream:///…"), then DD_AGENT_HOST with
// DD_DOGSTATSD_PORT (default 8125), else "localhost:8125". A malformed value
// is an error naming the variable.
func AddrFromEnv(getenv func(string) string) (string, error) {
	if raw := getenv("DD_DOGSTATSD_URL"); raw != "" {
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("DD_DOGSTATSD_URL=%q: %w", raw, err)
		}
		switch u.Scheme {
		case "udp":
			if u.Hostname() == "" {
				return "", fmt.Errorf("DD_DOGSTATSD_URL=%q: no host (want udp://host:port)", raw)
			}
			port := u.Port()
			if port == "" {
				port = DefaultPort
			}
			if err := checkPort(port); err != nil {
				return "", fmt.Errorf("DD_DOGSTATSD_URL=%q: %w", raw, err)
			}
			return net.JoinHostPort(u.Hostname(), port), nil
		case "unix", "unixgram", "unixstream":
			if u.Path == "" {
				return "", fmt.Errorf("DD_DOGSTATSD_URL=%q: no socket path (want %s:///path/dsd.socket)", raw, u.Scheme)
			}
			return u.Scheme + "://" + u.Path, nil
		default:
			return "", fmt.Errorf("DD_DOGSTATSD_URL=%q: scheme %q is not udp, unix, unixgram or unixstream", raw, u.Scheme)
		}
	}
	host := getenv("DD_AGENT_HOST")
	port := getenv("DD_DOGSTATSD_PORT")
	if port == "" {
		port = DefaultPort
	} else if err := checkPort(port); err != nil {
		return "", fmt.Errorf("DD_DOGSTATSD_PORT=%q: %w", port, err)
	}
	if host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port), nil
}

func checkPort(p string) error {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", p)
	}
	return nil
}

// TagsFromEnv returns the constant tags Datadog's unified service tagging
// reads from DD_ENV, DD_SERVICE and DD_VERSION ("env:prod",
// "service:mapper", "version:1.4.0"), skipping unset ones.
func TagsFromEnv(getenv func(string) string) []string {
	var tags []string
	for _, m := range []struct{ env, tag string }{{"DD_ENV", "env"}, {"DD_SERVICE", "service"}, {"DD_VERSION", "version"}} {
		if v := getenv(m.env); v != "" {
			tags = append(tags, m.tag+":"+tagValue(v))
		}
	}
	return tags
}

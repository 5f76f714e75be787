package kafkaconn_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/mapperhq/mapper/internal/cli"
	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
)

func parse(t *testing.T, env map[string]string, args ...string) (kafkaconn.Config, []string) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := kafkaconn.Register(fs, "localhost:9092")
	_, err := cli.Parse(fs, args, func(k string) string { return env[k] }, nil)
	var pe *cli.ProblemsError
	var problems []string
	switch {
	case errors.As(err, &pe):
		problems = pe.Problems
	case err != nil:
		t.Fatal(err)
	}
	c, p := f.Config()
	return c, append(problems, p...)
}

func TestFlags(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		c, p := parse(t, nil)
		if len(p) > 0 {
			t.Fatal(p)
		}
		if !slices.Equal(c.Brokers, []string{"localhost:9092"}) || c.ClientID != "mapper" || c.TLS != nil || c.SASL != nil || c.ConnectTimeout != time.Minute {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("the environment sets the flags and the command line overrides it", func(t *testing.T) {
		env := map[string]string{"MAPPER_BROKERS": "a:1, b:2", "MAPPER_CLIENT_ID": "env-id", "MAPPER_SASL_MECHANISM": "PLAIN",
			"MAPPER_SASL_USER": "u", "MAPPER_SASL_PASSWORD": "p", "MAPPER_TLS_SKIP_VERIFY": "true", "MAPPER_CONNECT_TIMEOUT": "3s"}
		c, p := parse(t, env, "--client-id", "flag-id")
		if len(p) > 0 {
			t.Fatal(p)
		}
		if !slices.Equal(c.Brokers, []string{"a:1", "b:2"}) || c.ClientID != "flag-id" || c.ConnectTimeout != 3*time.Second {
			t.Errorf("got %+v", c)
		}
		if c.TLS == nil || !c.TLS.InsecureSkipVerify {
			t.Errorf("TLS %+v, want skip-verify TLS", c.TLS)
		}
		if c.SASL == nil || c.SASL.Name() != "PLAIN" {
			t.Errorf("SASL %v, want PLAIN", c.SASL)
		}
	})
	t.Run("every problem is reported, naming its flag", func(t *testing.T) {
		env := map[string]string{"MAPPER_TLS": "maybe"}
		_, p := parse(t, env, "--brokers", "kafka,ok:1", "--sasl-mechanism", "GSSAPI", "--sasl-user", "u",
			"--tls-ca", "/nonexistent/ca.pem", "--connect-timeout", "soon")
		want := []string{"MAPPER_TLS=", "--brokers: \"kafka\"", "--connect-timeout \"soon\"", "--tls-*: read TLS CA file", "--sasl-*: unknown SASL mechanism"}
		if len(p) != len(want) {
			t.Fatalf("got %d problems %q, want %d", len(p), p, len(want))
		}
		for i := range want {
			if !strings.HasPrefix(p[i], want[i]) {
				t.Errorf("problem %d: got %q, want it to start with %q", i, p[i], want[i])
			}
		}
	})
}

// TestConfigReachesSASLBroker builds a client from flags and reaches an
// embedded broker that requires SASL; a wrong password is refused.
func TestConfigReachesSASLBroker(t *testing.T) {
	b := kafkatest.StartKfake(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "admin", "secret"))
	for _, tt := range []struct {
		name, pass string
		ok         bool
	}{{"right password", "secret", true}, {"wrong password", "nope", false}} {
		t.Run(tt.name, func(t *testing.T) {
			c, p := parse(t, nil, "--brokers", b.Addr, "--sasl-mechanism", "scram-sha-256", "--sasl-user", "admin", "--sasl-password", tt.pass)
			if len(p) > 0 {
				t.Fatal(p)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := c.Client(nil, 5*time.Second).Metadata(ctx, &kafka.MetadataRequest{})
			if (err == nil) != tt.ok {
				t.Fatalf("metadata: %v; want success %v", err, tt.ok)
			}
		})
	}
}

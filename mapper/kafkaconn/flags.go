package kafkaconn

import (
	"flag"
	"fmt"
	"strings"
	"time"
)

// Flags are the command-line connection flags: --brokers, --client-id,
// --tls, --tls-ca, --tls-cert, --tls-key, --tls-skip-verify,
// --sasl-mechanism, --sasl-user, --sasl-password and --connect-timeout.
// Declare them with Register, fill the FlagSet (the command line, the
// environment and the configuration file: see internal/cli), then call
// Config. Their defaults are the declared ones: a value from the
// environment never becomes a default that help would print.
type Flags struct {
	brokers, clientID            *string
	useTLS, tlsSkip              *bool
	tlsCA, tlsCert, tlsKey       *string
	saslMech, saslUser, saslPass *string
	connectTimeout               *string
}

// Register declares the connection flags on fs; defaultBrokers is
// --brokers' default.
func Register(fs *flag.FlagSet, defaultBrokers string) *Flags {
	return &Flags{
		brokers:        fs.String("brokers", defaultBrokers, "comma-separated bootstrap brokers, host:port"),
		clientID:       fs.String("client-id", DefaultClientID, "client id sent to the brokers"),
		useTLS:         fs.Bool("tls", false, "connect with TLS (implied by the other --tls-* flags)"),
		tlsCA:          fs.String("tls-ca", "", "PEM file of the CA that signs the brokers' certificates (default: system roots)"),
		tlsCert:        fs.String("tls-cert", "", "PEM client certificate (with --tls-key)"),
		tlsKey:         fs.String("tls-key", "", "PEM client key (with --tls-cert)"),
		tlsSkip:        fs.Bool("tls-skip-verify", false, "do not verify the brokers' certificates (tests only)"),
		saslMech:       fs.String("sasl-mechanism", "", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty means no SASL"),
		saslUser:       fs.String("sasl-user", "", "SASL user"),
		saslPass:       fs.String("sasl-password", "", "SASL password (prefer the environment variable to the flag, which other users of the host can see)"),
		connectTimeout: fs.String("connect-timeout", DefaultConnectTimeout.String(), "how long start-up keeps trying brokers that do not answer before it gives up (exit 1)"),
	}
}

// Config builds the Config the parsed flags give. It returns every problem
// (unreadable TLS files, incomplete SASL settings,
// malformed brokers), one sentence each naming the flag, and a zero Config
// when there is any.
func (f *Flags) Config() (Config, []string) {
	var problems []string
	c := Config{ClientID: *f.clientID}
	for _, b := range strings.Split(*f.brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.Brokers = append(c.Brokers, b)
		}
	}
	if len(c.Brokers) == 0 {
		problems = append(problems, "--brokers: no broker given")
	}
	for _, b := range c.Brokers {
		if !validHostPort(b) {
			problems = append(problems, fmt.Sprintf("--brokers: %q is not host:port", b))
		}
	}
	d, err := time.ParseDuration(*f.connectTimeout)
	switch {
	case err != nil:
		problems = append(problems, fmt.Sprintf("--connect-timeout %q: not a duration (like 10s)", *f.connectTimeout))
	case d <= 0:
		problems = append(problems, fmt.Sprintf("--connect-timeout %s: must be positive", d))
	default:
		c.ConnectTimeout = d
	}
	if *f.useTLS || *f.tlsCA != "" || *f.tlsCert != "" || *f.tlsKey != "" || *f.tlsSkip {
		tc, err := TLSConfig(*f.tlsCA, *f.tlsCert, *f.tlsKey, *f.tlsSkip)
		if err != nil {
			problems = append(problems, "--tls-*: "+err.Error())
		}
		c.TLS = tc
	}
	mech, err := SASLMechanism(*f.saslMech, *f.saslUser, *f.saslPass)
	if err != nil {
		problems = append(problems, "--sasl-*: "+err.Error())
	}
	c.SASL = mech
	if len(problems) > 0 {
		return Config{}, problems
	}
	return c, nil
}

package kafkaconn

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Flags are the command-line connection flags: --brokers, --client-id,
// --tls, --tls-ca, --tls-cert, --tls-key, --tls-skip-verify,
// --sasl-mechanism, --sasl-user, --sasl-password and --connect-timeout.
// Each takes its default from its MAPPER_* environment variable
// (--tls-ca → MAPPER_TLS_CA) when set. Declare them with Register, parse
// the FlagSet, then call Config.
type Flags struct {
	brokers, clientID            *string
	useTLS, tlsSkip              *bool
	tlsCA, tlsCert, tlsKey       *string
	saslMech, saslUser, saslPass *string
	connectTimeout               *string
	envProblems                  []string
}

// EnvName is the environment variable behind a flag: tls-ca → MAPPER_TLS_CA.
func EnvName(flagName string) string {
	return "MAPPER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Register declares the connection flags on fs. defaultBrokers is
// --brokers' default when MAPPER_BROKERS is not set; getenv reads the
// environment (os.Getenv, or a map in tests).
func Register(fs *flag.FlagSet, getenv func(string) string, defaultBrokers string) *Flags {
	f := &Flags{}
	str := func(name, def, usage string) *string {
		if v := getenv(EnvName(name)); v != "" {
			def = v
		}
		return fs.String(name, def, usage+" (env "+EnvName(name)+")")
	}
	boolean := func(name, usage string) *bool {
		def := false
		if v := getenv(EnvName(name)); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				f.envProblems = append(f.envProblems, fmt.Sprintf("%s=%q is not a boolean", EnvName(name), v))
			}
			def = b
		}
		return fs.Bool(name, def, usage+" (env "+EnvName(name)+")")
	}
	f.brokers = str("brokers", defaultBrokers, "comma-separated bootstrap brokers, host:port")
	f.clientID = str("client-id", DefaultClientID, "client id sent to the brokers")
	f.useTLS = boolean("tls", "connect with TLS (implied by the other --tls-* flags)")
	f.tlsCA = str("tls-ca", "", "PEM file of the CA that signs the brokers' certificates (default: system roots)")
	f.tlsCert = str("tls-cert", "", "PEM client certificate (with --tls-key)")
	f.tlsKey = str("tls-key", "", "PEM client key (with --tls-cert)")
	f.tlsSkip = boolean("tls-skip-verify", "do not verify the brokers' certificates (tests only)")
	f.saslMech = str("sasl-mechanism", "", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty means no SASL")
	f.saslUser = str("sasl-user", "", "SASL user")
	f.saslPass = str("sasl-password", "", "SASL password (prefer the env variable to the flag)")
	f.connectTimeout = str("connect-timeout", DefaultConnectTimeout.String(), "how long start-up keeps trying brokers that do not answer before it gives up (exit 1)")
	return f
}

// Config builds the Config the parsed flags give. It returns every problem
// (bad environment values, unreadable TLS files, incomplete SASL settings,
// malformed brokers), one sentence each naming the flag, and a zero Config
// when there is any.
func (f *Flags) Config() (Config, []string) {
	problems := append([]string(nil), f.envProblems...)
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

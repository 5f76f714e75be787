package registry

import (
	"flag"
	"strings"

	"github.com/mapperhq/mapper/mapper/kafkaconn"
)

// Flags are the command-line registry flags, named as Confluent clients'
// settings are (schema.registry.url, basic.auth.user.info, the
// schema.registry.ssl.* files): --schema-registry,
// --schema-registry-user, --schema-registry-password,
// --schema-registry-tls-ca, --schema-registry-tls-cert,
// --schema-registry-tls-key, --schema-registry-tls-skip-verify and
// --subject-strategy. Declare them with Register, fill the FlagSet (the
// command line, the MAPPER_* environment and the configuration file: see
// internal/cli), then call Config. Their defaults are the declared ones: a
// value from the environment never becomes a default that help would print.
type Flags struct {
	url, user, pass        *string
	tlsCA, tlsCert, tlsKey *string
	tlsSkip                *bool
	strategy               *string
}

// Register declares the registry flags on fs.
func Register(fs *flag.FlagSet) *Flags {
	return &Flags{
		url:      fs.String("schema-registry", "", "Schema Registry base URL (Confluent-compatible API); output records are written in its wire format with their source's schema id, and output schemas must be compatible with their subjects; empty means plain JSON"),
		user:     fs.String("schema-registry-user", "", "Schema Registry basic-auth user"),
		pass:     fs.String("schema-registry-password", "", "Schema Registry basic-auth password (prefer the environment variable to the flag, which other users of the host can see)"),
		tlsCA:    fs.String("schema-registry-tls-ca", "", "PEM file of the CA that signs the registry's certificate (default: system roots)"),
		tlsCert:  fs.String("schema-registry-tls-cert", "", "PEM client certificate for the registry (with --schema-registry-tls-key)"),
		tlsKey:   fs.String("schema-registry-tls-key", "", "PEM client key for the registry (with --schema-registry-tls-cert)"),
		tlsSkip:  fs.Bool("schema-registry-tls-skip-verify", false, "do not verify the registry's certificate (tests only)"),
		strategy: fs.String("subject-strategy", "", "subject of each source's output schema: topic (<topic>-value), record (the source's name) or topic_record (<topic>-<source>); empty means topic when one source writes the output topic, topic_record when several do"),
	}
}

// Enabled reports whether --schema-registry was given.
func (f *Flags) Enabled() bool { return strings.TrimSpace(*f.url) != "" }

// Config builds the Config the parsed flags give, with every problem, one
// sentence each naming its flag. The password is never in a problem.
func (f *Flags) Config() (Config, []string) {
	var problems []string
	c := Config{URL: strings.TrimSpace(*f.url), Username: *f.user, Password: *f.pass}
	st, err := ParseStrategy(*f.strategy)
	if err != nil {
		problems = append(problems, "--subject-strategy: "+err.Error())
	}
	c.Strategy = st
	if *f.pass != "" && *f.user == "" {
		problems = append(problems, "--schema-registry-password given without --schema-registry-user")
	}
	if *f.tlsCA != "" || *f.tlsCert != "" || *f.tlsKey != "" || *f.tlsSkip {
		tc, err := kafkaconn.TLSConfig(*f.tlsCA, *f.tlsCert, *f.tlsKey, *f.tlsSkip)
		if err != nil {
			problems = append(problems, "--schema-registry-tls-*: "+err.Error())
		}
		c.TLS = tc
	}
	if c.URL != "" {
		if _, err := New(c); err != nil {
			problems = append(problems, "--schema-registry: "+err.Error())
		}
	}
	if len(problems) > 0 {
		return Config{}, problems
	}
	return c, nil
}

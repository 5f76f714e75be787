package registry

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/mapperhq/mapper/mapper/kafkaconn"
)

// Flags are the command-line registry flags, named as Confluent clients'
// settings are (schema.registry.url, basic.auth.user.info, the
// schema.registry.ssl.* files): --schema-registry,
// --schema-registry-user, --schema-registry-password,
// --schema-registry-tls-ca, --schema-registry-tls-cert,
// --schema-registry-tls-key, --schema-registry-tls-skip-verify and
// --subject-strategy. Each takes its default from its MAPPER_* variable
// (--schema-registry → MAPPER_SCHEMA_REGISTRY). Declare them with
// Register, parse the FlagSet, then call Config.
type Flags struct {
	url, user, pass        *string
	tlsCA, tlsCert, tlsKey *string
	tlsSkip                *bool
	strategy               *string
	envProblems            []string
}

// Register declares the registry flags on fs; getenv reads the environment.
func Register(fs *flag.FlagSet, getenv func(string) string) *Flags {
	f := &Flags{}
	str := func(name, usage string) *string {
		return fs.String(name, getenv(kafkaconn.EnvName(name)), usage+" (env "+kafkaconn.EnvName(name)+")")
	}
	f.url = str("schema-registry", "Schema Registry base URL (Confluent-compatible API); output records are written in its wire format with their source's schema id, and output schemas must be compatible with their subjects; empty means plain JSON")
	f.user = str("schema-registry-user", "Schema Registry basic-auth user")
	f.pass = str("schema-registry-password", "Schema Registry basic-auth password (prefer the env variable to the flag)")
	f.tlsCA = str("schema-registry-tls-ca", "PEM file of the CA that signs the registry's certificate (default: system roots)")
	f.tlsCert = str("schema-registry-tls-cert", "PEM client certificate for the registry (with --schema-registry-tls-key)")
	f.tlsKey = str("schema-registry-tls-key", "PEM client key for the registry (with --schema-registry-tls-cert)")
	skip := false
	name := "schema-registry-tls-skip-verify"
	if v := getenv(kafkaconn.EnvName(name)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.envProblems = append(f.envProblems, fmt.Sprintf("%s=%q is not a boolean", kafkaconn.EnvName(name), v))
		}
		skip = b
	}
	f.tlsSkip = fs.Bool(name, skip, "do not verify the registry's certificate (tests only) (env "+kafkaconn.EnvName(name)+")")
	f.strategy = str("subject-strategy", "subject of each source's output schema: topic (<topic>-value), record (the source's name) or topic_record (<topic>-<source>); empty means topic when one source writes the output topic, topic_record when several do")
	return f
}

// Enabled reports whether --schema-registry was given.
func (f *Flags) Enabled() bool { return strings.TrimSpace(*f.url) != "" }

// Config builds the Config the parsed flags give, with every problem, one
// sentence each naming its flag. The password is never in a problem.
func (f *Flags) Config() (Config, []string) {
	problems := append([]string(nil), f.envProblems...)
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

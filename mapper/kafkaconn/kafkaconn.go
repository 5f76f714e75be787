// Package kafkaconn owns how mapper reaches a Kafka cluster: the bootstrap
// brokers, the client id, TLS, SASL and the connect timeout. Every command
// that talks to Kafka (run, demo, replay --from-topic, --redrive, and the
// ones built on them) declares its connection flags with Flags, turns them
// into a Config, and builds its kafka-go dialers, transports, clients and
// writers from that Config, so that a secured cluster is reached the same
// way by all of them. The worker's two hot requests go through those
// transports but are written and read here, without kafka-go's encoding:
// Fetch reads a response's records as slices of one buffer (Fetcher), and
// Produce writes the caller's record sets as they are.
//
// A Config is a plain value; its methods do not modify it and are safe for
// concurrent use.
package kafkaconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Defaults of a Config's zero fields.
const (
	DefaultClientID       = "mapper"
	DefaultConnectTimeout = time.Minute
	DefaultDialTimeout    = 10 * time.Second
)

// Config is how to reach one Kafka cluster. Brokers is required; every other
// field has a useful zero value.
type Config struct {
	// Brokers are the bootstrap brokers, host:port. Required.
	Brokers []string
	// ClientID names the client to the brokers. Empty means "mapper".
	ClientID string
	// TLS, when non-nil, connects with TLS (see TLSConfig). Nil means
	// plaintext.
	TLS *tls.Config
	// SASL, when non-nil, authenticates with it (see SASLMechanism). Nil
	// means no authentication.
	SASL sasl.Mechanism
	// ConnectTimeout is how long start-up keeps trying brokers that do not
	// answer before it gives up. Zero means one minute.
	ConnectTimeout time.Duration
	// DialTimeout bounds each connection attempt, TLS handshake and SASL
	// login included. Zero means 10s, or ConnectTimeout if that is shorter.
	DialTimeout time.Duration
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = min(DefaultDialTimeout, c.ConnectTimeout)
	}
	return c
}

// Problems lists every problem of c, each a short sentence; nil if none.
func (c Config) Problems() []string {
	var p []string
	if len(c.Brokers) == 0 {
		p = append(p, "no brokers given")
	}
	for _, b := range c.Brokers {
		if !validHostPort(b) {
			p = append(p, fmt.Sprintf("broker %q is not host:port", b))
		}
	}
	if c.ConnectTimeout < 0 {
		p = append(p, fmt.Sprintf("connect timeout %v is negative", c.ConnectTimeout))
	}
	if c.DialTimeout < 0 {
		p = append(p, fmt.Sprintf("dial timeout %v is negative", c.DialTimeout))
	}
	return p
}

// Validate returns an error listing every problem of c, or nil.
func (c Config) Validate() error {
	if p := c.Problems(); len(p) > 0 {
		return errors.New("kafka connection: " + strings.Join(p, "; "))
	}
	return nil
}

func validHostPort(s string) bool {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return false
	}
	for _, r := range s[i+1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Addr is the brokers as a net.Addr for kafka-go's Client and Writer.
func (c Config) Addr() net.Addr { return kafka.TCP(c.Brokers...) }

// Dialer returns a new dialer for c: client id, connect timeout, TLS and
// SASL. Connections it dials are the caller's to close.
func (c Config) Dialer() *kafka.Dialer {
	c = c.WithDefaults()
	return &kafka.Dialer{
		ClientID:      c.ClientID,
		Timeout:       c.DialTimeout,
		DualStack:     true,
		TLS:           c.TLS,
		SASLMechanism: c.SASL,
	}
}

// Transport returns a new transport for c. A transport pools connections:
// share one per process part, and CloseIdleConnections when done.
func (c Config) Transport() *kafka.Transport {
	c = c.WithDefaults()
	return &kafka.Transport{
		ClientID:    c.ClientID,
		TLS:         c.TLS,
		SASL:        c.SASL,
		DialTimeout: c.DialTimeout,
		MetadataTTL: 10 * time.Second,
	}
}

// Client returns a client for c's brokers over tr (a new Transport of c when
// nil), each request bounded by timeout (zero: by its context only).
func (c Config) Client(tr *kafka.Transport, timeout time.Duration) *kafka.Client {
	if tr == nil {
		tr = c.Transport()
	}
	return &kafka.Client{Addr: c.Addr(), Transport: tr, Timeout: timeout}
}

// Writer returns a producer for topic (empty: each message names its
// topic) over tr (a new Transport of c when nil) that waits for every
// in-sync replica. The caller sets batching and balancing and closes it.
func (c Config) Writer(tr *kafka.Transport, topic string) *kafka.Writer {
	if tr == nil {
		tr = c.Transport()
	}
	return &kafka.Writer{
		Addr:         c.Addr(),
		Topic:        topic,
		Transport:    tr,
		RequiredAcks: kafka.RequireAll,
		Balancer:     &kafka.Murmur2Balancer{},
	}
}

// TLSConfig builds a client TLS configuration. caFile (PEM) replaces the
// system roots when set; certFile and keyFile (PEM) give a client
// certificate and must be set together; skipVerify disables server
// certificate verification and is only for tests.
func TLSConfig(caFile, certFile, keyFile string, skipVerify bool) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: skipVerify}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA file %s: no PEM certificate found", caFile)
		}
		c.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("TLS client certificate and key must be given together")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// SASLMechanisms are the mechanism names SASLMechanism accepts.
var saslMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}

// SASLMechanism builds a SASL mechanism by name: PLAIN, SCRAM-SHA-256 or
// SCRAM-SHA-512 (case-insensitive). An empty name returns nil (no SASL).
func SASLMechanism(name, user, password string) (sasl.Mechanism, error) {
	if name == "" {
		if user != "" || password != "" {
			return nil, errors.New("SASL user or password given without a SASL mechanism")
		}
		return nil, nil
	}
	if user == "" {
		return nil, fmt.Errorf("SASL %s needs a user", name)
	}
	switch strings.ToUpper(name) {
	case "PLAIN":
		return plain.Mechanism{Username: user, Password: password}, nil
	case "SCRAM-SHA-256":
		m, err := scram.Mechanism(scram.SHA256, user, password)
		if err != nil {
			return nil, fmt.Errorf("SASL SCRAM-SHA-256: %w", err)
		}
		return m, nil
	case "SCRAM-SHA-512":
		m, err := scram.Mechanism(scram.SHA512, user, password)
		if err != nil {
			return nil, fmt.Errorf("SASL SCRAM-SHA-512: %w", err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("unknown SASL mechanism %q (want one of %s)", name, strings.Join(saslMechanisms, ", "))
}

package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/mapperhq/mapper/mapper"
)

// Strategy names how a source's subject is derived, as Confluent's
// serializers' subject name strategies do.
type Strategy string

const (
	// StrategyDefault is StrategyTopic when one source writes the output
	// topic and StrategyTopicRecord when several do, so that each source
	// gets its own subject.
	StrategyDefault Strategy = ""
	// StrategyTopic is "<topic>-value" (Confluent's TopicNameStrategy).
	StrategyTopic Strategy = "topic"
	// StrategyRecord is the record name: the source's name
	// (RecordNameStrategy).
	StrategyRecord Strategy = "record"
	// StrategyTopicRecord is "<topic>-<source>" (TopicRecordNameStrategy).
	StrategyTopicRecord Strategy = "topic_record"
)

// ParseStrategy returns the strategy s names ("" is the default).
func ParseStrategy(s string) (Strategy, error) {
	switch st := Strategy(s); st {
	case StrategyDefault, StrategyTopic, StrategyRecord, StrategyTopicRecord:
		return st, nil
	}
	return "", fmt.Errorf("unknown subject strategy %q (want topic, record or topic_record)", s)
}

// Subject is the subject of source's records written to topic; shared
// says whether other sources write the topic too.
func (s Strategy) Subject(topic, source string, shared bool) string {
	switch s {
	case StrategyTopic:
		return topic + "-value"
	case StrategyRecord:
		return source
	case StrategyTopicRecord:
		return topic + "-" + source
	}
	if shared {
		return topic + "-" + source
	}
	return topic + "-value"
}

// Config says how to reach the registry. URL is required; the zero value
// of every other field is a working default.
type Config struct {
	// URL is the Confluent-compatible base URL, e.g.
	// http://127.0.0.1:8081 or http://host/apis/ccompat/v7. A user and
	// password in it are taken as basic auth and never printed.
	URL string
	// Username and Password, when Username is set, are sent as basic auth.
	Username, Password string
	// TLS, when not nil, is the TLS configuration of https URLs. Nil means
	// the system roots.
	TLS *tls.Config
	// Strategy derives subjects; the zero value is StrategyDefault.
	Strategy Strategy
	// Timeout bounds each request. Zero means 10s.
	Timeout time.Duration
}

// Client registers output schemas, gates them on compatibility and frames
// records with their ids. Make one with New; it is safe for concurrent use.
type Client struct {
	cl       *sr.Client
	url      string // without credentials: what messages show
	strategy Strategy

	mu    sync.Mutex         // serialises Check and Prepare, guards cache
	cache map[string]Binding // by subject + "\x00" + schema text
	// described caches Describe's answers by schema id (bounded).
	described map[int]string

	// prefixes is the wire-format prefix of each prepared source, this
	// generation's and the previous one's; last is this generation's.
	prefixes atomic.Pointer[map[*mapper.Source][]byte]
	last     map[*mapper.Source][]byte
	bindings atomic.Pointer[[]Binding]
	pending  atomic.Pointer[string] // why a new schema could not be registered
}

// New returns a client of the registry cfg names. It sends no request.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("schema registry URL %q: want http(s)://host[:port][/path]", redactURL(cfg.URL))
	}
	user, pass := cfg.Username, cfg.Password
	if u.User != nil && user == "" {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	u.User = nil
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	opts := []sr.ClientOpt{sr.URLs(u.String()), sr.HTTPClient(&http.Client{Timeout: timeout}), sr.UserAgent("mapper")}
	if user != "" {
		opts = append(opts, sr.BasicAuth(user, pass))
	}
	if cfg.TLS != nil {
		opts = append(opts, sr.DialTLSConfig(cfg.TLS))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry client: %w", err)
	}
	if _, err := ParseStrategy(string(cfg.Strategy)); err != nil {
		return nil, err
	}
	c := &Client{cl: cl, url: u.String(), strategy: cfg.Strategy, cache: map[string]Binding{}, described: map[int]string{}}
	empty := map[*mapper.Source][]byte{}
	c.prefixes.Store(&empty)
	c.bindings.Store(&[]Binding{})
	none := ""
	c.pending.Store(&none)
	return c, nil
}

// URL is the registry's base URL, without credentials.
func (c *Client) URL() string { return c.url }

// redactURL drops the user and password of a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if i := strings.LastIndex(s, "@"); i >= 0 {
			if j := strings.Index(s, "://"); j >= 0 && j < i {
				return s[:j+3] + "…@" + s[i+1:]
			}
		}
		return s
	}
	u.User = nil
	return u.String()
}

// Ping asks the registry for its subjects: an error means it cannot be
// used (unreachable, refused credentials, not a registry).
func (c *Client) Ping(ctx context.Context) error {
	if _, err := c.cl.Subjects(ctx); err != nil {
		return &UnreachableError{URL: c.url, Err: err}
	}
	return nil
}

// UnreachableError is a registry that did not answer, or answered with
// something other than the Confluent API.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("schema registry %s cannot be reached: %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// IncompatibleError is an output schema the registry refused: not
// compatible with the latest version of its subject under the subject's
// compatibility level.
type IncompatibleError struct {
	Source, Schema, Subject string
	// Candidate is true for the candidate rules' schema.
	Candidate bool
	// Level is the subject's compatibility level ("" if it could not be
	// read); Latest the version checked against (0 when the registration
	// itself was refused).
	Level  string
	Latest int
	// Answer is the registry's answer, quoted.
	Answer string
}

func (e *IncompatibleError) Error() string {
	who := "source " + e.Source
	if e.Candidate {
		who = "candidate source " + e.Source
	}
	against := "its latest version"
	if e.Latest > 0 {
		against = fmt.Sprintf("version %d", e.Latest)
	}
	level := e.Level
	if level == "" {
		level = "its level"
	}
	return fmt.Sprintf("%s: output schema %s is not compatible with subject %s (%s, %s): the registry answered: %s",
		who, e.Schema, e.Subject, against, level, e.Answer)
}

// Binding is one source's schema as registered.
type Binding struct {
	Source    string `json:"source"`
	Candidate bool   `json:"candidate,omitempty"`
	Schema    string `json:"schema"`
	Subject   string `json:"subject"`
	Version   int    `json:"version"`
	SchemaID  int    `json:"schema_id"`
	// New is true when the schema was registered as a new version now,
	// false when it was there already.
	New bool `json:"-"`
}

// Problems is every incompatible schema of a Check or Prepare.
type Problems []*IncompatibleError

func (p Problems) Error() string {
	lines := make([]string, len(p))
	for i, e := range p {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// IsIncompatible reports whether err holds an *IncompatibleError or
// Problems.
func IsIncompatible(err error) bool {
	var ie *IncompatibleError
	var ps Problems
	return errors.As(err, &ie) || errors.As(err, &ps)
}

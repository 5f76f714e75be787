package stream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/ratelog"
	"github.com/mapperhq/mapper/mapper"
)

// Observer is told of every record the worker maps, from the mapping goroutines, concurrently.
// It must not block and must not keep origin, payload or res past the call (copy what it keeps).
type Observer interface {
	Observe(origin *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, took time.Duration)
}

// BatchObserver is an optional form of an Observer that is told of a
// batch's records in one goroutine and flushed once per batch: each of the
// Concurrency mapping scratches gets a BatchTally of its own from
// NewBatchTally; the goroutine mapping with the scratch tells it of every
// record it maps (in place of Observe) and flushes it once per batch (or
// slice of a batch), before the batch's records are written. Counting
// records needs then no lock and no message per record.
type BatchObserver interface {
	Observer
	NewBatchTally() BatchTally
}

// BatchTally is one mapping scratch's part of a BatchObserver. Its
// methods are called by one goroutine at a time (the one mapping with the
// scratch, handed from goroutine to goroutine with synchronization);
// Observe's arguments are the same as Observer's (not kept past the call).
type BatchTally interface {
	Observe(origin *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, took time.Duration)
	Flush()
}

// Untimed is an optional method of an Observer or a BatchTally whose
// Observe ignores took: when every observer has it, the worker does not
// read the clock around each record.
type Untimed interface {
	Untimed()
}

// Errors Run returns.
var (
	// ErrAuth is wrapped by the error Run returns when the brokers refuse
	// the TLS handshake or the SASL credentials. It is not retried.
	ErrAuth = errors.New("authentication with the brokers failed")
	// ErrMissingTopic is wrapped by the error Run returns when an input,
	// output or dead-letter topic does not exist.
	ErrMissingTopic = errors.New("topic does not exist")
	// ErrUnreachable is wrapped by the error Run returns when no broker
	// answered within Kafka.ConnectTimeout at start.
	ErrUnreachable = errors.New("brokers unreachable")
	// ErrShutdownTimeout is returned by Run when records were still in
	// flight when the shutdown deadline passed. They were not committed and
	// will be consumed again.
	ErrShutdownTimeout = errors.New("shutdown deadline passed with records in flight")
)

// State is where a Worker is in its life.
type State string

// The states of a Worker.
const (
	StateNew      State = "new"      // Run not called yet
	StateStarting State = "starting" // checking brokers and topics
	StateRunning  State = "running"  // consuming
	StateDraining State = "draining" // stopping: finishing records in flight
	StateStopped  State = "stopped"  // Run returned
)

// Worker consumes the input topics as one member of a consumer group, maps
// every record and delivers it to the output or dead-letter topic, and
// commits offsets only once everything before them is acknowledged.
//
// Its methods are safe for concurrent use. Run may be called once.
type Worker struct {
	cfg       Config
	transport *kafka.Transport
	client    *kafka.Client
	stats     *stats

	state   atomic.Value // State
	failing atomic.Value // string: what is being retried now, "" if nothing
	// held is how many input partitions the current generation of the
	// group gives this worker: 0 between generations (joining, rebalancing,
	// the brokers gone).
	held    atomic.Int64
	runErr  atomic.Value // string: why Run failed
	started atomic.Bool
	pipe    atomic.Pointer[pipeline]
}

// New validates cfg, fills its defaults and returns a Worker. It touches no
// network: every configuration problem is returned here, as a *ConfigError.
func New(cfg Config) (*Worker, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	tr := cfg.Kafka.Transport()
	w := &Worker{
		cfg:       cfg,
		transport: tr,
		client:    cfg.Kafka.Client(tr, 10*time.Second),
		stats:     newStats(),
	}
	w.state.Store(StateNew)
	w.failing.Store("")
	w.runErr.Store("")
	return w, nil
}

// State reports where the worker is in its life.
func (w *Worker) State() State { return w.state.Load().(State) }

// Topics returns the input topics the worker consumes.
func (w *Worker) Topics() []string { return slices.Clone(w.cfg.Topics) }

// Run checks the brokers, joins the group and consumes until ctx is
// canceled; then it stops fetching, delivers and commits what is in flight
// within Config.ShutdownTimeout, leaves the group and returns nil (or
// ErrShutdownTimeout). Unreachable brokers at start and every delivery or
// commit error later are retried with backoff and logged; an
// authentication failure or a missing topic ends Run at start with an
// error wrapping ErrAuth or ErrMissingTopic.
func (w *Worker) Run(ctx context.Context) (err error) {
	if !w.started.CompareAndSwap(false, true) {
		return errors.New("stream: Run called twice")
	}
	defer func() {
		w.state.Store(StateStopped)
		if err != nil {
			w.runErr.Store(err.Error())
		}
	}()
	w.state.Store(StateStarting)
	if err := w.preflight(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}

	limits, err := w.topicLimits(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	return w.run(ctx, limits)
}

// preflight checks that the brokers answer, accept our credentials and have
// every topic. Connection failures are retried until ctx ends or
// Kafka.ConnectTimeout has passed (then an error wrapping ErrUnreachable
// says what was tried); TLS and SASL refusals and missing topics are
// returned at once.
func (w *Worker) preflight(ctx context.Context) error {
	topics := append(slices.Clone(w.cfg.Topics), w.cfg.OutputTopic, w.cfg.DeadLetterTopic)
	b := backoff{min: w.cfg.RetryBackoffMin, max: w.cfg.RetryBackoffMax}
	start := time.Now()
	giveUp := start.Add(w.cfg.Kafka.ConnectTimeout)
	warn := &ratelog.Logger{Logger: w.cfg.Logger, Every: 15 * time.Second}
	for attempt := 1; ; attempt++ {
		deadline := time.Now().Add(w.cfg.Kafka.DialTimeout + 5*time.Second)
		if giveUp.Before(deadline) {
			deadline = giveUp
		}
		mctx, cancel := context.WithDeadline(ctx, deadline)
		err := w.probeAuth(mctx)
		var resp *kafka.MetadataResponse
		if err == nil {
			resp, err = w.client.Metadata(mctx, &kafka.MetadataRequest{Topics: topics})
		}
		cancel()
		if err == nil {
			var missing []string
			for _, t := range resp.Topics {
				if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
					missing = append(missing, t.Name)
				} else if t.Error != nil {
					err = fmt.Errorf("topic %s: %w", t.Name, t.Error)
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("check topics on %v: %w: %v", w.cfg.Kafka.Brokers, ErrMissingTopic, missing)
			}
			if err == nil {
				return nil
			}
		}
		if errors.Is(err, ErrAuth) {
			return err
		}
		if isAuthError(err) {
			return fmt.Errorf("connect to %v: %w: %w", w.cfg.Kafka.Brokers, ErrAuth, err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if !time.Now().Before(giveUp) {
			return fmt.Errorf("%w: no answer from %s within %v (%d attempts of a metadata request over %s; last error: %w); check --brokers, and --tls/--sasl-* if the cluster requires them",
				ErrUnreachable, strings.Join(w.cfg.Kafka.Brokers, ", "), w.cfg.Kafka.ConnectTimeout, attempt, w.protocol(), err)
		}
		warn.Warn("brokers not reachable yet; retrying", "brokers", w.cfg.Kafka.Brokers, "error", err,
			"gives_up_in", time.Until(giveUp).Round(time.Second).String(),
			"hint", "check --brokers, and --tls/--sasl-* if the cluster requires them")
		w.failing.Store("connecting to brokers: " + err.Error())
		wctx, cancel := context.WithDeadline(ctx, giveUp)
		b.wait(wctx)
		cancel()
	}
}

// protocol describes how the worker talks to the brokers: "TCP", "TLS",
// "TLS with SASL PLAIN"…
func (w *Worker) protocol() string {
	p := "TCP"
	if w.cfg.Kafka.TLS != nil {
		p = "TLS"
	}
	if m := w.cfg.Kafka.SASL; m != nil {
		p += " with SASL " + m.Name()
	}
	return p
}

// probeAuth tells a refused login from an unreachable broker. Some brokers
// answer wrong SASL credentials by closing the connection, which looks like
// an outage; so it first checks that a broker answers without SASL
// (ApiVersions is allowed before authentication), then logs in. A broker
// that answers but drops the login refused the credentials: ErrAuth.
func (w *Worker) probeAuth(ctx context.Context) error {
	if w.cfg.Kafka.SASL == nil {
		return nil
	}
	d := w.cfg.Kafka.Dialer()
	d.SASLMechanism = nil
	var lastErr error
	for _, broker := range w.cfg.Kafka.Brokers {
		c, err := d.DialContext(ctx, "tcp", broker)
		if err != nil {
			lastErr = err
			if isAuthError(err) {
				return fmt.Errorf("%w: TLS with broker %s: %w", ErrAuth, broker, err)
			}
			continue
		}
		_, err = c.ApiVersions()
		c.Close()
		if err != nil {
			lastErr = err
			continue
		}
		sd := *d
		sd.SASLMechanism = w.cfg.Kafka.SASL
		c, err = sd.DialContext(ctx, "tcp", broker)
		if err == nil {
			c.Close()
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		if isAuthError(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
			return fmt.Errorf("%w: broker %s refused the SASL %s login (wrong user or password?): %w", ErrAuth, broker, w.cfg.Kafka.SASL.Name(), err)
		}
		lastErr = err
	}
	return lastErr
}

// isAuthError reports whether err is a refusal that retrying cannot fix.
func isAuthError(err error) bool {
	if err == nil {
		return false
	}
	for _, k := range []kafka.Error{kafka.SASLAuthenticationFailed, kafka.UnsupportedSASLMechanism, kafka.IllegalSASLState} {
		if errors.Is(err, k) {
			return true
		}
	}
	var (
		certErr  *tls.CertificateVerificationError
		authErr  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
	)
	return errors.As(err, &certErr) || errors.As(err, &authErr) || errors.As(err, &hostErr) ||
		errors.As(err, &invalid) || errors.As(err, &recErr) || errors.As(err, &alertErr)
}

// backoff is an exponential backoff between min and max.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) reset() { b.cur = 0 }

// wait sleeps for the next backoff; false if ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	t := time.NewTimer(b.cur)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

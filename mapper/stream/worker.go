package stream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/mapperhq/mapper/internal/ratelog"
	"github.com/mapperhq/mapper/mapper"
)

// Observer is told of every record the worker maps, from the mapping goroutines, concurrently.
// It must not block and must not keep origin, payload or res past the call (copy what it keeps).
type Observer interface {
	Observe(origin *mapper.Origin, src *mapper.Source, payload []byte, res *mapper.Result, took time.Duration)
}

// messageReader is what the worker needs of a consumer-group reader.
// *kafka.Reader satisfies it. FetchMessage blocks until a record is
// available or ctx ends (returning ctx's error and consuming nothing);
// CommitMessages commits, synchronously, the offset after the highest
// message of each partition.
type messageReader interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
	Close() error
}

// messageWriter is what the worker needs of a producer. *kafka.Writer
// satisfies it. WriteMessages returns once every message is acknowledged or
// with an error; a kafka.WriteErrors tells which messages failed.
type messageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
	Close() error
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
	runErr  atomic.Value // string: why Run failed
	started atomic.Bool
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
	log := w.cfg.Logger
	w.state.Store(StateStarting)
	if err := w.preflight(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}

	dialer := w.cfg.Kafka.Dialer()
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           w.cfg.Kafka.Brokers,
		GroupID:           w.cfg.GroupID,
		GroupTopics:       w.cfg.Topics,
		Dialer:            dialer,
		QueueCapacity:     w.cfg.BatchSize,
		MinBytes:          1,
		MaxBytes:          16 << 20,
		MaxWait:           250 * time.Millisecond,
		CommitInterval:    0, // synchronous commits: CommitMessages returns once committed
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: w.cfg.HeartbeatInterval,
		SessionTimeout:    w.cfg.SessionTimeout,
		RebalanceTimeout:  w.cfg.RebalanceTimeout,
		JoinGroupBackoff:  w.cfg.JoinGroupBackoff,
		ReadBackoffMin:    w.cfg.RetryBackoffMin,
		ReadBackoffMax:    w.cfg.RetryBackoffMax,
		MaxAttempts:       3,
		ErrorLogger:       readerErrorLogger(log),
	})
	newWriter := func(topic string) *kafka.Writer {
		return &kafka.Writer{
			Addr:            kafka.TCP(w.cfg.Kafka.Brokers...),
			Topic:           topic,
			Balancer:        &kafka.Murmur2Balancer{},
			MaxAttempts:     3,
			WriteBackoffMin: w.cfg.RetryBackoffMin,
			WriteBackoffMax: w.cfg.RetryBackoffMax,
			BatchSize:       w.cfg.BatchSize,
			BatchBytes:      16 << 20,
			BatchTimeout:    w.cfg.WriteBatchTimeout,
			RequiredAcks:    kafka.RequireAll,
			Transport:       w.transport,
		}
	}
	p := &pipeline{
		w:      w,
		reader: reader,
		out:    newWriter(w.cfg.OutputTopic),
		dlq:    newWriter(w.cfg.DeadLetterTopic),
		log:    log,
		retry:  &ratelog.Logger{Logger: log, Every: retryLogEvery},
	}
	w.state.Store(StateRunning)
	log.Info("worker running", "group", w.cfg.GroupID, "topics", w.cfg.Topics,
		"output", w.cfg.OutputTopic, "dead_letter", w.cfg.DeadLetterTopic, "concurrency", w.cfg.Concurrency)
	return p.run(ctx)
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

// pipeline is one Run: fetch → map → write and commit, three stages joined
// by channels so that each works on its own batch while the others work on
// theirs. Batches pass the stages in fetch order, so records of one
// partition are written in order and commits advance in partition order.
type pipeline struct {
	w      *Worker
	reader messageReader
	out    messageWriter
	dlq    messageWriter
	log    *slog.Logger
	// retry logs the warnings of retried fetches, writes and commits, at
	// most one every retryLogEvery (with the number skipped).
	retry *ratelog.Logger
}

// retryLogEvery is the least time between two logged retries: a broker
// outage retried every few seconds says so a few times a minute, not a
// hundred.
const retryLogEvery = 20 * time.Second

// batch is one unit of work.
type batch struct {
	msgs []kafka.Message
	// filled by the map stage
	out []kafka.Message
	dlq []kafka.Message
}

func (p *pipeline) run(ctx context.Context) error {
	cfg := &p.w.cfg
	// hard ends deliveries: it outlives ctx by the shutdown timeout.
	hard, hardCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hardCancel()
	var timer *time.Timer
	var timerMu sync.Mutex
	stopAfter := context.AfterFunc(ctx, func() {
		p.w.state.Store(StateDraining)
		p.log.Info("stopping: delivering and committing records in flight", "deadline", cfg.ShutdownTimeout)
		if cfg.ShutdownTimeout < 0 {
			hardCancel()
			return
		}
		timerMu.Lock()
		timer = time.AfterFunc(cfg.ShutdownTimeout, hardCancel)
		timerMu.Unlock()
	})
	defer func() {
		stopAfter()
		timerMu.Lock()
		if timer != nil {
			timer.Stop()
		}
		timerMu.Unlock()
	}()

	toMap := make(chan *batch, 1)
	toWrite := make(chan *batch, 1)
	var g errgroup.Group
	g.Go(func() error {
		defer close(toMap)
		p.fetch(ctx, toMap)
		return nil
	})
	g.Go(func() error {
		defer close(toWrite)
		p.mapBatches(hard, toMap, toWrite)
		return nil
	})
	var left atomic.Int64
	g.Go(func() error {
		for b := range toWrite {
			if !p.deliver(hard, b) {
				left.Add(int64(len(b.msgs)))
			}
		}
		return nil
	})
	_ = g.Wait()

	err := p.reader.Close()
	if err != nil {
		p.log.Warn("close consumer", "error", err)
	}
	for _, wr := range []messageWriter{p.out, p.dlq} {
		if err := wr.Close(); err != nil {
			p.log.Warn("close producer", "error", err)
		}
	}
	if n := left.Load(); n > 0 {
		p.log.Warn("records left uncommitted at shutdown; they will be consumed again", "records", n)
		return fmt.Errorf("%w: %d records uncommitted", ErrShutdownTimeout, n)
	}
	p.log.Info("stopped cleanly")
	return nil
}

// fetch reads batches of up to BatchSize records: it blocks for the first,
// then takes what arrives within BatchLinger.
func (p *pipeline) fetch(ctx context.Context, toMap chan<- *batch) {
	cfg := &p.w.cfg
	b := backoff{min: cfg.RetryBackoffMin, max: cfg.RetryBackoffMax}
	for ctx.Err() == nil {
		msgs := make([]kafka.Message, 0, cfg.BatchSize)
		m, err := p.reader.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return
			}
			p.retry.Warn("fetch failed; retrying", "error", err)
			p.w.stats.fetchErrors.Add(1)
			b.wait(ctx)
			continue
		}
		b.reset()
		msgs = append(msgs, m)
		lctx, cancel := context.WithTimeout(ctx, cfg.BatchLinger)
		for len(msgs) < cfg.BatchSize {
			m, err := p.reader.FetchMessage(lctx)
			if err != nil {
				if lctx.Err() == nil && !errors.Is(err, io.EOF) {
					p.retry.Warn("fetch failed", "error", err)
					p.w.stats.fetchErrors.Add(1)
				}
				break
			}
			msgs = append(msgs, m)
		}
		cancel()
		// Once fetched, a batch is always handed on: dropping it here would
		// let a later batch's commit pass over it.
		toMap <- &batch{msgs: msgs}
	}
}

// mapBatches maps each batch with Concurrency goroutines, each with its own
// mapper.Mapper, and builds the output and dead-letter records in order.
func (p *pipeline) mapBatches(ctx context.Context, in <-chan *batch, out chan<- *batch) {
	cfg := &p.w.cfg
	type job struct {
		b      *batch
		lo, hi int
		done   *sync.WaitGroup
		recs   []mapped
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(func() {
			var m mapper.Mapper
			var res mapper.Result
			var origin mapper.Origin
			t := newTally()
			for j := range jobs {
				for i := j.lo; i < j.hi; i++ {
					p.mapOne(&m, &res, &origin, &j.b.msgs[i], &j.recs[i], t)
				}
				p.w.stats.merge(t)
				j.done.Done()
			}
		})
	}
	defer func() {
		close(jobs)
		wg.Wait()
	}()
	for b := range in {
		n := len(b.msgs)
		recs := make([]mapped, n)
		chunk := max(16, (n+cfg.Concurrency-1)/cfg.Concurrency)
		var done sync.WaitGroup
		for lo := 0; lo < n; lo += chunk {
			done.Add(1)
			jobs <- job{b: b, lo: lo, hi: min(lo+chunk, n), done: &done, recs: recs}
		}
		done.Wait()
		for i := range recs {
			if recs[i].dead {
				b.dlq = append(b.dlq, recs[i].msg)
			} else {
				b.out = append(b.out, recs[i].msg)
			}
		}
		select {
		case out <- b:
		case <-ctx.Done():
			// Deliveries are abandoned; drain so that fetch is not blocked.
			for range in {
			}
			return
		}
	}
}

// mapped is the record one input record becomes.
type mapped struct {
	msg  kafka.Message
	dead bool
}

func (p *pipeline) mapOne(m *mapper.Mapper, res *mapper.Result, origin *mapper.Origin, in *kafka.Message, rec *mapped, t *tally) {
	origin.Headers = origin.Headers[:0]
	for _, h := range in.Headers {
		origin.Headers = append(origin.Headers, mapper.Header{Key: h.Key, Value: h.Value})
	}
	start := time.Now()
	src, unknown := p.w.cfg.Engine.Route(in.Topic, origin.Headers, in.Value)
	if src == nil {
		*res = unknown
	} else {
		m.Map(src, in.Value, res)
	}
	took := time.Since(start)
	if obs := p.w.cfg.Observers; len(obs) > 0 {
		origin.Topic, origin.Partition, origin.Offset = in.Topic, in.Partition, in.Offset
		origin.Key, origin.Time = in.Key, in.Time
		for _, o := range obs {
			o.Observe(origin, src, in.Value, res, took)
		}
	}
	t.add(src, in.Topic, res)
	if res.Outcome.Delivered() {
		rec.msg = outputMessage(in, src, res)
	} else {
		rec.msg = deadLetterMessage(in, src, res, time.Now())
		rec.dead = true
	}
}

// deliver writes a batch's output and dead-letter records, retrying until
// every one is acknowledged, then commits the batch. It returns false if ctx
// ended first: then nothing of the batch is committed.
func (p *pipeline) deliver(ctx context.Context, b *batch) bool {
	var g errgroup.Group
	g.Go(func() error { return p.write(ctx, p.out, p.w.cfg.OutputTopic, b.out) })
	g.Go(func() error { return p.write(ctx, p.dlq, p.w.cfg.DeadLetterTopic, b.dlq) })
	if g.Wait() != nil {
		return false
	}
	p.w.stats.delivered(len(b.out), len(b.dlq))
	bo := backoff{min: p.w.cfg.RetryBackoffMin, max: p.w.cfg.RetryBackoffMax}
	for attempt := 1; ; attempt++ {
		err := p.reader.CommitMessages(ctx, b.msgs...)
		if err == nil {
			p.w.stats.committed(b.msgs)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		p.w.stats.commitErrors.Add(1)
		// A commit refused after a rebalance cannot succeed later; the
		// partitions' new owner consumes these records again. A later
		// commit supersedes an earlier one, so giving up loses nothing.
		if attempt == 3 {
			p.log.Warn("commit failed; the records will be consumed again", "records", len(b.msgs), "error", err)
			return true
		}
		p.retry.Warn("commit failed; retrying", "attempt", attempt, "error", err)
		if !bo.wait(ctx) {
			return false
		}
	}
}

// write writes msgs to topic, retrying the failed ones with backoff until
// every one is acknowledged or ctx ends.
func (p *pipeline) write(ctx context.Context, wr messageWriter, topic string, msgs []kafka.Message) error {
	bo := backoff{min: p.w.cfg.RetryBackoffMin, max: p.w.cfg.RetryBackoffMax}
	for attempt := 1; len(msgs) > 0; attempt++ {
		err := wr.WriteMessages(ctx, msgs...)
		if err == nil {
			if attempt > 1 {
				p.log.Info("write recovered", "topic", topic, "attempts", attempt)
				p.w.failing.Store("")
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var werrs kafka.WriteErrors
		if errors.As(err, &werrs) && len(werrs) == len(msgs) {
			var failed []kafka.Message
			for i, e := range werrs {
				if e != nil {
					failed = append(failed, msgs[i])
				}
			}
			msgs = failed
		}
		p.w.stats.writeErrors.Add(1)
		p.w.failing.Store(fmt.Sprintf("writing to %s: %v", topic, err))
		p.retry.Warn("write failed; retrying", "topic", topic, "records", len(msgs), "attempt", attempt, "error", err)
		if !bo.wait(ctx) {
			return ctx.Err()
		}
	}
	return nil
}

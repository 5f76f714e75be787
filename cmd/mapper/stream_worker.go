package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/observe"
	"github.com/mapperhq/mapper/mapper/registry"
	"github.com/mapperhq/mapper/mapper/release"
	"github.com/mapperhq/mapper/mapper/statuspage"
	"github.com/mapperhq/mapper/mapper/stream"
)

// workerFlags are the flags that mapper run and mapper demo share.
type workerFlags struct {
	concurrency     *int
	batchSize       *int
	maxInflight     *int
	commitInterval  *string
	shutdownTimeout *string
	sessionTimeout  *string
	statusAddr      *string
	observers       *observerFlags
	log             *logFlags
	release         *releaseFlags
	registry        *registry.Flags
}

// declareWorkerFlags declares the shared flags with the given defaults of
// --status-addr and --log-level.
func declareWorkerFlags(fs *flag.FlagSet, e *env, statusAddr, logLevel string) *workerFlags {
	return &workerFlags{
		log:             declareLogFlags(fs, e, logLevel),
		concurrency:     intFlag(fs, e, "concurrency", 0, "mapping goroutines; 0 means one per core"),
		batchSize:       intFlag(fs, e, "batch-size", 500, "most records of one partition mapped and handed to the writers together (produce requests are sized by the topics' max.message.bytes)"),
		maxInflight:     intFlag(fs, e, "max-inflight-bytes", 32<<20, "bytes of input records in flight (fetched, not yet committed) past which fetching waits"),
		commitInterval:  stringFlag(fs, e, "commit-interval", stream.DefaultCommitInterval.String(), "least time between two commits of the group's offsets (0: commit as soon as a batch is delivered); after a crash up to this much more is consumed again"),
		shutdownTimeout: stringFlag(fs, e, "shutdown-timeout", "30s", "how long a first Ctrl-C/SIGTERM waits for records in flight (a second one exits at once)"),
		sessionTimeout:  stringFlag(fs, e, "session-timeout", stream.DefaultSessionTimeout.String(), "how long the group waits for a silent member before its partitions move to the others (the brokers allow 6s to 30m by default)"),
		statusAddr:      stringFlag(fs, e, "status-addr", statusAddr, `address of the /healthz, /readyz and /status listener; "" turns it off`),
		observers:       declareObserverFlags(fs, e),
		release:         declareReleaseFlags(fs, e),
		registry:        registry.Register(fs),
	}
}

// apply sets the shared fields of cfg, appending flag problems to problems.
func (f *workerFlags) apply(cfg *stream.Config, problems *[]string) {
	f.log.check(problems)
	f.observers.check(problems)
	if _, ps := f.registry.Config(); len(ps) > 0 {
		*problems = append(*problems, ps...)
	}
	cfg.Concurrency = *f.concurrency
	cfg.BatchSize = *f.batchSize
	if *f.concurrency < 0 {
		*problems = append(*problems, fmt.Sprintf("--concurrency %d: must be 0 or more", *f.concurrency))
	}
	if *f.batchSize <= 0 {
		*problems = append(*problems, fmt.Sprintf("--batch-size %d: must be 1 or more", *f.batchSize))
	}
	cfg.MaxInflightBytes = int64(*f.maxInflight)
	if *f.maxInflight <= 0 {
		*problems = append(*problems, fmt.Sprintf("--max-inflight-bytes %d: must be 1 or more", *f.maxInflight))
	}
	d, err := time.ParseDuration(*f.commitInterval)
	switch {
	case err != nil:
		*problems = append(*problems, fmt.Sprintf("--commit-interval %q: not a duration (like 1s)", *f.commitInterval))
	case d < 0:
		*problems = append(*problems, fmt.Sprintf("--commit-interval %s: must be 0 or more", d))
	case d == 0:
		cfg.CommitInterval = -1 // as soon as offsets move
	default:
		cfg.CommitInterval = d
	}
	d, err = time.ParseDuration(*f.shutdownTimeout)
	switch {
	case err != nil:
		*problems = append(*problems, fmt.Sprintf("--shutdown-timeout %q: not a duration (like 30s)", *f.shutdownTimeout))
	case d <= 0:
		*problems = append(*problems, fmt.Sprintf("--shutdown-timeout %s: must be positive", d))
	default:
		cfg.ShutdownTimeout = d
	}
	d, err = time.ParseDuration(*f.sessionTimeout)
	switch {
	case err != nil:
		*problems = append(*problems, fmt.Sprintf("--session-timeout %q: not a duration (like 10s)", *f.sessionTimeout))
	case d <= 0:
		*problems = append(*problems, fmt.Sprintf("--session-timeout %s: must be positive", d))
	default:
		cfg.SessionTimeout = d
	}
}

// reportProblems prints configuration problems, one a line (one JSON log
// line each with --log-format json), and returns the usage exit code.
func reportProblems(e *env, cmd string, problems []string) int {
	if e.logJSON {
		l := errorLogger(e)
		for _, p := range problems {
			l.Error("configuration problem", "command", "mapper "+cmd, "problem", p)
		}
		return exitUsage
	}
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "mapper %s: %s\n", cmd, p)
	}
	return exitUsage
}

// loadProblems turns a rules load error into problems, one per position.
func loadProblems(err error) []string {
	var le *mapper.LoadError
	if errors.As(err, &le) {
		ps := make([]string, 0, len(le.Problems))
		for _, p := range le.Problems {
			ps = append(ps, p.String())
		}
		return ps
	}
	return []string{err.Error()}
}

// configProblems returns what stream.New would refuse in cfg; it starts
// nothing.
func configProblems(cfg stream.Config) []string {
	_, err := stream.New(cfg)
	var ce *stream.ConfigError
	if errors.As(err, &ce) {
		return ce.Problems
	}
	if err != nil {
		return []string{err.Error()}
	}
	return nil
}

// failed reports err, the reason a long-running command stops, through
// logger when it writes JSON (so that every line stays one JSON object),
// else as a plain line, and returns exitFailure.
func (f *workerFlags) failed(e *env, logger *slog.Logger, cmd string, err error) int {
	if *f.log.format == "json" {
		logger.Error("mapper "+cmd+" failed", "error", err.Error())
	} else {
		fmt.Fprintf(e.stderr, "mapper %s: %v\n", cmd, err)
	}
	return exitFailure
}

// startedWorker is a worker with its observers and status listener, ready
// to Run.
type startedWorker struct {
	w        *stream.Worker
	obs      *observe.Set
	listener net.Listener
	status   http.Handler // served on listener by run
	logger   *slog.Logger
	release  *release.Controller
	reloader *release.Reloader
	watch    time.Duration
	registry *registry.Client // nil without --schema-registry
}

// newWorker builds the observers, the release controller (candidate rules,
// hot reload, breaker) over the rules rs loads again on a reload, the worker
// and the status listener. On error nothing is left running.
func newWorker(ctx context.Context, e *env, cmd string, f *workerFlags, cfg stream.Config, rs ruleSources, logger *slog.Logger) (*startedWorker, int) {
	var problems []string
	rel := f.release.parse(&problems)
	if len(problems) > 0 {
		return nil, reportProblems(e, cmd, problems)
	}
	// A reload may not leave a topic the worker consumes to no source.
	rel.cfg.Consumed = cfg.Topics
	if len(rel.cfg.Consumed) == 0 && cfg.Engine != nil {
		rel.cfg.Consumed = cfg.Engine.Topics()
	}
	obs, err := buildObservers(ctx, e, f.observers, cfg.Engine, logger)
	if err != nil {
		// What check could not tell before start: a sample directory or
		// samples topic that cannot be used.
		return nil, f.failed(e, logger, cmd, err)
	}
	closeObs := obs.Close
	reg, err := connectRegistry(ctx, f.registry, cfg.Kafka.WithDefaults().ConnectTimeout)
	if err != nil {
		_ = closeObs()
		return nil, f.failed(e, logger, cmd, err)
	}
	if reg != nil {
		rs.gate = registryGate(ctx, reg, cfg.OutputTopic, rel.cfg.Mode == release.ModeCanary, logger)
		cfg.Framing = reg
	}
	ctrl, reloader, err := newRelease(e, rel, rs, cfg.Engine, &observe.ReleaseEvents{Metrics: obs.Metrics, Alerts: obs.Alerts, Samples: obs.Samples}, logger)
	if err == nil && rs.gate != nil {
		err = rs.gate(ctrl.Live(), ctrl.Candidate())
	}
	if err != nil {
		_ = closeObs()
		return nil, f.failed(e, logger, cmd, err)
	}
	cfg.Release = ctrl
	cfg.Observers = append(cfg.Observers, obs.List...)
	cfg.Logger = logger
	w, err := stream.New(cfg)
	if err != nil {
		_ = closeObs()
		var ce *stream.ConfigError
		if errors.As(err, &ce) {
			return nil, reportProblems(e, cmd, ce.Problems)
		}
		return nil, f.failed(e, logger, cmd, err)
	}
	sw := &startedWorker{w: w, obs: obs, logger: logger, release: ctrl, reloader: reloader, watch: rel.watch, registry: reg}
	if addr := *f.statusAddr; addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			_ = closeObs()
			return nil, f.failed(e, logger, cmd, fmt.Errorf("status listener: %w (choose another --status-addr, or \"\" for none)", err))
		}
		sw.listener = l
		status := statusOf(w, obs.Drift)
		page, err := statuspage.Handler(statuspage.Config{
			Status:     func(ctx context.Context) any { return status(ctx, true) },
			Objectives: objectives(cfg.Engine),
			SamplesDir: *f.observers.samples.dir,
			Title:      "mapper " + cmd,
			Logger:     logger,
		})
		if err != nil {
			_ = closeObs()
			_ = l.Close()
			return nil, f.failed(e, logger, cmd, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /{$}", page) // the page for people; /status is the JSON
		mux.Handle("GET /status", statusHandler(status, logger))
		mux.Handle("/", w.Handler())
		sw.status = mux
		logger.Info("status page", "url", "http://"+l.Addr().String()+"/", "json", "http://"+l.Addr().String()+"/status")
	}
	return sw, exitOK
}

// run runs the worker, its lag reports and its status listener until ctx
// ends or the worker stops; whichever comes first stops the others. Then it
// closes the observers. A status listener that fails is logged and does not
// stop the worker.
func (sw *startedWorker) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	var runErr error
	g.Go(func() error {
		// The worker drains on ctx, not gctx: the others stop with it.
		runErr = sw.w.Run(ctx)
		return errWorkerStopped
	})
	// SIGHUP, or a change under the watched directories, reloads the rules.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	g.Go(func() error {
		sw.reloader.Run(gctx, hup, sw.watch)
		return nil
	})
	if sw.obs.Metrics != nil {
		g.Go(func() error {
			sw.w.ReportLag(gctx, stream.DefaultLagInterval, sw.obs.Metrics)
			return nil
		})
	}
	if sw.listener != nil {
		g.Go(func() error {
			if err := statuspage.Serve(gctx, sw.listener, sw.status); err != nil {
				sw.logger.Error("status listener", "error", err)
			}
			return nil
		})
	}
	_ = g.Wait()
	if cerr := sw.obs.Close(); cerr != nil {
		sw.logger.Warn("close observers", "error", cerr)
	}
	return runErr
}

// errWorkerStopped ends the worker's errgroup when Run returns.
var errWorkerStopped = errors.New("worker stopped")

// objectives are the sources' mapped-ratio objectives, for the status page.
func objectives(eng *mapper.Engine) map[string]float64 {
	out := map[string]float64{}
	if eng == nil {
		return out
	}
	for _, s := range eng.Sources() {
		if r := s.Objective().MappedRatio; r > 0 {
			out[s.Name()] = r
		}
	}
	return out
}

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

	"github.com/mapperhq/mapper/mapper/release"
	"github.com/mapperhq/mapper/mapper/stream"
)

// workerFlags are the flags that mapper run and mapper demo share.
type workerFlags struct {
	concurrency     *int
	batchSize       *int
	shutdownTimeout *string
	statusAddr      *string
	observers       *observerFlags
	release         *releaseFlags
}

func declareWorkerFlags(fs *flag.FlagSet, e *env, statusAddr string) *workerFlags {
	return &workerFlags{
		concurrency:     intFlag(fs, e, "concurrency", 0, "mapping goroutines; 0 means one per core"),
		batchSize:       intFlag(fs, e, "batch-size", 500, "records fetched, mapped, written and committed together"),
		shutdownTimeout: stringFlag(fs, e, "shutdown-timeout", "30s", "how long a first Ctrl-C/SIGTERM waits for records in flight (a second one exits at once)"),
		statusAddr:      stringFlag(fs, e, "status-addr", statusAddr, `address of the /healthz, /readyz and /status listener; "" turns it off`),
		observers:       declareObserverFlags(fs, e),
		release:         declareReleaseFlags(fs, e),
	}
}

// apply sets the shared fields of cfg, appending flag problems to problems.
func (f *workerFlags) apply(cfg *stream.Config, problems *[]string) {
	cfg.Concurrency = *f.concurrency
	cfg.BatchSize = *f.batchSize
	if *f.concurrency < 0 {
		*problems = append(*problems, fmt.Sprintf("--concurrency %d: must be 0 or more", *f.concurrency))
	}
	if *f.batchSize <= 0 {
		*problems = append(*problems, fmt.Sprintf("--batch-size %d: must be 1 or more", *f.batchSize))
	}
	d, err := time.ParseDuration(*f.shutdownTimeout)
	switch {
	case err != nil:
		*problems = append(*problems, fmt.Sprintf("--shutdown-timeout %q: not a duration (like 30s)", *f.shutdownTimeout))
	case d <= 0:
		*problems = append(*problems, fmt.Sprintf("--shutdown-timeout %s: must be positive", d))
	default:
		cfg.ShutdownTimeout = d
	}
}

// reportProblems prints configuration problems, one a line, and returns the
// usage exit code.
func reportProblems(e *env, cmd string, problems []string) int {
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "mapper %s: %s\n", cmd, p)
	}
	return exitUsage
}

// startedWorker is a worker with its observers and status listener, ready
// to Run.
type startedWorker struct {
	w         *stream.Worker
	obs       *observers
	listener  net.Listener
	server    *http.Server
	serveDone chan struct{}
	logger    *slog.Logger
	release   *release.Controller
	reloader  *release.Reloader
	watch     time.Duration
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
	obs, err := buildObservers(ctx, e, f.observers, cfg.Engine, logger)
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper %s: %v\n", cmd, err)
		return nil, exitFailure
	}
	closeObs := obs.close
	ctrl, reloader, err := newRelease(e, rel, rs, cfg.Engine, &releaseEvents{mc: obs.metrics, al: obs.alerts, st: obs.samples}, logger)
	if err != nil {
		_ = closeObs()
		fmt.Fprintf(e.stderr, "mapper %s: %v\n", cmd, err)
		return nil, exitFailure
	}
	cfg.Release = ctrl
	cfg.Observers = append(cfg.Observers, obs.list...)
	cfg.Logger = logger
	w, err := stream.New(cfg)
	if err != nil {
		_ = closeObs()
		var ce *stream.ConfigError
		if errors.As(err, &ce) {
			return nil, reportProblems(e, cmd, ce.Problems)
		}
		fmt.Fprintf(e.stderr, "mapper %s: %v\n", cmd, err)
		return nil, exitFailure
	}
	sw := &startedWorker{w: w, obs: obs, logger: logger, release: ctrl, reloader: reloader, watch: rel.watch}
	if addr := *f.statusAddr; addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			_ = closeObs()
			fmt.Fprintf(e.stderr, "mapper %s: status listener: %v (choose another --status-addr, or \"\" for none)\n", cmd, err)
			return nil, exitFailure
		}
		sw.listener = l
		sw.server = &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 5 * time.Second}
		sw.serveDone = make(chan struct{})
		go func() {
			defer close(sw.serveDone)
			if err := sw.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("status listener", "error", err)
			}
		}()
		logger.Info("status page", "url", "http://"+l.Addr().String()+"/status")
	}
	return sw, exitOK
}

// run runs the worker until ctx ends, then stops the listener and closes
// the observers.
func (sw *startedWorker) run(ctx context.Context) error {
	// SIGHUP, or a change under the watched directories, reloads the rules.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reloadCtx, stopReload := context.WithCancel(ctx)
	reloadDone := make(chan struct{})
	go func() {
		defer close(reloadDone)
		sw.reloader.Run(reloadCtx, hup, sw.watch)
	}()
	defer func() { stopReload(); <-reloadDone }()
	lagDone := make(chan struct{})
	lagCtx, stopLag := context.WithCancel(ctx)
	go func() {
		defer close(lagDone)
		if sw.obs.metrics != nil {
			reportLag(lagCtx, sw.w, sw.obs.metrics, 5*time.Second, sw.logger)
		}
	}()
	err := sw.w.Run(ctx)
	stopLag()
	<-lagDone
	if sw.server != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		_ = sw.server.Shutdown(sctx)
		cancel()
		<-sw.serveDone
	}
	if cerr := sw.obs.close(); cerr != nil {
		sw.logger.Warn("close observers", "error", cerr)
	}
	return err
}

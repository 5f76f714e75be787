package observe

import (
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// SampleOptions are the sample store's limits; zero values mean the
// store's defaults (see samples.Config).
type SampleOptions struct {
	PerCategory int
	Clean       int
	MaxBytes    int64
	// OnKept is told of every record kept (for the samples.kept metric).
	OnKept func(source string, reason mapper.Reason)
	// Sink, when set, is told of the samples and counts too (the samples
	// topic's writer).
	Sink samples.Sink
	// OnError is told of write errors; nil ignores them (see ReportOnce).
	OnError func(error)
	// RoutingHeaders are the headers the rules route on
	// (mapper.Engine.RoutingHeaders): the store keeps their values with
	// the structural profiles of the records no source accepts (see
	// samples.ShapeConfig). Nil profiles those records per topic alone.
	RoutingHeaders []string
}

// NewSampleStore opens the sample store in dir for a command that maps
// records (run, demo, samples add). The store is an observer of the
// worker: pass it in the worker's Observers and Close it after the worker
// stopped.
func NewSampleStore(dir string, opts SampleOptions) (*samples.Store, error) {
	if opts.PerCategory < 0 {
		return nil, fmt.Errorf("samples: --samples-per-category must be at least 1, not %d", opts.PerCategory)
	}
	if opts.MaxBytes < 0 {
		return nil, fmt.Errorf("samples: --samples-max-mb must be positive, not %d", opts.MaxBytes>>20)
	}
	st, err := samples.Open(samples.Config{
		Dir:         dir,
		PerCategory: opts.PerCategory,
		Clean:       opts.Clean,
		MaxBytes:    opts.MaxBytes,
		OnKept:      opts.OnKept,
		Sink:        opts.Sink,
		OnError:     opts.OnError,
		Shapes:      samples.ShapeConfig{RoutingHeaders: opts.RoutingHeaders},
	})
	if err != nil {
		return nil, fmt.Errorf("open samples %s: %w", dir, err)
	}
	return st, nil
}

// NewValueProfiler opens the failing-value profiles kept beside the
// samples in dir. Like the sample store it observes the worker and is
// closed after it stopped. sink, when not nil, is told of the profiles too
// (the samples topic's writer); onError of write errors.
func NewValueProfiler(dir string, sink samples.ValuesSink, onError func(error)) (*samples.Values, error) {
	v, err := samples.OpenValues(samples.ValuesConfig{Dir: dir, OnError: onError, Sink: sink})
	if err != nil {
		return nil, fmt.Errorf("open value profiles %s: %w", dir, err)
	}
	return v, nil
}

// ReportOnce returns an error handler for the sample files' writers: it
// reports each distinct error once, to logger, or as a line on w when
// logger is nil. It is safe for concurrent use.
func ReportOnce(logger *slog.Logger, w io.Writer) func(error) {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if msg := err.Error(); !seen[msg] {
			seen[msg] = true
			if logger != nil {
				logger.Warn("samples", "error", msg)
			} else {
				fmt.Fprintf(w, "mapper: %v\n", err)
			}
		}
	}
}

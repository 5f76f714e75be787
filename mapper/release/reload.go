package release

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/mapperhq/mapper/mapper"
)

// Loader loads, checks and compiles the rule sets: the live one and the
// candidate (nil when there is none). On any problem it returns an error
// (a *mapper.LoadError lists every problem with its file:line:col) and no
// engine.
type Loader func() (live, cand *mapper.Engine, err error)

// Reloader reloads a Controller's rules on a signal or when the rule
// directories change. A rule set with problems is refused and the running
// rules stay. Make one with NewReloader; Run and Reload are safe to call
// from different goroutines.
type Reloader struct {
	controller *Controller
	load       Loader
	dirs       []string
	mu         sync.Mutex // serialises reloads
	last       [32]byte   // fingerprint of dirs when last loaded
	// Out receives one line per problem of a refused rule set, as
	// `mapper check` prints them. Nil means the logger only.
	Out io.Writer
	// Logger receives one line per reload. Nil means discard.
	Logger *slog.Logger
	// OnReload, when not nil, is told of every reload attempt: nil for a
	// swap, the error for a refused rule set.
	OnReload func(err error)
}

// NewReloader returns a Reloader that loads with load into c and polls
// dirs (rules, schemas, candidate rules). It takes the directories'
// fingerprint now: make it before loading the running rules so that no
// change in between is missed.
func NewReloader(c *Controller, load Loader, dirs ...string) *Reloader {
	return &Reloader{controller: c, load: load, dirs: dirs, last: fingerprint(dirs)}
}

// ErrRefused is wrapped by the error Reload returns when the new rules have
// problems; the running rules stay.
var ErrRefused = errors.New("new rules refused; the running rules stay")

// Reload loads the rules and, if they load cleanly, swaps them in between
// two records. Otherwise it prints every problem to Out and returns an
// error wrapping ErrRefused and the load error.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = fingerprint(r.dirs)
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	live, cand, err := r.load()
	if err == nil {
		err = r.controller.Swap(live, cand)
	}
	if err != nil {
		// The log and the printed lines say once that the running rules
		// stay, then why; the error returned wraps ErrRefused.
		why := err
		err = fmt.Errorf("%w: %w", ErrRefused, err)
		log.Error("reload refused; the running rules stay", "error", why)
		if r.Out != nil {
			fmt.Fprintf(r.Out, "mapper: reload refused; the running rules stay:\n")
			var le *mapper.LoadError
			if errors.As(why, &le) {
				for _, p := range le.Problems {
					fmt.Fprintf(r.Out, "%s\n", p)
				}
			} else {
				fmt.Fprintf(r.Out, "%v\n", why)
			}
		}
	} else {
		log.Info("rules reloaded", "live", versionList(live), "candidate", versionList(cand))
	}
	if r.OnReload != nil {
		r.OnReload(err)
	}
	return err
}

// Run reloads on every value from signals (SIGHUP; nil for none) and, when
// poll is positive, whenever the rule or schema files of the directories
// change (name, size or modification time), checking every poll. It returns when ctx ends.
func (r *Reloader) Run(ctx context.Context, signals <-chan os.Signal, poll time.Duration) {
	var tick <-chan time.Time
	if poll > 0 {
		t := time.NewTicker(poll)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-signals:
			_ = r.Reload()
		case <-tick:
			r.mu.Lock()
			same := fingerprint(r.dirs) == r.last
			r.mu.Unlock()
			if !same {
				_ = r.Reload()
			}
		}
	}
}

// fingerprint hashes the name, size and modification time of every rule
// and schema file (*.yaml, *.yml, *.json) under dirs; an unreadable
// directory hashes as its error.
func fingerprint(dirs []string) [32]byte {
	h := sha256.New()
	for _, d := range dirs {
		var lines []string
		err := filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				lines = append(lines, path+": "+err.Error())
				return nil
			}
			if e.IsDir() {
				return nil
			}
			switch filepath.Ext(path) {
			case ".yaml", ".yml", ".json":
			default:
				return nil // editors' and atomic writers' temporary files
			}
			// Stat follows symlinks: a mounted Kubernetes ConfigMap's files
			// are links that keep their names when the data changes.
			info, err := os.Stat(path)
			if err != nil {
				lines = append(lines, path+": "+err.Error())
				return nil
			}
			lines = append(lines, fmt.Sprintf("%s %d %d", path, info.Size(), info.ModTime().UnixNano()))
			return nil
		})
		if err != nil {
			lines = append(lines, d+": "+err.Error())
		}
		sort.Strings(lines)
		for _, l := range lines {
			fmt.Fprintln(h, l)
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

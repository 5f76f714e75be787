package release_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/syncbuf"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/release"
)

func newLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// rulesDir copies testdata/<from>/orders.yaml into a fresh directory.
func rulesDir(t *testing.T, from string) string {
	t.Helper()
	dir := t.TempDir()
	copyRules(t, from, dir)
	return dir
}

func copyRules(t *testing.T, from, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", from, "orders.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".orders.yaml.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "orders.yaml")); err != nil {
		t.Fatal(err)
	}
}

func loaderOf(dir string) release.Loader {
	return func() (*mapper.Engine, *mapper.Engine, error) {
		e, err := mapper.Load(dir, "testdata/schemas", mapper.Options{})
		return e, nil, err
	}
}

// controllerOn returns a Controller running the rules of dir, and them.
func controllerOn(t *testing.T, dir string) (*release.Controller, *mapper.Engine) {
	t.Helper()
	live, _, err := loaderOf(dir)()
	if err != nil {
		t.Fatal(err)
	}
	c, err := release.New(release.Config{Live: live})
	if err != nil {
		t.Fatal(err)
	}
	return c, live
}

func TestReloadRefusesBrokenRulesAndKeepsTheRunningOnes(t *testing.T) {
	dir := rulesDir(t, "live")
	c, live := controllerOn(t, dir)
	var out bytes.Buffer
	var told []error
	r := release.NewReloader(c, loaderOf(dir), dir)
	r.Out = &out
	r.OnReload = func(err error) { told = append(told, err) }

	copyRules(t, "broken", dir)
	err := r.Reload()
	var le *mapper.LoadError
	if !errors.Is(err, release.ErrRefused) || !errors.As(err, &le) {
		t.Fatalf("Reload: got %v, want ErrRefused wrapping a *mapper.LoadError", err)
	}
	want := filepath.Join(dir, "orders.yaml") + `:10:58: unknown transform "lowercse" (did you mean "lowercase"?)`
	if !strings.Contains(out.String(), want) {
		t.Errorf("printed:\n%s\nwant a line %q", out.String(), want)
	}
	if c.Live() != live || c.Status().Rules["orders"] != 1 || c.Status().Reloads != 0 {
		t.Errorf("the running rules changed after a refused reload: %v", c.Status().Rules)
	}

	copyRules(t, "candidate", dir) // version 2, loads cleanly
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st.Rules["orders"] != 2 || st.Reloads != 1 {
		t.Errorf("after a good reload: rules %v, reloads %d", st.Rules, st.Reloads)
	}
	if len(told) != 2 || told[0] == nil || told[1] != nil {
		t.Errorf("OnReload told %v", told)
	}
}

func TestRunReloadsOnSignalAndOnChangedFiles(t *testing.T) {
	dir := rulesDir(t, "live")
	c, _ := controllerOn(t, dir)
	out := &syncbuf.Buffer{}
	r := release.NewReloader(c, loaderOf(dir), dir)
	r.Out = out
	sig := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx, sig, 20*time.Millisecond)
	}()
	defer func() { cancel(); <-done }()

	copyRules(t, "candidate", dir)
	waitFor(t, func() bool { return c.Status().Rules["orders"] == 2 })

	copyRules(t, "broken", dir)
	waitFor(t, func() bool { return strings.Contains(out.String(), "lowercse") })
	if c.Status().Rules["orders"] != 2 {
		t.Fatal("a broken file replaced the running rules")
	}

	copyRules(t, "reject-all", dir) // version 3
	// Wait for the watcher to take it, then check a signal reloads too.
	waitFor(t, func() bool { return c.Status().Rules["orders"] == 3 }, out.String)
	reloads := c.Status().Reloads
	sig <- os.Interrupt
	waitFor(t, func() bool { return c.Status().Reloads == reloads+1 })
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/registry"
)

// connectRegistry returns a client of the registry the flags name (nil
// when --schema-registry is not given), once the registry has answered;
// it keeps asking for at most timeout (--connect-timeout), then fails. A
// timeout of 0 asks once.
func connectRegistry(ctx context.Context, f *registry.Flags, timeout time.Duration) (*registry.Client, error) {
	if !f.Enabled() {
		return nil, nil
	}
	cfg, problems := f.Config()
	if len(problems) > 0 {
		return nil, errors.New(problems[0])
	}
	cl, err := registry.New(cfg)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		if err := cl.Ping(ctx); err != nil {
			return nil, err
		}
		return cl, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wait := 100 * time.Millisecond
	for {
		err := cl.Ping(ctx)
		if err == nil {
			return cl, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (gave up after %s, --connect-timeout)", err, timeout)
		case <-time.After(wait):
			wait = min(2*wait, 2*time.Second)
		}
	}
}

// registryGate returns the gate of a worker's rule sets: it registers
// their output schemas (the candidate's too when its records are written)
// and logs each binding, or refuses them with the registry's answer.
func registryGate(ctx context.Context, cl *registry.Client, topic string, writeCandidate bool, logger *slog.Logger) func(live, cand *mapper.Engine) error {
	return func(live, cand *mapper.Engine) error {
		bs, err := cl.Prepare(ctx, registry.Set{Topic: topic, Live: live, Candidate: cand, WriteCandidate: writeCandidate})
		if err != nil {
			return err
		}
		for _, b := range bs {
			if b.SchemaID == 0 {
				logger.Info("schema compatible (shadow candidate, not registered)", "source", b.Source, "subject", b.Subject, "schema", b.Schema)
				continue
			}
			logger.Info("schema registered", "source", b.Source, "candidate", b.Candidate, "subject", b.Subject,
				"version", b.Version, "schema_id", b.SchemaID, "new_version", b.New)
		}
		return nil
	}
}

// gateOnRegistry asks the registry the flags name whether each output
// schema of eng is registered under its subject (derived from topic) or
// compatible with the subject's latest version, registering nothing: one
// "ok" line per source on ok, one line per refused schema quoting the
// registry on e's stderr. It returns exitOK when every schema may be
// written; exitFailure when one is refused (refused is true) or the
// registry does not answer within timeout; exitUsage for bad registry
// flags.
func gateOnRegistry(ctx context.Context, e *env, cmd string, f *registry.Flags, topic string, timeout time.Duration, eng *mapper.Engine, ok io.Writer) (code int, refused bool) {
	if _, ps := f.Config(); len(ps) > 0 {
		return reportProblems(e, cmd, ps), false
	}
	if topic == "" {
		return reportProblems(e, cmd, []string{"--schema-registry needs --output-topic (or MAPPER_OUTPUT_TOPIC): the subjects derive from it"}), false
	}
	cl, err := connectRegistry(ctx, f, timeout)
	if err != nil {
		fmt.Fprintf(e.stderr, "mapper %s: %v\n", cmd, err)
		return exitFailure, false
	}
	bs, err := cl.Check(ctx, registry.Set{Topic: topic, Live: eng})
	var ps registry.Problems
	if err != nil && !errors.As(err, &ps) {
		fmt.Fprintf(e.stderr, "mapper %s: %v\n", cmd, err)
		return exitFailure, false
	}
	bad := map[string]bool{}
	for _, p := range ps {
		bad[p.Source] = true
	}
	for _, b := range bs {
		switch {
		case bad[b.Source]:
		case b.SchemaID != 0:
			fmt.Fprintf(ok, "ok  %s  subject %s  version %d  schema id %d  (registered)\n", b.Source, b.Subject, b.Version, b.SchemaID)
		default:
			fmt.Fprintf(ok, "ok  %s  subject %s  compatible: the next version, registered when the worker starts\n", b.Source, b.Subject)
		}
	}
	for _, p := range ps {
		fmt.Fprintf(e.stderr, "mapper %s: %v\n", cmd, p)
	}
	if len(ps) > 0 {
		return exitFailure, true
	}
	return exitOK, false
}

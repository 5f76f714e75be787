package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mapperhq/mapper/mapper/dashboard"
)

func dashboardCommand() command {
	return command{
		name:  "dashboard",
		usage: "dashboard [--out DIR] [--title T] [--monitor-env ENV] [--notify HANDLES]",
		short: "generate the Datadog dashboard, monitor and SLO JSON from the rules",
		long: `Generate a Datadog dashboard (Dashboards API v1, ordered layout, formula
queries) with a group per source — records by outcome, mapped ratio against the
rule's objective, top failure reasons and fields, dead-letter rate, consumer lag —
metric-alert monitors for each source's objective and for the rate of new
failure categories, and per source with an objective a metric-based SLO (SLO
API v1: good = mapped + degraded records, total = all records, target = the
objective, over 7 and 30 days), whose status and error budget left the
dashboard shows.

Without --out, one JSON document {"dashboard": {…}, "monitors": [{…}], "slos": [{…}]}
is printed. With --out DIR, DIR/dashboard.json, one DIR/monitor-*.json per
monitor and one DIR/slo-*.json per SLO are written (each the body of one API
call) and their paths printed.
Exit status: 0 on success, 1 when the rules cannot be loaded or a file not
written, 2 on a usage error.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdDashboard{
				env:        e,
				dirs:       declareRuleDirs(fs, e),
				out:        stringFlag(fs, e, "out", "", "directory to write dashboard.json and monitor-*.json to (default: print to stdout)"),
				title:      stringFlag(fs, e, "title", "mapper", "dashboard title"),
				monitorEnv: stringFlag(fs, e, "monitor-env", "", "restrict monitors to env:ENV (default: every env)"),
				notify:     stringFlag(fs, e, "notify", "", "notification handles appended to monitor messages, e.g. \"@slack-data-alerts\""),
				newCats:    intFlag(fs, e, "new-categories-per-hour", 5, "new failure categories per source and hour that trigger the monitor"),
			}
		},
	}
}

// cmdDashboard is one invocation of `mapper dashboard`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdDashboard struct {
	*env
	dirs       ruleDirs
	out        *string
	title      *string
	monitorEnv *string
	notify     *string
	newCats    *int
}

func (c *cmdDashboard) run(ctx context.Context, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(c.stderr, "mapper dashboard: unexpected argument %q\n", args[0])
		return exitUsage
	}
	if *c.newCats < 1 {
		fmt.Fprintf(c.stderr, "mapper dashboard: --new-categories-per-hour is %d; want 1 or more\n", *c.newCats)
		return exitUsage
	}
	eng, err := c.dirs.load()
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper dashboard: %v\n", err)
		return exitFailure
	}
	set := dashboard.Build(eng.Sources(), dashboard.Options{
		Title: *c.title, Env: *c.monitorEnv, Notify: *c.notify, NewCategoriesPerHour: *c.newCats,
	})
	if *c.out == "" {
		b, err := set.JSON()
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper dashboard: %v\n", err)
			return exitFailure
		}
		if _, err := c.stdout.Write(b); err != nil {
			fmt.Fprintf(c.stderr, "mapper dashboard: write: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	files, err := set.Files()
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper dashboard: %v\n", err)
		return exitFailure
	}
	if err := os.MkdirAll(*c.out, 0o755); err != nil {
		fmt.Fprintf(c.stderr, "mapper dashboard: %v\n", err)
		return exitFailure
	}
	for _, f := range files {
		path := filepath.Join(*c.out, f.Name)
		if err := writeFileAtomic(path, f.Data); err != nil {
			fmt.Fprintf(c.stderr, "mapper dashboard: %v\n", err)
			return exitFailure
		}
		fmt.Fprintln(c.stdout, path)
	}
	return exitOK
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it into place (mode 0644), so a reader never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
)

func checkCommand() command {
	return command{
		name:  "check",
		usage: "check [--rules DIR] [--schemas DIR]",
		short: "validate rules/ and schemas/; list every problem with file:line:col",
		long: `Load every rule file and schema the way the worker does at start-up, and
report every problem found, one per line as file:line:col: what is wrong.
Exit status 0 when everything loads, 1 when anything is wrong.`,
		setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) int {
			dirs := declareRuleDirs(fs, e)
			return func(_ context.Context, args []string) int {
				if len(args) > 0 {
					fmt.Fprintf(e.stderr, "mapper check: unexpected argument %q\n", args[0])
					return exitUsage
				}
				eng, err := dirs.load()
				if err != nil {
					printLoadError(e.stderr, "mapper check", err)
					return exitFailure
				}
				for _, w := range eng.Warnings() {
					fmt.Fprintln(e.stderr, w.String())
				}
				for _, s := range eng.Sources() {
					accept := ""
					if a := s.Accept(); len(a) > 0 {
						accept = "  accept " + strings.Join(a, " and ")
					}
					fmt.Fprintf(e.stdout, "ok  %s  version %d  topics %s%s  (%s)\n", s.Name(), s.Version(),
						strings.Join(s.Topics(), ","), accept, s.File())
				}
				return exitOK
			}
		},
	}
}

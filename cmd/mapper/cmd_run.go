package main

import (
	"context"
	"flag"
	"fmt"
)

func runCommand() command {
	return command{
		name:  "run",
		usage: "run",
		short: "(not built yet)",
		setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) int {
			return func(context.Context, []string) int {
				fmt.Fprintln(e.stderr, "mapper run: not built yet")
				return exitFailure
			}
		},
	}
}

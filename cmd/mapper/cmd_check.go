package main

import (
	"context"
	"flag"
	"fmt"
)

func checkCommand() command {
	return command{
		name:  "check",
		usage: "check",
		short: "(not built yet)",
		setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) int {
			return func(context.Context, []string) int {
				fmt.Fprintln(e.stderr, "mapper check: not built yet")
				return exitFailure
			}
		},
	}
}

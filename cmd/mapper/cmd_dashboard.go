package main

import (
	"context"
	"flag"
	"fmt"
)

func dashboardCommand() command {
	return command{
		name:  "dashboard",
		usage: "dashboard",
		short: "(not built yet)",
		setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) int {
			return func(context.Context, []string) int {
				fmt.Fprintln(e.stderr, "mapper dashboard: not built yet")
				return exitFailure
			}
		},
	}
}

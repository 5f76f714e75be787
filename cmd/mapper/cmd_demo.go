package main

import (
	"context"
	"flag"
	"fmt"
)

func demoCommand() command {
	return command{
		name:  "demo",
		usage: "demo",
		short: "(not built yet)",
		setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) int {
			return func(context.Context, []string) int {
				fmt.Fprintln(e.stderr, "mapper demo: not built yet")
				return exitFailure
			}
		},
	}
}

package main

import (
	"context"
	"flag"
	"fmt"
)

func samplesCommand() command {
	return command{
		name:  "samples",
		usage: "samples",
		short: "(not built yet)",
		setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) int {
			return func(context.Context, []string) int {
				fmt.Fprintln(e.stderr, "mapper samples: not built yet")
				return exitFailure
			}
		},
	}
}

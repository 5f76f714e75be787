package main

import (
	"context"
	"flag"
	"fmt"
)

func replayCommand() command {
	return command{
		name:  "replay",
		usage: "replay",
		short: "(not built yet)",
		setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) int {
			return func(context.Context, []string) int {
				fmt.Fprintln(e.stderr, "mapper replay: not built yet")
				return exitFailure
			}
		},
	}
}

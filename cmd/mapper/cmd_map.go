package main

import (
	"context"
	"flag"
	"fmt"
)

func mapCommand() command {
	return command{
		name:  "map",
		usage: "map",
		short: "(not built yet)",
		setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) int {
			return func(context.Context, []string) int {
				fmt.Fprintln(e.stderr, "mapper map: not built yet")
				return exitFailure
			}
		},
	}
}

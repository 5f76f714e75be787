package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mapperhq/mapper/internal/cli"
)

func completionCommand() command {
	return command{
		name:  "completion",
		usage: "completion bash|zsh",
		short: "print a shell completion script for the commands and their flags",
		long: `Completion prints a completion script for bash or zsh, generated from the
commands and their flags:

  source <(mapper completion bash)      # in ~/.bashrc
  mapper completion zsh > "${fpath[1]}/_mapper"   # then restart zsh`,
		new: func(fs *flag.FlagSet, e *env) runner { return &cmdCompletion{env: e} },
	}
}

// cmdCompletion is one invocation of `mapper completion`.
type cmdCompletion struct {
	*env
}

func (c *cmdCompletion) run(_ context.Context, args []string) int {
	write := map[string]func(io.Writer, string, []cli.Command) error{"bash": cli.WriteBash, "zsh": cli.WriteZsh}
	if len(args) != 1 || write[args[0]] == nil {
		return usageError(c.env, "completion", "want one shell: bash or zsh")
	}
	if err := write[args[0]](c.stdout, "mapper", completionTable()); err != nil {
		fmt.Fprintf(c.stderr, "mapper completion: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// completionTable is the command table as completion sees it: every
// command and subcommand with its flag set, and the words some take first.
func completionTable() []cli.Command {
	e := quietEnv()
	words := map[string][]string{"completion": {"bash", "zsh"}}
	for _, sub := range samplesSubcommands("samples") {
		words["samples"] = append(words["samples"], strings.TrimPrefix(sub.name, "samples "))
	}
	var out []cli.Command
	for _, c := range allCommands() {
		fs := newFlagSet(c, e)
		c.new(fs, e)
		out = append(out, cli.Command{Name: c.name, Short: c.short, Flags: fs, Words: words[c.name]})
	}
	help := cli.Command{Name: "help", Short: "show a command's usage and flags"}
	for _, c := range commands() {
		help.Words = append(help.Words, c.name)
	}
	return append(out, help)
}

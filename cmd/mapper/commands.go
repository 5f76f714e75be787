package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mapperhq/mapper/internal/cli"
	"github.com/mapperhq/mapper/internal/didyoumean"
	"github.com/mapperhq/mapper/mapper"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// env is what a command may touch of the outside world. Tests build one with
// buffers and a map for the environment.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// logJSON is set once a command's flags ask for --log-format json:
	// its configuration problems are then JSON log lines too.
	logJSON bool
}

// command is one entry of the command table: its name and help text, and
// new, which makes the command's value for one invocation.
type command struct {
	name  string
	usage string // e.g. "map --source NAME [FILE]"
	short string
	long  string
	// new declares the command's flags on fs and returns the command bound
	// to them (one struct per command: its *env and its flags), which
	// runs once fs holds the command line, the MAPPER_* variables and the
	// --config file (see internal/cli).
	new func(fs *flag.FlagSet, e *env) runner
}

// runner is one invocation of a command, its flags parsed.
type runner interface {
	// run runs the command on the arguments left after the flags and
	// returns the exit code: exitOK, exitFailure or exitUsage.
	run(ctx context.Context, args []string) int
}

func commands() []command {
	return []command{
		runCommand(),
		demoCommand(),
		mapCommand(),
		checkCommand(),
		ruleTestCommand(),
		schemaCommand(),
		samplesCommand(),
		replayCommand(),
		suggestCommand(),
		driftCommand(),
		inferCommand(),
		dashboardCommand(),
		tapCommand(),
		versionCommand(),
		completionCommand(),
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	cmds := commands()
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = []string{"version"}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			for _, c := range cmds {
				if c.name == args[1] {
					return runCommandArgs(ctx, c, e, []string{"--help"})
				}
			}
		}
		printUsage(stderr, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range cmds {
		if c.name == args[0] {
			return runCommandArgs(ctx, c, e, args[1:])
		}
	}
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if c := didyoumean.Closest(args[0], names); c != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", c)
	}
	e.logJSON = cli.Lookahead(args, getenv, "log-format") == "json"
	return usageError(e, "", msg)
}

// runCommandArgs fills the command's flag set from args, the environment
// and the --config file, then runs it. Mistakes are one line and a pointer
// to --help; --help prints the command's usage and flags.
func runCommandArgs(ctx context.Context, c command, e *env, args []string) int {
	fs := newFlagSet(c, e)
	r := c.new(fs, e)
	rest, err := cli.Parse(fs, args, e.getenv, knownFlag)
	e.logJSON = logFormat(fs, args, e.getenv) == "json"
	var ue *cli.UsageError
	var pe *cli.ProblemsError
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return exitOK
	case errors.As(err, &ue):
		return usageError(e, c.name, ue.Msg)
	case errors.As(err, &pe):
		return reportProblems(e, c.name, pe.Problems)
	case err != nil:
		return reportProblems(e, c.name, []string{err.Error()})
	}
	return r.run(ctx, rest)
}

// newFlagSet is the command's flag set, with --config and the usage that
// --help prints.
func newFlagSet(c command, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("mapper "+c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.String(cli.ConfigFlag, "", "YAML file of flag values by flag name; the environment and the command line override it")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: mapper %s\n\n%s\n\nflags:\n", c.usage, strings.TrimSpace(c.long))
		cli.PrintFlags(e.stderr, fs)
	}
	return fs
}

// logFormat is the --log-format the command was given, when it has one:
// parsed, or looked for in args and the environment when parsing failed.
func logFormat(fs *flag.FlagSet, args []string, getenv func(string) string) string {
	f := fs.Lookup("log-format")
	if f == nil {
		return ""
	}
	if v := cli.Lookahead(args, getenv, "log-format"); v != "" {
		return v
	}
	return f.Value.String()
}

// knownFlag reports whether name is a flag of any command: a --config file
// serves them all.
func knownFlag(name string) bool {
	e := quietEnv()
	for _, c := range allCommands() {
		fs := newFlagSet(c, e)
		c.new(fs, e)
		if fs.Lookup(name) != nil {
			return true
		}
	}
	return false
}

// quietEnv is an environment that reads and writes nothing: the one the
// flag sets are declared with to learn their flags.
func quietEnv() *env {
	return &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
}

// allCommands are the commands of the table and their subcommands.
func allCommands() []command {
	return append(commands(), samplesSubcommands("samples")...)
}

// usageError prints a command-line mistake as one line and the pointer to
// --help, and returns the usage exit code.
func usageError(e *env, cmd, msg string) int {
	prog, help := "mapper", "mapper --help"
	if cmd != "" {
		prog, help = "mapper "+cmd, "mapper "+cmd+" --help"
	}
	if e.logJSON {
		errorLogger(e).Error(msg, "command", prog, "help", help)
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "%s: %s\nRun '%s' for usage.\n", prog, msg, help)
	return exitUsage
}

func printUsage(w io.Writer, cmds []command) {
	fmt.Fprintf(w, "mapper maps third-party payloads into domain shapes and explains every record it cannot map.\n\nusage: mapper <command> [flags]\n\ncommands:\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range cmds {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.short)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun 'mapper <command> --help' for a command's flags. Every flag also reads MAPPER_<FLAG> from the\nenvironment and its name from a YAML --config file; the command line wins, then the environment.\n")
}

// The flag helpers below declare a flag on fs; like every flag it also
// reads its MAPPER_* variable and its key of the --config file (see
// internal/cli).

// stringFlag declares a string flag.
func stringFlag(fs *flag.FlagSet, _ *env, name, def, usage string) *string {
	return fs.String(name, def, usage)
}

// intFlag declares an integer flag; a value that is not a whole number is
// a configuration error (exit 2) before the command runs.
func intFlag(fs *flag.FlagSet, _ *env, name string, def int, usage string) *int {
	return fs.Int(name, def, usage)
}

// boolFlag declares a boolean flag.
func boolFlag(fs *flag.FlagSet, _ *env, name string, def bool, usage string) *bool {
	return fs.Bool(name, def, usage)
}

// durationFlag declares a duration flag ("90s", "1h").
func durationFlag(fs *flag.FlagSet, _ *env, name string, def time.Duration, usage string) *time.Duration {
	return fs.Duration(name, def, usage)
}

// ruleDirs declares the common --rules and --schemas flags, and the
// engine's payload guards, for every command that loads rules.
type ruleDirs struct {
	rules, schemas     *string
	maxBytes, maxDepth *int
	maxRuleFile        *int
}

func declareRuleDirs(fs *flag.FlagSet, e *env) ruleDirs {
	return ruleDirs{
		rules:    stringFlag(fs, e, "rules", "rules", "directory of rule files (*.yaml)"),
		schemas:  stringFlag(fs, e, "schemas", "schemas", "directory of JSON Schemas"),
		maxBytes: intFlag(fs, e, "max-payload-bytes", 1<<20, "largest payload accepted; larger ones are malformed_payload"),
		maxDepth: intFlag(fs, e, "max-depth", 64, "deepest nesting of objects and arrays accepted"),
		maxRuleFile: intFlag(fs, e, "max-rule-file-bytes", 4<<20,
			"largest rule or schema file loaded; a larger one is refused before it is read"),
	}
}

// options are the engine options the flags give.
func (d ruleDirs) options() mapper.Options {
	return mapper.Options{MaxPayloadBytes: *d.maxBytes, MaxDepth: *d.maxDepth, MaxRuleFileBytes: *d.maxRuleFile}
}

// load loads the rules and schemas the flags name.
func (d ruleDirs) load() (*mapper.Engine, error) {
	return mapper.Load(*d.rules, *d.schemas, d.options())
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// flagGiven reports whether the flag name was set: on the command line, by
// its MAPPER_* variable or by the --config file.
func flagGiven(fs *flag.FlagSet, name string) bool {
	var given bool
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

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
	// envFlags are, per flag set, the flags that also read their MAPPER_*
	// variable (declared with stringFlag, intFlag, boolFlag…).
	envFlags map[*flag.FlagSet]map[string]bool
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
	// runs once fs has parsed the arguments and the MAPPER_* variables.
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
		samplesCommand(),
		replayCommand(),
		suggestCommand(),
		driftCommand(),
		inferCommand(),
		dashboardCommand(),
		tapCommand(),
		versionCommand(),
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
	fmt.Fprintf(stderr, "mapper: unknown command %q\n\n", args[0])
	printUsage(stderr, cmds)
	return exitUsage
}

func runCommandArgs(ctx context.Context, c command, e *env, args []string) int {
	fs := flag.NewFlagSet("mapper "+c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: mapper %s\n\n%s\n", c.usage, strings.TrimSpace(c.long))
		var n int
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(e.stderr, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	r := c.new(fs, e)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if problems := applyEnv(fs, e); len(problems) > 0 {
		return reportProblems(e, c.name, problems)
	}
	return r.run(ctx, fs.Args())
}

// applyEnv sets every flag of fs that reads its MAPPER_* variable and was
// not given on the command line from that variable, with the flag's own
// parser. It returns one problem per variable that does not parse.
func applyEnv(fs *flag.FlagSet, e *env) []string {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var problems []string
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || !e.envFlags[fs][f.Name] {
			return
		}
		name := envName(f.Name)
		v := e.getenv(name)
		if v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q: %s", name, v, expected(f)))
		}
	})
	return problems
}

// expected says what a flag's value must look like.
func expected(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "not a valid value"
	}
	switch g.Get().(type) {
	case int, int64, uint, uint64:
		return "not a whole number"
	case bool:
		return "not a boolean (true or false)"
	case time.Duration:
		return "not a duration (like 30s or 1h)"
	case float64:
		return "not a number"
	}
	return "not a valid value"
}

// envFlag records that the flag name of fs reads its MAPPER_* variable
// and returns the usage text that says so.
func envFlag(fs *flag.FlagSet, e *env, name, usage string) string {
	if e.envFlags == nil {
		e.envFlags = map[*flag.FlagSet]map[string]bool{}
	}
	if e.envFlags[fs] == nil {
		e.envFlags[fs] = map[string]bool{}
	}
	e.envFlags[fs][name] = true
	return usage + " (env " + envName(name) + ")"
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	var given bool
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func printUsage(w io.Writer, cmds []command) {
	fmt.Fprintf(w, "mapper maps third-party payloads into domain shapes and explains every record it cannot map.\n\nusage: mapper <command> [flags]\n\ncommands:\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range cmds {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.short)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun 'mapper <command> --help' for a command's flags. Every flag also reads MAPPER_<FLAG> from the environment.\n")
}

// envName is the environment variable behind a flag: rules → MAPPER_RULES,
// output-topic → MAPPER_OUTPUT_TOPIC.
func envName(flagName string) string {
	return "MAPPER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// stringFlag declares a string flag that also reads its MAPPER_* variable
// when not given on the command line.
func stringFlag(fs *flag.FlagSet, e *env, name, def, usage string) *string {
	return fs.String(name, def, envFlag(fs, e, name, usage))
}

// intFlag is stringFlag for integers; a variable that is not a whole
// number is a configuration error (exit 2) before the command runs.
func intFlag(fs *flag.FlagSet, e *env, name string, def int, usage string) *int {
	return fs.Int(name, def, envFlag(fs, e, name, usage))
}

// boolFlag is stringFlag for booleans.
func boolFlag(fs *flag.FlagSet, e *env, name string, def bool, usage string) *bool {
	return fs.Bool(name, def, envFlag(fs, e, name, usage))
}

// durationFlag is stringFlag for durations ("90s", "1h").
func durationFlag(fs *flag.FlagSet, e *env, name string, def time.Duration, usage string) *time.Duration {
	return fs.Duration(name, def, envFlag(fs, e, name, usage))
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

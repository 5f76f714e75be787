// Package cli is the flag, environment and configuration-file layer of the
// mapper command. Every command keeps its own flag.FlagSet; Parse fills it
// from the command line, then from MAPPER_* environment variables, then
// from a YAML file named by --config, each source overriding the next (the
// layering of github.com/peterbourgon/ff). The same flag sets give the help
// text (PrintFlags), the one-line errors with a suggestion, and the shell
// completion scripts (WriteBash, WriteZsh).
//
// A flag never shows a secret: defaults are the declared ones (never taken
// from the environment), and values of secret flags (Secret) are never
// echoed in a problem.
//
// The package keeps no state; its functions are safe for concurrent use on
// distinct flag sets.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mapperhq/mapper/internal/didyoumean"
)

// ConfigFlag is the name of the flag that names the configuration file.
const ConfigFlag = "config"

// EnvName is the environment variable behind a flag: rules → MAPPER_RULES,
// output-topic → MAPPER_OUTPUT_TOPIC.
func EnvName(flagName string) string {
	return "MAPPER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Secret reports whether a flag holds a secret whose value must never be
// printed: a password, token, secret or DSN.
func Secret(flagName string) bool {
	for _, s := range []string{"password", "secret", "token", "dsn"} {
		if strings.Contains(flagName, s) {
			return true
		}
	}
	return false
}

// UsageError is a mistake on the command line: an unknown flag, a value
// that does not parse, a missing value. Its message is one line, with a
// suggestion when a flag of the command is close to the unknown one.
type UsageError struct {
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

// ProblemsError lists every value of the environment and the configuration
// file that cannot be used, one line each (the file's with file:line:col).
type ProblemsError struct {
	Problems []string
}

func (e *ProblemsError) Error() string { return strings.Join(e.Problems, "; ") }

// Parse fills fs from args, then each flag not given there from its
// MAPPER_* variable read through getenv, then each flag still unset from
// the YAML file named by the --config flag, when fs declares one and it is
// not empty. It returns the arguments left after the flags.
//
// known reports whether a configuration key is a flag of any command: a key
// that no command has is a problem, one of another command is ignored, so
// that one file can serve every command. A nil known accepts only the
// flags of fs.
//
// Errors: flag.ErrHelp for -h or --help (nothing printed: the caller prints
// the help), *UsageError for the command line, *ProblemsError for the
// environment and the file (every problem of both).
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string, known func(string) bool) ([]string, error) {
	// The flag package prints its error and the usage on a mistake; the
	// caller prints one line instead.
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &UsageError{Msg: commandLineError(fs, err)}
	}
	rest := fs.Args()
	problems := applyEnv(fs, getenv)
	if f := fs.Lookup(ConfigFlag); f != nil && f.Value.String() != "" {
		if known == nil {
			known = func(name string) bool { return fs.Lookup(name) != nil }
		}
		problems = append(problems, applyConfig(fs, f.Value.String(), known)...)
	}
	if len(problems) > 0 {
		return nil, &ProblemsError{Problems: problems}
	}
	return rest, nil
}

// applyEnv sets every flag of fs that was not given on the command line
// from its MAPPER_* variable, with the flag's own parser. It returns one
// problem per variable that does not parse.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) []string {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var problems []string
	fs.VisitAll(func(f *flag.Flag) {
		name := EnvName(f.Name)
		v := getenv(name)
		if given[f.Name] || v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			problems = append(problems, fmt.Sprintf("%s=%s: %s", name, shown(f.Name, v), expected(f, err)))
		}
	})
	return problems
}

// commandLineError turns an error of flag.FlagSet.Parse into one line that
// names flags as they are written (--name) and suggests the closest flag
// for an unknown one.
func commandLineError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		line := "unknown flag --" + name
		if c := didyoumean.Closest(name, Names(fs)); c != "" {
			line += " (did you mean --" + c + "?)"
		}
		return line
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return "--" + strings.TrimLeft(name, "-") + " needs a value"
	}
	// invalid value "x" for flag -name: …; invalid boolean value "x" for -name: …
	if m := invalidValue.FindStringSubmatch(msg); m != nil {
		if f := fs.Lookup(m[2]); f != nil {
			value, uerr := strconv.Unquote(m[1])
			if uerr != nil {
				value = m[1]
			}
			return fmt.Sprintf("--%s %s: %s", f.Name, shown(f.Name, value), expected(f, errors.New(m[3])))
		}
	}
	return msg
}

// invalidValue matches the flag package's error for a value that does not
// parse: the quoted value, the flag's name and the parser's error.
var invalidValue = regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-([^:]+): (.*)$`)

// shown is a value as a problem may print it: quoted, or hidden for a
// secret flag.
func shown(flagName, v string) string {
	if Secret(flagName) {
		return "(hidden)"
	}
	return fmt.Sprintf("%q", v)
}

// expected says what a flag's value must look like; err is the flag's own
// error for values of other kinds.
func expected(f *flag.Flag, err error) string {
	if g, ok := f.Value.(flag.Getter); ok {
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
	}
	if err != nil {
		return err.Error()
	}
	return "not a valid value"
}

// Names returns the names of the flags of fs, in lexical order.
func Names(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// Lookahead returns the value the flag name would take from args or from
// its environment variable, without parsing: the last --name=V or --name V
// of args, else the variable, else "". It serves to learn the wanted
// --log-format when parsing failed.
func Lookahead(args []string, getenv func(string) string, name string) string {
	v := ""
	for i, a := range args {
		if a == "--" {
			break
		}
		flagName, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || flagName != name {
			continue
		}
		switch {
		case hasValue:
			v = value
		case i+1 < len(args):
			v = args[i+1]
		}
	}
	if v == "" {
		v = getenv(EnvName(name))
	}
	return v
}

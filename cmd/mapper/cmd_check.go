package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/registry"
	"github.com/mapperhq/mapper/mapper/ruletest"
)

// onlyMissingPayloads reports whether every problem of a test file's load
// error is a payload file that is not where the test file is.
func onlyMissingPayloads(err error) bool {
	var le *mapper.LoadError
	if !errors.As(err, &le) || len(le.Problems) == 0 {
		return false
	}
	for _, p := range le.Problems {
		if !ruletest.MissingPayloadFile(p) {
			return false
		}
	}
	return true
}

func checkCommand() command {
	return command{
		name:  "check",
		usage: "check [--rules DIR] [--schemas DIR] [--schema-registry URL --output-topic T]",
		short: "validate rules/ and schemas/; list every problem with file:line:col",
		long: `Load every rule file and schema the way the worker does at start-up, and
report every problem found, one per line as file:line:col: what is wrong.
Exit status 0 when everything loads, 1 when anything is wrong.

With --schema-registry, each source's output schema is also checked against
the registry: one not yet registered under its subject (derived from
--output-topic by --subject-strategy) must be compatible with the subject's
latest version under the subject's compatibility level. Each incompatible
schema is one line quoting the registry's answer, and the exit status is 1.
Check registers nothing.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdCheck{
				env:     e,
				dirs:    declareRuleDirs(fs, e),
				reg:     registry.Register(fs),
				output:  stringFlag(fs, e, "output-topic", "", "output topic the worker writes (with --schema-registry: the subjects derive from it)"),
				timeout: durationFlag(fs, e, "connect-timeout", 10*time.Second, "how long to keep trying a registry that does not answer"),
			}
		},
	}
}

// cmdCheck is one invocation of `mapper check`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdCheck struct {
	*env
	dirs    ruleDirs
	reg     *registry.Flags
	output  *string
	timeout *time.Duration
}

func (c *cmdCheck) run(ctx context.Context, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(c.stderr, "mapper check: unexpected argument %q\n", args[0])
		return exitUsage
	}
	eng, err := c.dirs.load()
	if err != nil {
		printLoadError(c.stderr, "mapper check", err)
		return exitFailure
	}
	for _, w := range eng.Warnings() {
		fmt.Fprintln(c.stderr, w.String())
	}
	// Rule tests are part of the rules: a test file that cannot be read
	// fails the check as a rule file would.
	tests, err := ruletest.Find(*c.dirs.rules)
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper check: %v\n", err)
		return exitFailure
	}
	broken := 0
	for _, f := range tests {
		if _, err := ruletest.ParseFile(f); err != nil {
			if !onlyMissingPayloads(err) {
				printLoadError(c.stderr, "mapper check", err)
				broken++
				continue
			}
			// The file is well formed; its payloads live elsewhere (a
			// copy of the rules directory): mapper test says which.
			fmt.Fprintf(c.stderr, "%s: warning: payload files not found beside the test file; mapper test cannot run its cases from here\n", f)
		}
	}
	if broken > 0 {
		fmt.Fprintf(c.stderr, "mapper check: %d of %d rule test file(s) cannot be read\n", broken, len(tests))
		return exitFailure
	}
	for _, s := range eng.Sources() {
		accept := ""
		if a := s.Accept(); len(a) > 0 {
			accept = "  accept " + strings.Join(a, " and ")
		}
		fmt.Fprintf(c.stdout, "ok  %s  version %d  topics %s%s  (%s)\n", s.Name(), s.Version(),
			strings.Join(s.Topics(), ","), accept, s.File())
	}
	for _, f := range tests {
		fmt.Fprintf(c.stdout, "ok  rule tests  (%s)\n", f)
	}
	if c.reg.Enabled() {
		return c.checkRegistry(ctx, eng)
	}
	return exitOK
}

// checkRegistry asks the registry whether each output schema is
// registered or compatible, one line per source.
func (c *cmdCheck) checkRegistry(ctx context.Context, eng *mapper.Engine) int {
	code, _ := gateOnRegistry(ctx, c.env, "check", c.reg, *c.output, *c.timeout, eng, c.stdout)
	return code
}

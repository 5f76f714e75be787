package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/mapperhq/mapper/mapper/ruleschema"
)

func schemaCommand() command {
	return command{
		name:  "schema",
		usage: "schema rules|tests",
		short: "print the JSON Schema of rule files or of rule test files, for editors",
		long: `Print the JSON Schema of a file format of mapper: rules (rules/NAME.yaml) or
tests (rules/NAME.test.yaml). Editors with a YAML language server read it from
a file's first line:

  # yaml-language-server: $schema=../mapper/ruleschema/rules.schema.json

and then complete keys and flag mistakes as you type. mapper check stays the
authority: it also reads the rules against the schemas they name.`,
		new: func(fs *flag.FlagSet, e *env) runner { return &cmdSchema{env: e} },
	}
}

// cmdSchema is one invocation of `mapper schema`.
type cmdSchema struct {
	*env
}

func (c *cmdSchema) run(_ context.Context, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(c.stderr, "mapper schema: name one format: rules or tests")
		return exitUsage
	}
	switch args[0] {
	case "rules":
		c.stdout.Write(ruleschema.Rules())
	case "tests":
		c.stdout.Write(ruleschema.Tests())
	default:
		fmt.Fprintf(c.stderr, "mapper schema: unknown format %q (rules or tests)\n", args[0])
		return exitUsage
	}
	return exitOK
}

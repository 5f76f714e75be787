package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/peterbourgon/ff/v3"

	"github.com/mapperhq/mapper/internal/didyoumean"
	"github.com/mapperhq/mapper/internal/yamlnode"
)

// MaxConfigBytes bounds the configuration file: a larger one is refused
// after reading that many bytes.
const MaxConfigBytes = 1 << 20

// applyConfig sets the flags of set that are still unset (neither on the
// command line nor in the environment) from the YAML file at path, through
// ff, which keeps flags already set. It returns every problem of the file,
// each with file:line:col.
func applyConfig(set *flag.FlagSet, path string, known func(string) bool) []string {
	var problems []string
	parse := func(r io.Reader, setFlag func(name, value string) error) error {
		problems = parseConfig(set, path, r, known, setFlag)
		return nil
	}
	err := ff.Parse(set, nil,
		ff.WithConfigFile(path),
		ff.WithConfigFileParser(parse),
		// Keys of other commands' flags: known checks the others.
		ff.WithIgnoreUndefined(true))
	if err != nil {
		what := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			what = "no such file"
		}
		return append(problems, fmt.Sprintf("--%s %s: %s", ConfigFlag, path, what))
	}
	return problems
}

// parseConfig reads the file's top-level mapping of flag names to values
// and hands each value to setFlag: a scalar as written, a list of scalars
// joined with commas (--topics a,b), null as no value.
func parseConfig(set *flag.FlagSet, path string, r io.Reader, known func(string) bool, setFlag func(name, value string) error) []string {
	data, err := io.ReadAll(io.LimitReader(r, MaxConfigBytes+1))
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	if len(data) > MaxConfigBytes {
		return []string{fmt.Sprintf("%s: larger than %d bytes", path, MaxConfigBytes)}
	}
	var problems []string
	at := func(n ast.Node, format string, args ...any) {
		line, col := yamlnode.Pos(n)
		problems = append(problems, fmt.Sprintf("%s:%d:%d: ", path, line, col)+fmt.Sprintf(format, args...))
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var se *yaml.SyntaxError
		if errors.As(err, &se) && se.Token != nil && se.Token.Position != nil {
			return []string{fmt.Sprintf("%s:%d:%d: invalid YAML: %s", path, se.Token.Position.Line, se.Token.Position.Column, se.Message)}
		}
		return []string{fmt.Sprintf("%s: invalid YAML: %v", path, err)}
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil // an empty file sets nothing
	}
	if len(f.Docs) > 1 {
		return []string{fmt.Sprintf("%s: expected one YAML document, found %d", path, len(f.Docs))}
	}
	body := yamlnode.Unwrap(f.Docs[0].Body)
	var entries []*ast.MappingValueNode
	switch m := body.(type) {
	case *ast.MappingNode:
		entries = m.Values
	case *ast.MappingValueNode:
		entries = []*ast.MappingValueNode{m}
	default:
		at(body, "expected a mapping of flag names to values, got %s", yamlnode.Describe(body))
		return problems
	}
	// The parser refuses duplicate keys.
	for _, kv := range entries {
		key := yamlnode.Key(kv)
		switch {
		case key == ConfigFlag:
			at(kv.Key, "%s: a configuration file cannot name another", key)
			continue
		case !known(key):
			hint := ""
			if c := didyoumean.Closest(key, Names(set)); c != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", c)
			}
			at(kv.Key, "unknown key %q: not a flag of any command%s", key, hint)
			continue
		}
		value, ok := configValue(kv.Value)
		if !ok {
			at(kv.Value, "%s: expected a value or a list of values, got %s", key, yamlnode.Describe(yamlnode.Unwrap(kv.Value)))
			continue
		}
		if value == nil {
			continue
		}
		if err := setFlag(key, *value); err != nil {
			// Only keys of this command reach the flag's parser.
			at(kv.Value, "%s %s: %s", key, shown(key, *value), expected(set.Lookup(key), errors.Unwrap(err)))
		}
	}
	return problems
}

// configValue is the text a node gives its flag: nil for null.
func configValue(n ast.Node) (*string, bool) {
	n = yamlnode.Unwrap(n)
	switch v := n.(type) {
	case *ast.NullNode:
		return nil, true
	case *ast.StringNode:
		return &v.Value, true
	case *ast.LiteralNode:
		s := v.Value.Value
		return &s, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		s := yamlnode.Text(v)
		return &s, true
	case *ast.SequenceNode:
		parts := make([]string, 0, len(v.Values))
		for _, item := range v.Values {
			p, ok := configValue(item)
			if !ok || p == nil {
				return nil, false
			}
			if _, isList := yamlnode.Unwrap(item).(*ast.SequenceNode); isList {
				return nil, false
			}
			parts = append(parts, *p)
		}
		s := strings.Join(parts, ",")
		return &s, true
	}
	return nil, false
}

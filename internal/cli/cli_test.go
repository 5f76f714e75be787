package cli

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type testFlags struct {
	fs       *flag.FlagSet
	brokers  *string
	batch    *int
	metrics  *bool
	password *string
}

func newTestFlags() *testFlags {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	f := &testFlags{fs: fs,
		brokers:  fs.String("brokers", "localhost:9092", "brokers"),
		batch:    fs.Int("batch-size", 500, "batch"),
		metrics:  fs.Bool("metrics", true, "metrics"),
		password: fs.String("sasl-password", "", "password"),
	}
	fs.String(ConfigFlag, "", "config file")
	return f
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mapper.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// otherCommands knows the flags of the test set and "group", a flag of
// another command.
func otherCommands(name string) bool {
	return name == "group" || name == "brokers" || name == "batch-size" || name == "metrics" || name == "sasl-password"
}

func TestConfigFile(t *testing.T) {
	t.Run("values, lists and null", func(t *testing.T) {
		p := writeConfig(t, "brokers: [a:1, b:2]\nbatch-size: 1000\nmetrics: false\nsasl-password: ~\ngroup: other-command\n")
		f := newTestFlags()
		rest, err := Parse(f.fs, []string{"--config", p, "file.json"}, func(string) string { return "" }, otherCommands)
		if err != nil {
			t.Fatal(err)
		}
		if *f.brokers != "a:1,b:2" || *f.batch != 1000 || *f.metrics || *f.password != "" || len(rest) != 1 || rest[0] != "file.json" {
			t.Errorf("got brokers %q batch %d metrics %v password %q rest %q", *f.brokers, *f.batch, *f.metrics, *f.password, rest)
		}
	})
	t.Run("the command line, then the environment, then the file", func(t *testing.T) {
		p := writeConfig(t, "brokers: file:1\nbatch-size: 1000\nmetrics: false\n")
		env := map[string]string{"MAPPER_BROKERS": "env:1", "MAPPER_BATCH_SIZE": "2000", "MAPPER_CONFIG": p}
		f := newTestFlags()
		if _, err := Parse(f.fs, []string{"--brokers", "flag:1"}, func(k string) string { return env[k] }, otherCommands); err != nil {
			t.Fatal(err)
		}
		if *f.brokers != "flag:1" || *f.batch != 2000 || *f.metrics {
			t.Errorf("got brokers %q batch %d metrics %v; want flag:1, 2000 from the environment, false from the file", *f.brokers, *f.batch, *f.metrics)
		}
	})
	problems := []struct {
		name, text string
		want       []string
	}{
		{"every problem with its position", "brokrs: x\nbatch-size: many\nmetrics: {a: 1}\nsasl-password: [x, [y]]\n", []string{
			`:1:1: unknown key "brokrs": not a flag of any command (did you mean "brokers"?)`,
			`:2:13: batch-size "many": not a whole number`,
			`:3:10: metrics: expected a value or a list of values, got a mapping`,
			`:4:16: sasl-password: expected a value or a list of values, got a list`,
		}},
		{"a duplicate key", "batch-size: 1\nbatch-size: 2\n", []string{`:2:1: invalid YAML: mapping key "batch-size" already defined`}},
		{"a file naming another", "config: other.yaml\n", []string{`config: a configuration file cannot name another`}},
		{"not a mapping", "- a\n- b\n", []string{`:1:1: expected a mapping of flag names to values, got a list`}},
		{"invalid YAML", "brokers: [a\n", []string{"invalid YAML"}},
		{"a bad value is quoted with its flag", "metrics: perhaps\n", []string{`:1:10: metrics "perhaps": not a boolean`}},
	}
	for _, tt := range problems {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, tt.text)
			f := newTestFlags()
			_, err := Parse(f.fs, []string{"--config", p}, func(string) string { return "" }, otherCommands)
			var pe *ProblemsError
			if !errors.As(err, &pe) {
				t.Fatalf("err %v, want problems", err)
			}
			if len(pe.Problems) != len(tt.want) {
				t.Errorf("got %d problems %q, want %d", len(pe.Problems), pe.Problems, len(tt.want))
			}
			for _, w := range tt.want {
				found := false
				for _, got := range pe.Problems {
					found = found || (strings.HasPrefix(got, p) && strings.Contains(got, w))
				}
				if !found {
					t.Errorf("no problem says %q: %q", w, pe.Problems)
				}
			}
		})
	}
	t.Run("a secret flag's bad value is hidden", func(t *testing.T) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.Int("api-token", 0, "")
		_, err := Parse(fs, nil, func(k string) string { return map[string]string{"MAPPER_API_TOKEN": "s3cr3t-token"}[k] }, nil)
		if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "MAPPER_API_TOKEN=(hidden)") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("a missing file", func(t *testing.T) {
		f := newTestFlags()
		_, err := Parse(f.fs, []string{"--config", "/nonexistent/mapper.yaml"}, func(string) string { return "" }, nil)
		if err == nil || !strings.Contains(err.Error(), "--config /nonexistent/mapper.yaml: no such file") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("a file over the bound is refused", func(t *testing.T) {
		p := writeConfig(t, "# "+strings.Repeat("x", MaxConfigBytes)+"\n")
		f := newTestFlags()
		_, err := Parse(f.fs, []string{"--config", p}, func(string) string { return "" }, nil)
		if err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("err %v", err)
		}
	})
}

func TestLookahead(t *testing.T) {
	env := func(k string) string { return map[string]string{"MAPPER_LOG_FORMAT": "text"}[k] }
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--log-format", "json", "--brokr"}, "json"},
		{[]string{"-log-format=json"}, "json"},
		{[]string{"--brokr"}, "text"},
		{[]string{"--", "--log-format", "json"}, "text"},
	}
	for _, tt := range tests {
		if got := Lookahead(tt.args, env, "log-format"); got != tt.want {
			t.Errorf("Lookahead(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

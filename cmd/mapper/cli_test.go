package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/internal/cli"
)

// secretEnv sets every secret the command reads from the environment
// (the SASL password, the Sentry DSN, the Datadog API key) and points the
// TLS key and certificate variables at files whose contents are secret. It
// returns the environment and the values that must never be printed.
func secretEnv(t *testing.T) (map[string]string, []string) {
	t.Helper()
	dir := t.TempDir()
	key := "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcy1oZXJl\n-----END PRIVATE KEY-----\n"
	cert := "-----BEGIN CERTIFICATE-----\nc2VjcmV0LWNlcnQtYnl0ZXM=\n-----END CERTIFICATE-----\n"
	keyPath, certPath := filepath.Join(dir, "client.key"), filepath.Join(dir, "client.pem")
	for p, c := range map[string]string{keyPath: key, certPath: cert} {
		if err := os.WriteFile(p, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"MAPPER_SASL_PASSWORD": "hunter2-sasl-password",
		"MAPPER_SASL_USER":     "svc-mapper-user",
		"SENTRY_DSN":           "https://0123456789abcdefsentrykey@o1.ingest.sentry.io/42",
		"DD_API_KEY":           "dd-api-key-0123456789",
		"MAPPER_TLS_KEY":       keyPath,
		"MAPPER_TLS_CERT":      certPath,
		"MAPPER_TLS_CA":        certPath,
		// The Schema Registry's credentials and client certificate.
		"MAPPER_SCHEMA_REGISTRY":          "https://registry-user:hunter2-registry-url-password@registry.example:8081",
		"MAPPER_SCHEMA_REGISTRY_USER":     "svc-registry-user",
		"MAPPER_SCHEMA_REGISTRY_PASSWORD": "hunter2-registry-password",
		"MAPPER_SCHEMA_REGISTRY_TLS_KEY":  keyPath,
		"MAPPER_SCHEMA_REGISTRY_TLS_CERT": certPath,
	}
	secrets := []string{"hunter2-sasl-password", "0123456789abcdefsentrykey", "dd-api-key-0123456789",
		"c2VjcmV0LWtleS1ieXRlcy1oZXJl", "c2VjcmV0LWNlcnQtYnl0ZXM=",
		"hunter2-registry-url-password", "hunter2-registry-password"}
	return env, secrets
}

func TestHelpNeverShowsASecret(t *testing.T) {
	env, secrets := secretEnv(t)
	invocations := [][]string{{"--help"}, {"help", "run"}}
	for _, c := range allCommands() {
		invocations = append(invocations, append(strings.Fields(c.name), "--help"), append(strings.Fields(c.name), "-h"))
	}
	for _, args := range invocations {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runMapperCLI(t, env, args...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stdout+stderr, "usage: mapper") {
				t.Fatalf("no usage printed:\n%s", stderr)
			}
			for _, s := range secrets {
				if strings.Contains(stdout+stderr, s) {
					t.Errorf("the help shows the secret %q:\n%s", s, stdout+stderr)
				}
			}
		})
	}
}

func TestHelpNamesTheVariableOfEveryFlag(t *testing.T) {
	for _, c := range allCommands() {
		t.Run(c.name, func(t *testing.T) {
			_, _, stderr := runMapperCLI(t, nil, append(strings.Fields(c.name), "--help")...)
			fs := newFlagSet(c, telemetryEnv(nil))
			c.new(fs, telemetryEnv(nil))
			for _, name := range cli.Names(fs) {
				if !strings.Contains(stderr, "  --"+name) || !strings.Contains(stderr, "env MAPPER_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_"))+")") {
					t.Errorf("the help of %s does not show --%s with its variable:\n%s", c.name, name, stderr)
				}
			}
		})
	}
}

func TestConfigurationProblemsNeverShowASecret(t *testing.T) {
	env, secrets := secretEnv(t)
	cfg := filepath.Join(t.TempDir(), "mapper.yaml")
	if err := os.WriteFile(cfg, []byte("sasl-password: hunter2-sasl-password\nbatch-size: many\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"run", "--sasl-mechanism", "NOPE", "--output-topic", "o", "--dlq-topic", "d"},
		{"run", "--config", cfg, "--sasl-mechanism", "PLAIN"},
		{"tap", "--brokers", "bad broker", "--sasl-mechanism", "PLAIN"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runMapperCLI(t, env, args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			for _, s := range secrets {
				if strings.Contains(stdout+stderr, s) {
					t.Errorf("the problems show the secret %q:\n%s", s, stderr)
				}
			}
		})
	}
}

func TestCommandLineMistakesAreOneLineWithASuggestion(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a misspelt flag names the flag meant", []string{"run", "--brokr", "x"}, "unknown flag --brokr (did you mean --brokers?)"},
		{"a misspelt command names the command meant", []string{"rnu", "--brokers", "x"}, `unknown command "rnu" (did you mean "run"?)`},
		{"a misspelt subcommand flag", []string{"samples", "show", "--sorce", "x"}, "unknown flag --sorce (did you mean --source?)"},
		{"a value that is not a number", []string{"map", "--max-depth", "deep"}, `--max-depth "deep": not a whole number`},
		{"a flag without its value", []string{"check", "--rules"}, "--rules needs a value"},
		{"a flag far from every name", []string{"run", "--zzzzzz"}, "unknown flag --zzzzzz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMapperCLI(t, nil, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) > 3 {
				t.Errorf("%d lines, want at most 3:\n%s", len(lines), stderr)
			}
			if !strings.Contains(lines[0], tt.want) {
				t.Errorf("first line %q does not say %q", lines[0], tt.want)
			}
			if !strings.Contains(stderr, "--help") {
				t.Errorf("no pointer to --help:\n%s", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
		})
	}
}

func TestConfigurationProblemsFollowLogFormatJSON(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"flags the command checks", nil, []string{"run", "--log-format", "json", "--batch-size", "0", "--concurrency", "-1"},
			[]string{"--concurrency -1: must be 0 or more", "--batch-size 0: must be 1 or more"}},
		{"a variable that does not parse", map[string]string{"MAPPER_LOG_FORMAT": "json", "MAPPER_BATCH_SIZE": "many"}, []string{"demo"},
			[]string{`MAPPER_BATCH_SIZE="many": not a whole number`}},
		{"an unknown flag after --log-format json", nil, []string{"tap", "--log-format=json", "--topc", "t"},
			[]string{"unknown flag --topc (did you mean --topic?)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runMapperCLI(t, tt.env, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d:\n%s", code, exitUsage, stderr)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("not a JSON line: %q (%v)", line, err)
				}
				if rec["level"] != "ERROR" {
					t.Errorf("level %v, want ERROR: %s", rec["level"], line)
				}
				msg, _ := rec["problem"].(string)
				if msg == "" {
					msg, _ = rec["msg"].(string)
				}
				got = append(got, msg)
			}
			for _, w := range tt.want {
				found := false
				for _, g := range got {
					found = found || strings.Contains(g, w)
				}
				if !found {
					t.Errorf("no line says %q; got %q", w, got)
				}
			}
		})
	}
}

func TestConfigFileIsOverriddenByTheEnvironmentAndTheCommandLine(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "mapper.yaml")
	content := "# every flag by its name\nrules: testdata/broken-rules\nschemas: ../../schemas\nbrokers: [kafka-1:9092, kafka-2:9092]\n"
	if err := os.WriteFile(cfg, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
	}{
		{"the file's rules are used", nil, []string{"check", "--config", cfg}, exitFailure},
		{"MAPPER_CONFIG names the file", map[string]string{"MAPPER_CONFIG": cfg}, []string{"check"}, exitFailure},
		{"the environment overrides the file", map[string]string{"MAPPER_RULES": "../../rules"}, []string{"check", "--config", cfg}, exitOK},
		{"the command line overrides the environment", map[string]string{"MAPPER_RULES": "../../rules"},
			[]string{"check", "--config", cfg, "--rules", "testdata/broken-rules"}, exitFailure},
		{"the command line overrides the file", nil, []string{"check", "--config", cfg, "--rules", "../../rules"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMapperCLI(t, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			if code == exitFailure && !strings.Contains(stdout+stderr, `unknown transform "lowercse"`) {
				t.Errorf("not the broken rules:\n%s%s", stdout, stderr)
			}
		})
	}
	t.Run("a misspelt key is a problem with its position and the key meant", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(bad, []byte("rules: ../../rules\nschemaz: ../../schemas\nbatch-size: many\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runMapperCLI(t, nil, "check", "--config", bad)
		if code != exitUsage {
			t.Errorf("exit %d, want %d", code, exitUsage)
		}
		// batch-size belongs to run and demo: check ignores it.
		want := bad + `:2:1: unknown key "schemaz": not a flag of any command (did you mean "schemas"?)`
		if strings.TrimSpace(stderr) != "mapper check: "+want {
			t.Errorf("got:\n%s\nwant:\nmapper check: %s", stderr, want)
		}
	})
}

func TestStartFailuresFollowLogFormatJSON(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	code, _, stderr := runCmd(t, context.Background(), nil, "demo", "--duration", "1s", "--metrics=false",
		"--log-format", "json", "--status-addr", l.Addr().String())
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON line: %q (%v)", line, err)
		}
		errText, _ := rec["error"].(string)
		found = found || strings.Contains(errText, "status listener")
	}
	if !found {
		t.Errorf("no JSON line names the status listener:\n%s", stderr)
	}
}

package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCompletionScriptsParseAndListEveryCommand checks the generated
// scripts with the shells' own parsers (bash -n; zsh -n where zsh is
// installed) and that they list every command, subcommand and flag.
func TestCompletionScriptsParseAndListEveryCommand(t *testing.T) {
	for _, shell := range []string{"bash", "zsh"} {
		t.Run(shell, func(t *testing.T) {
			code, script, stderr := runMapperCLI(t, nil, "completion", shell)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			path := filepath.Join(t.TempDir(), "mapper."+shell)
			if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
				t.Fatal(err)
			}
			sh, err := exec.LookPath(shell)
			switch {
			case err == nil:
				if out, err := exec.Command(sh, "-n", path).CombinedOutput(); err != nil {
					t.Errorf("%s -n: %v\n%s", shell, err, out)
				}
			case shell == "bash":
				t.Fatalf("bash is needed to check the bash script: %v", err)
			default:
				t.Logf("zsh is not installed: the zsh script's syntax is not checked here")
			}
			for _, c := range allCommands() {
				if !strings.Contains(script, c.name) {
					t.Errorf("the script does not list %q", c.name)
				}
				fs := newFlagSet(c, quietEnv())
				c.new(fs, quietEnv())
				fs.VisitAll(func(f *flag.Flag) {
					if !strings.Contains(script, "--"+f.Name) {
						t.Errorf("the script does not list --%s of %s", f.Name, c.name)
					}
				})
			}
		})
	}
	t.Run("bash completes commands, subcommands and flags", func(t *testing.T) {
		_, script, _ := runMapperCLI(t, nil, "completion", "bash")
		path := filepath.Join(t.TempDir(), "mapper.bash")
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			line string // the words typed; the last is being completed
			want string
		}{
			{"mapper ru", "run"},
			{"mapper run --brok", "--brokers"},
			{"mapper samples va", "values"},
			{"mapper samples show --sou", "--source"},
			{"mapper completion z", "zsh"},
		}
		for _, tt := range tests {
			words := strings.Fields(tt.line)
			prog := "source " + path + "\nCOMP_WORDS=(" + strings.Join(words, " ") + ")\nCOMP_CWORD=" +
				strconv.Itoa(len(words)-1) + "\n_mapper\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
			out, err := exec.Command("bash", "-c", prog).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", tt.line, err, out)
			}
			if !strings.Contains("\n"+string(out), "\n"+tt.want+"\n") {
				t.Errorf("%q completes to %q, want %q among them", tt.line, out, tt.want)
			}
		}
	})
	t.Run("an unknown shell is a usage error", func(t *testing.T) {
		code, _, stderr := runMapperCLI(t, nil, "completion", "fish")
		if code != exitUsage || !strings.Contains(stderr, "bash or zsh") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

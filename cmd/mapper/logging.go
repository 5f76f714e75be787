package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// logFlags are --log-level and --log-format, declared on every
// long-running command (run, demo, tap, replay).
type logFlags struct {
	level, format *string
}

// declareLogFlags declares --log-level (default level) and --log-format
// (default text) on fs.
func declareLogFlags(fs *flag.FlagSet, e *env, level string) *logFlags {
	return &logFlags{
		level:  stringFlag(fs, e, "log-level", level, "least level logged: debug, info, warn or error"),
		format: stringFlag(fs, e, "log-format", "text", "log line format: text (key=value) or json (one JSON object a line)"),
	}
}

// check appends a problem for each flag value that is not allowed.
func (f *logFlags) check(problems *[]string) {
	if _, err := parseLevel(*f.level); err != nil {
		*problems = append(*problems, err.Error())
	}
	switch *f.format {
	case "text", "json":
	default:
		*problems = append(*problems, fmt.Sprintf("--log-format %q: want text or json", *f.format))
	}
}

// logger returns the logger the flags describe, writing to w. Call check
// first: a bad level falls back to info, a bad format to text.
func (f *logFlags) logger(w io.Writer) *slog.Logger {
	lvl, _ := parseLevel(*f.level)
	opts := &slog.HandlerOptions{Level: lvl}
	if *f.format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	switch strings.ToLower(s) {
	case "debug", "info", "warn", "warning", "error":
		if strings.EqualFold(s, "warning") {
			s = "warn"
		}
		if err := l.UnmarshalText([]byte(s)); err == nil {
			return l, nil
		}
	}
	return slog.LevelInfo, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
}

// errorLogger writes JSON log lines to stderr: the configuration problems
// of a command run with --log-format json.
func errorLogger(e *env) *slog.Logger {
	return slog.New(slog.NewJSONHandler(e.stderr, nil))
}

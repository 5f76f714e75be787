package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
)

func versionCommand() command {
	return command{
		name:  "version",
		usage: "version",
		short: "print the module version, the commit it was built from and the Go version",
		long: `Print what this binary was built from: the module version, the VCS commit and
its time (with "+dirty" when the tree had uncommitted changes) and the Go
version. go build stamps the commit when it builds inside a git checkout;
go run and builds outside a checkout show "unknown".`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdVersion{
				env: e,
			}
		},
	}
}

// cmdVersion is one invocation of `mapper version`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdVersion struct {
	*env
}

func (c *cmdVersion) run(_ context.Context, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(c.stderr, "mapper version: unexpected argument %q\n", args[0])
		return exitUsage
	}
	writeVersion(c.stdout, readBuildInfo())
	return exitOK
}

// buildInfo is what the binary knows about how it was built.
type buildInfo struct {
	Module    string // module version: "v1.2.3", "(devel)" for a local build
	Commit    string // VCS revision, "unknown" when not stamped
	Time      string // commit time, RFC 3339, "" when not stamped
	Dirty     bool   // the tree had uncommitted changes
	GoVersion string
}

// readBuildInfo reads the build information stamped into the binary.
func readBuildInfo() buildInfo {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = nil
	}
	return buildInfoOf(info)
}

// buildInfoOf extracts what writeVersion prints from info; nil gives
// "unknown" everywhere.
func buildInfoOf(info *debug.BuildInfo) buildInfo {
	bi := buildInfo{Module: "unknown", Commit: "unknown", GoVersion: "unknown"}
	if info == nil {
		return bi
	}
	bi.GoVersion = info.GoVersion
	if v := info.Main.Version; v != "" {
		bi.Module = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			bi.Commit = s.Value
		case "vcs.time":
			bi.Time = s.Value
		case "vcs.modified":
			bi.Dirty = s.Value == "true"
		}
	}
	return bi
}

// writeVersion prints bi as "mapper v… commit … go…".
func writeVersion(w io.Writer, bi buildInfo) {
	commit := bi.Commit
	if bi.Dirty {
		commit += "+dirty"
	}
	fmt.Fprintf(w, "mapper %s\ncommit %s", bi.Module, commit)
	if bi.Time != "" {
		fmt.Fprintf(w, " (%s)", bi.Time)
	}
	if bi.Commit == "unknown" {
		fmt.Fprint(w, " (not stamped: build with go build inside a git clone, without -buildvcs=false in GOFLAGS)")
	}
	fmt.Fprintf(w, "\n%s\n", bi.GoVersion)
}

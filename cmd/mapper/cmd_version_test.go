package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/mapperhq/mapper", Version: "v0.0.0-20261121131931-ad97f162c9c9"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "ad97f162c9c919cedadb24728ae6b076b61aba40"},
			{Key: "vcs.time", Value: "2026-11-21T13:19:31Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"a build in a git clone prints the commit", stamped,
			"mapper v0.0.0-20261121131931-ad97f162c9c9\ncommit ad97f162c9c919cedadb24728ae6b076b61aba40+dirty (2026-11-21T13:19:31Z)\ngo1.26.8\n"},
		{"a build without VCS stamp says why there is no commit", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"mapper (devel)\ncommit unknown (not stamped: build with go build inside a git clone, without -buildvcs=false in GOFLAGS)\ngo1.26.8\n"},
		{"no build information at all", nil,
			"mapper unknown\ncommit unknown (not stamped: build with go build inside a git clone, without -buildvcs=false in GOFLAGS)\nunknown\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			writeVersion(&b, buildInfoOf(tt.info))
			if got := b.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestVersionFlagAndCommandAgree(t *testing.T) {
	code1, out1, _ := runCLI(t, "", "version")
	code2, out2, _ := runCLI(t, "", "--version")
	if code1 != exitOK || code2 != exitOK || out1 != out2 || !strings.HasPrefix(out1, "mapper ") || !strings.Contains(out1, "\ncommit ") {
		t.Errorf("version: exit %d %q; --version: exit %d %q", code1, out1, code2, out2)
	}
}

// Package mapperfiles embeds the shipped rules, schemas and fixtures, so that
// `mapper demo` runs anywhere Go is installed.
package mapperfiles

import (
	"embed"
	"io/fs"
)

//go:embed rules schemas fixtures
var files embed.FS

// Rules returns the shipped rules/ directory.
func Rules() fs.FS { return sub("rules") }

// Schemas returns the shipped schemas/ directory.
func Schemas() fs.FS { return sub("schemas") }

// Fixtures returns the shipped fixtures/ directory.
func Fixtures() fs.FS { return sub("fixtures") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		// fs.Sub fails only for an invalid path, and these are constants.
		return files
	}
	return f
}

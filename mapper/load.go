package mapper

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"

	"github.com/valyala/fastjson"
)

// Load reads every *.yaml (and *.yml) file of rulesDir, resolves its
// schemas in schemasDir and compiles them. Nothing outside the two
// directories is read: not through a symbolic link, not through a schema's
// $ref, and never anything from the network. A rule set with any problem is
// refused whole: the error is a *LoadError listing every problem with its
// file:line:col.
func Load(rulesDir, schemasDir string, opts Options) (*Engine, error) {
	if st, err := os.Stat(rulesDir); err != nil || !st.IsDir() {
		return nil, &LoadError{Problems: []Problem{{File: rulesDir, What: "rules directory not found"}}}
	}
	if st, err := os.Stat(schemasDir); err != nil || !st.IsDir() {
		return nil, &LoadError{Problems: []Problem{{File: schemasDir, What: "schemas directory not found"}}}
	}
	// os.Root confines every read to its directory: a symbolic link that
	// leads out of it cannot be read.
	rules, err := os.OpenRoot(rulesDir)
	if err != nil {
		return nil, fmt.Errorf("open rules directory: %w", err)
	}
	defer rules.Close()
	schemas, err := os.OpenRoot(schemasDir)
	if err != nil {
		return nil, fmt.Errorf("open schemas directory: %w", err)
	}
	defer schemas.Close()
	return LoadFS(rules.FS(), rulesDir, schemas.FS(), schemasDir, opts)
}

// LoadFS is Load over file systems (for example embedded ones). The names
// prefix the file names in problem positions.
func LoadFS(rules fs.FS, rulesName string, schemas fs.FS, schemasName string, opts Options) (*Engine, error) {
	opts = opts.withDefaults()
	var ps problems
	sc := loadSchemas(schemas, schemasName, opts.MaxRuleFileBytes, &ps)

	names, err := fs.Glob(rules, "*.y*ml")
	if err != nil {
		return nil, fmt.Errorf("list rules in %s: %w", rulesName, err)
	}
	e := &Engine{opts: opts, byName: map[string]*Source{}, byTopic: map[string][]*Source{}, parsers: &fastjson.ParserPool{}}
	type claim struct {
		src       *Source
		line, col int
	}
	topics := map[string][]claim{}
	for _, name := range names {
		if !IsRuleFile(name) {
			continue
		}
		file := path.Join(rulesName, name)
		data, err := readBounded(rules, name, opts.MaxRuleFileBytes)
		if err != nil {
			ps.add(file, 0, 0, "%v", err)
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
			clash := false
			for _, c := range topics[t] {
				if c.src == src {
					ps.add(file, topicPos[i][0], topicPos[i][1], "topic %q is listed twice", t)
					clash = true
					break
				}
				if exclusive(src.accept, c.src.accept) {
					continue
				}
				clash = true
				if len(src.accept) == 0 && len(c.src.accept) == 0 {
					ps.add(file, topicPos[i][0], topicPos[i][1], "topic %q is already claimed by source %q (%s:%d:%d)",
						t, c.src.name, c.src.file, c.line, c.col)
				} else {
					ps.add(file, topicPos[i][0], topicPos[i][1], "topic %q is already claimed by source %q (%s:%d:%d) "+
						"and the accept predicates of both can hold for one record: give them predicates on one header or path that exclude each other",
						t, c.src.name, c.src.file, c.line, c.col)
				}
			}
			if clash {
				continue
			}
			topics[t] = append(topics[t], claim{src: src, line: topicPos[i][0], col: topicPos[i][1]})
			e.byTopic[t] = append(e.byTopic[t], src)
		}
	}
	if len(names) == 0 {
		ps.add(rulesName, 0, 0, "no rule files (*.yaml)")
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	sort.Slice(e.sources, func(i, j int) bool { return e.sources[i].name < e.sources[j].name })
	sortProblems(ps.warns)
	e.warnings = ps.warns
	return e, nil
}

// readBounded reads a rule or schema file of at most limit bytes. The size
// is checked before reading, and the read itself stops past the limit, so a
// huge file costs neither time nor memory.
func readBounded(fsys fs.FS, name string, limit int) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > int64(limit) {
		return nil, fmt.Errorf("the file is %d bytes, over the limit of %d (Options.MaxRuleFileBytes, --max-rule-file-bytes)", st.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if len(data) > limit {
		return nil, fmt.Errorf("the file is over the limit of %d bytes (Options.MaxRuleFileBytes, --max-rule-file-bytes)", limit)
	}
	return data, nil
}

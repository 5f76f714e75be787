package mapper

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// schemaSet holds every schema of the schemas directory, compiled.
type schemaSet struct {
	byName map[string]*schema
	names  []string
	files  map[string]bool // every *.json file found, loaded or not
}

func loadSchemas(fsys fs.FS, dirName string, limit int, ps *problems) *schemaSet {
	set := &schemaSet{byName: map[string]*schema{}}
	var files []string
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			ps.add(path.Join(dirName, p), 0, 0, "cannot read: %v", err)
			return nil
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	c := jsonschema.NewCompiler()
	c.AssertFormat = true
	c.Draft = jsonschema.Draft7
	c.LoadURL = refuseLoad
	isFile := make(map[string]bool, len(files))
	for _, name := range files {
		isFile[name] = true
	}
	set.files = isFile
	good := map[string][]byte{}
	for _, name := range files {
		data, err := readBounded(fsys, name, limit)
		if err != nil {
			ps.add(path.Join(dirName, name), 0, 0, "%v", err)
			continue
		}
		if err := checkJSON(data); err != nil {
			line, col := lineCol(data, err.offset-1)
			ps.add(path.Join(dirName, name), line, col, "invalid JSON: %s", err.msg)
			continue
		}
		refsOK := true
		for _, r := range findRefs(data) {
			if what := checkRef(name, r.ref, isFile); what != "" {
				line, col := lineCol(data, int64(r.offset))
				ps.add(path.Join(dirName, name), line, col, "$ref %q at %s %s", r.ref, r.ptr, what)
				refsOK = false
			}
		}
		if !refsOK {
			continue
		}
		if err := c.AddResource(schemaURL(name), bytes.NewReader(data)); err != nil {
			ps.add(path.Join(dirName, name), 0, 0, "%v", err)
			continue
		}
		good[name] = data
	}
	for _, name := range files {
		data, ok := good[name]
		if !ok {
			continue
		}
		full, err := c.Compile(schemaURL(name))
		if err != nil {
			ps.add(path.Join(dirName, name), 0, 0, "invalid schema: %s", schemaCompileError(err))
			continue
		}
		check, covered, locs := deriveChecks(full)
		set.byName[name] = &schema{name: name, doc: data, full: full, check: check, covered: covered, byLocation: indexLocations(full), locs: locs}
		set.names = append(set.names, name)
	}
	return set
}

func schemaURL(name string) string { return "file:///mapper-schemas/" + name }

func schemaCompileError(err error) string {
	msg := err.Error()
	msg = strings.ReplaceAll(msg, "file:///mapper-schemas/", "")
	return strings.ReplaceAll(msg, "\n", "; ")
}

type jsonErr struct {
	offset int64
	msg    string
}

func checkJSON(data []byte) *jsonErr {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return &jsonErr{offset: se.Offset, msg: se.Error()}
		}
		return &jsonErr{offset: int64(len(data)), msg: err.Error()}
	}
	return nil
}

func lineCol(data []byte, offset int64) (int, int) {
	if offset < 0 {
		offset = 0
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line, col := 1, 1
	for _, c := range data[:offset] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

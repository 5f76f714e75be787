package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mapperhq/mapper/internal/progress"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/batch"
)

func mapCommand() command {
	return command{
		name:  "map",
		usage: "map --source NAME [--header K=V]... [--lines [--summary]] [FILE]",
		short: "map payloads from a file or stdin and print the results as JSON",
		long: `Map one payload (a JSON object, from FILE or standard input) with the rules of a
source and print the result:

  {"outcome":"rejected","output":{…},"failures":[{"reason":"missing_field","field":"customer.email","detail":"…"}]}

With --lines the input is JSON lines (one payload per line) and the output one
result per line, in input order, mapped on every core. With --summary, counts
per outcome and per failure category are printed instead of the results.
--header K=V (repeatable) gives the record headers that the source's accept
predicates read: a payload the source does not accept is unknown_source.
Exit status: 0 when the results were printed, 1 when the rules or input cannot
be read, 2 on a usage error.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdMap{
				env:     e,
				dirs:    declareRuleDirs(fs, e),
				source:  stringFlag(fs, e, "source", "", "source (rule set) to map with; required"),
				lines:   boolFlag(fs, e, "lines", false, "input is JSON lines: one payload per line"),
				summary: boolFlag(fs, e, "summary", false, "print counts per outcome and category instead of results (with --lines)"),
				workers: intFlag(fs, e, "workers", 0, "mapping goroutines for --lines (0: one per core)"),
				hf:      declareHeaderFlag(fs),
			}
		},
	}
}

// cmdMap is one invocation of `mapper map`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdMap struct {
	*env
	dirs    ruleDirs
	source  *string
	lines   *bool
	summary *bool
	workers *int
	hf      *[]mapper.Header
}

func (c *cmdMap) run(ctx context.Context, args []string) int {
	if *c.source == "" {
		fmt.Fprintln(c.stderr, "mapper map: --source is required")
		return exitUsage
	}
	if len(args) > 1 {
		fmt.Fprintln(c.stderr, "mapper map: at most one FILE")
		return exitUsage
	}
	if *c.summary && !*c.lines {
		fmt.Fprintln(c.stderr, "mapper map: --summary counts the results of many payloads: add --lines (one payload per line), or drop --summary to map the file as one payload")
		return exitUsage
	}
	eng, err := c.dirs.load()
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper map: %v\n", err)
		return exitFailure
	}
	src := eng.Source(*c.source)
	if src == nil {
		var names []string
		for _, s := range eng.Sources() {
			names = append(names, s.Name())
		}
		fmt.Fprintf(c.stderr, "mapper map: no source %q in %s (sources: %s)\n", *c.source, *c.dirs.rules, strings.Join(names, ", "))
		return exitFailure
	}
	in := c.stdin
	var file *os.File
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper map: %v\n", err)
			return exitFailure
		}
		defer f.Close()
		in, file = f, f
	}
	out := bufio.NewWriterSize(c.stdout, 1<<16)
	defer out.Flush()
	if !*c.lines {
		payload, err := io.ReadAll(in)
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper map: read input: %v\n", err)
			return exitFailure
		}
		var m mapper.Mapper
		var res mapper.Result
		m.MapRecord(src, *c.hf, payload, &res)
		out.Write(res.AppendJSON(nil))
		out.WriteByte('\n')
		if n := jsonLines(payload); n > 1 && len(res.Failures) == 1 && res.Failures[0].Reason == mapper.ReasonMalformedPayload {
			out.Flush()
			fmt.Fprintf(c.stderr, "mapper map: the input has %d lines and was mapped as one payload: add --lines to map one payload per line\n", n)
			return exitFailure
		}
		return exitOK
	}
	opts := batch.Options{Workers: *c.workers, Headers: *c.hf, MaxLineBytes: *c.dirs.maxBytes}
	if progress.IsTerminal(c.stderr) {
		total := int64(-1)
		if file != nil {
			total = progress.Lines(file)
		}
		bar := progress.New(c.stderr, total, "mapping "+src.Name())
		defer bar.Finish()
		opts.Progress = bar.Add
	}
	var sum *batch.Summary
	if *c.summary {
		sum = &batch.Summary{}
		opts.Summary = sum
	} else {
		opts.Out = out
	}
	if err := batch.Run(ctx, src, in, opts); err != nil {
		if errors.Is(err, context.Canceled) {
			return exitFailure
		}
		fmt.Fprintf(c.stderr, "mapper map: %v\n", err)
		return exitFailure
	}
	if sum != nil {
		sum.Write(out, src)
	}
	return exitOK
}

// declareHeaderFlag declares --header K=V (repeatable): the record headers
// that a source's accept predicates read, in the order given.
func declareHeaderFlag(fs *flag.FlagSet) *[]mapper.Header {
	var headers []mapper.Header
	fs.Func("header", "a record header K=V for the source's accept predicates; repeatable", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return fmt.Errorf("want K=V, got %q", s)
		}
		for _, h := range headers {
			if strings.EqualFold(h.Key, k) {
				return fmt.Errorf("header %s given twice: a record has one value per header", k)
			}
		}
		headers = append(headers, mapper.Header{Key: k, Value: []byte(v)})
		return nil
	})
	return &headers
}

// jsonLines counts the non-blank lines of data when there are several
// and the first is a JSON value on its own (a JSON-lines file); 0
// otherwise.
func jsonLines(data []byte) int {
	n := 0
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if n == 0 && !json.Valid(line) {
			return 0
		}
		n++
	}
	return n
}

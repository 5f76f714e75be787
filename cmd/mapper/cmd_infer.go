package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/mapperhq/mapper/mapper/infer"
	"github.com/mapperhq/mapper/mapper/samples"
)

func inferCommand() command {
	return command{
		name:  "infer",
		usage: "infer [--required-share F] [--max-enum N] [--closed] [--title T] [--rules-out FILE] [--source NAME] [--samples DIR] FILE...",
		short: "derive an input JSON Schema (and a starter rules file) from real payloads",
		long: `
Reads payloads (one JSON payload per *.json file, one per line in JSON-lines
files) and prints an input JSON Schema (draft 07) on stdout: at every path the
types seen, with "null" where nulls were seen; "required" for the properties
present in every occurrence of their object (--required-share 0.95: in nearly
every one); an enum for strings with few distinct values (--max-enum); the
formats date-time, uuid and email when every value has them. Objects stay open
(additionalProperties left out) unless --closed: a field added later must not
reject records. Several record types in one input are merged. The same
payloads give the same bytes, whatever their order.

With --rules-out FILE, a starter rules file is written too, mapping every
top-level scalar property to an output field of the same name (timestamp
transform on date-times, required as inferred), to edit: name its output
schema and topics before mapper check accepts it.

With --samples DIR, the kept samples of --source in DIR are read too (every
category, clean included). Their values at redacted paths are masked (letters
x, digits 0): types and nulls stay true, formats and enums there do not.

A line or file that is not a JSON object is reported on stderr and skipped.
Exit status 1 when no payload could be read.`,
		new: func(fs *flag.FlagSet, e *env) runner {
			return &cmdInfer{
				env:        e,
				fs:         fs,
				share:      fs.Float64("required-share", 1, "share of its object's occurrences a property must be present in to be required (0-1]"),
				maxEnum:    fs.Int("max-enum", 8, "most distinct values a string may have to get an enum (0: no enums)"),
				closed:     fs.Bool("closed", false, "set additionalProperties false on every object"),
				title:      fs.String("title", "", "the schema's title"),
				rulesOut:   fs.String("rules-out", "", "also write a starter rules file mapping every top-level scalar here"),
				source:     fs.String("source", "new-source", "the source name in the starter rules file, and whose samples --samples reads"),
				samplesDir: fs.String("samples", "", "also read the kept samples of --source in this directory"),
			}
		},
	}
}

// cmdInfer is one invocation of `mapper infer`: where it writes and its flags,
// which hold their values once the flag set has parsed the arguments.
type cmdInfer struct {
	*env
	fs         *flag.FlagSet
	share      *float64
	maxEnum    *int
	closed     *bool
	title      *string
	rulesOut   *string
	source     *string
	samplesDir *string
}

func (c *cmdInfer) run(ctx context.Context, files []string) int {
	if len(files) == 0 && *c.samplesDir == "" {
		fmt.Fprintln(c.stderr, "mapper infer: give at least one FILE, or --samples DIR")
		c.fs.Usage()
		return exitUsage
	}
	if *c.share <= 0 || *c.share > 1 {
		fmt.Fprintf(c.stderr, "mapper infer: --required-share is %v; want more than 0 and at most 1\n", *c.share)
		return exitUsage
	}
	me := *c.maxEnum
	if me == 0 {
		me = -1
	}
	in := infer.New(infer.Options{RequiredShare: *c.share, MaxEnum: me, Closed: *c.closed})
	skipped := 0
	for _, f := range files {
		ps, err := samples.ReadPayloads(f)
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper infer: %v\n", err)
			return exitFailure
		}
		for _, p := range ps {
			if err := in.Add(p.Data); err != nil {
				skipped++
				if skipped <= 5 {
					fmt.Fprintf(c.stderr, "mapper infer: %s: skipped: %v\n", p.Ref, err)
				}
			}
		}
	}
	if *c.samplesDir != "" {
		n, err := addSamples(in, *c.samplesDir, *c.source)
		if err != nil {
			fmt.Fprintf(c.stderr, "mapper infer: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(c.stderr, "mapper infer: %d samples of %s from %s\n", n, *c.source, *c.samplesDir)
	}
	if skipped > 5 {
		fmt.Fprintf(c.stderr, "mapper infer: … %d payloads skipped in all\n", skipped)
	}
	if in.Records() == 0 {
		fmt.Fprintln(c.stderr, "mapper infer: no payload to infer from")
		return exitFailure
	}
	b, err := in.JSON(*c.title)
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper infer: %v\n", err)
		return exitFailure
	}
	if _, err := c.stdout.Write(b); err != nil {
		fmt.Fprintf(c.stderr, "mapper infer: write: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(c.stderr, "mapper infer: schema of %d payloads from %d files\n", in.Records(), len(files))
	if *c.rulesOut != "" {
		if err := writeStarterRules(*c.rulesOut, *c.source, in.TopScalars()); err != nil {
			fmt.Fprintf(c.stderr, "mapper infer: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(c.stderr, "mapper infer: wrote a starter rules file to %s\n", *c.rulesOut)
	}
	return exitOK
}

// writeStarterRules writes a rules file that maps every top-level scalar;
// it refuses to overwrite a file.
func writeStarterRules(path, source string, fields []infer.Field) error {
	if len(fields) == 0 {
		return errors.New("starter rules: the payloads have no top-level scalar to map")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Starter rules written by `mapper infer`: every top-level scalar mapped as it is.\n")
	fmt.Fprintf(&b, "# Edit the topics and the output schema, rename and transform fields, then run mapper check.\n")
	fmt.Fprintf(&b, "source: %s\nversion: 1\ntopics: [%s.raw]  # TODO: the input topics\n", source, source)
	fmt.Fprintf(&b, "input_schema: %s.input.json  # the schema mapper infer printed\n", source)
	fmt.Fprintf(&b, "output_schema: %s.v1.json  # TODO: write the domain schema\n", source)
	b.WriteString("fields:\n")
	for _, f := range fields {
		var parts []string
		parts = append(parts, "from: "+strconv.Quote(f.Name))
		if f.Timestamp {
			parts = append(parts, "transform: timestamp")
		}
		if f.Required {
			parts = append(parts, "required: true")
		}
		fmt.Fprintf(&b, "  %s: { %s }\n", strconv.Quote(f.Name), strings.Join(parts, ", "))
	}
	b.WriteString("redact: []  # TODO: personal data paths\n")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("starter rules: %w", err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("starter rules: %w", err)
	}
	return f.Close()
}

// addSamples adds the payloads of source's samples in dir; it returns how
// many it took.
func addSamples(in *infer.Inferrer, dir, source string) (int, error) {
	ss, err := samples.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range ss {
		if ss[i].Source != source || ss[i].Payload == nil {
			continue
		}
		if in.Add(ss[i].Payload) == nil {
			n++
		}
	}
	return n, nil
}

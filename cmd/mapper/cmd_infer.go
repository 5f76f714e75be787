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
		usage: "infer [--required-share F] [--max-enum N] [--closed] [--title T] [--rules-out FILE] [--source NAME] [--samples DIR] FILE... | infer --against SCHEMA [--write] FILE...",
		short: "derive an input JSON Schema (and a starter rules file) from real payloads",
		long: `
Reads payloads (one JSON payload per *.json file, one per line in JSON-lines
files) and prints an input JSON Schema (draft 07) on stdout: at every path the
types seen, with "null" where nulls were seen; "required" for the properties
present in every occurrence of their object (--required-share 0.95: in nearly
every one); the formats date-time, uuid and email when every value has them.
A string gets an enum only with evidence: at least 20 values, 2 to 16
(--max-enum) distinct ones and no more than the square root of the values,
each seen at least twice and shaped like a code (at most 64 bytes, no link,
at most two spaces), and not under an identifier's name (id, *_id, login,
email, url, *_url, sha, uuid): three records of one currency make no enum. A
property seen only as null gets no type (its description says so, and so does
a note on stderr): typed "null" it would reject the first real value. Objects
stay open (additionalProperties left out) unless --closed: a field added
later must not reject records. Several record types in one input are merged.
The same payloads give the same bytes, whatever their order.

With --against SCHEMA, the payloads are merged into an existing input schema
instead, which is printed edited in place (every line without a change kept
byte for byte; --write replaces the file) with each change on stderr. It only
widens: properties seen that the schema lacks are added (not required), types
seen are added to a property's type, an enum gains the values seen outside it
(or is removed when they are too many to list), a date-time, uuid or email
format some value fails is removed, and a required property absent from some
of its objects is no longer required. $ref, allOf, anyOf, oneOf and not are
left as they are.

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
				maxEnum:    fs.Int("max-enum", 16, "most distinct values a string may have to get an enum, however many records show them (0: no enums)"),
				closed:     fs.Bool("closed", false, "set additionalProperties false on every object"),
				title:      fs.String("title", "", "the schema's title"),
				rulesOut:   fs.String("rules-out", "", "also write a starter rules file mapping every top-level scalar here"),
				source:     fs.String("source", "new-source", "the source name in the starter rules file, and whose samples --samples reads"),
				samplesDir: fs.String("samples", "", "also read the kept samples of --source in this directory"),
				against:    fs.String("against", "", "merge what the payloads show into this existing input schema, edited in place, and print each change"),
				write:      fs.Bool("write", false, "with --against: replace the schema file instead of printing it"),
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
	against    *string
	write      *bool
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
	if *c.against == "" && *c.write {
		fmt.Fprintln(c.stderr, "mapper infer: --write needs --against SCHEMA")
		return exitUsage
	}
	if *c.against != "" && (*c.rulesOut != "" || *c.title != "" || *c.closed) {
		fmt.Fprintln(c.stderr, "mapper infer: --against edits an existing schema: --rules-out, --title and --closed do not apply")
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
	if *c.against != "" {
		return c.mergeAgainst(in)
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
	if nulls := in.NullOnly(); len(nulls) > 0 {
		shown := nulls
		if len(shown) > 10 {
			shown = shown[:10]
		}
		more := ""
		if len(nulls) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(nulls)-len(shown))
		}
		fmt.Fprintf(c.stderr, "mapper infer: note: %d properties were only ever null and have no type (their description says so): %s%s\n",
			len(nulls), strings.Join(shown, ", "), more)
	}
	if *c.rulesOut != "" {
		if err := writeStarterRules(*c.rulesOut, *c.source, in.TopScalars()); err != nil {
			fmt.Fprintf(c.stderr, "mapper infer: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(c.stderr, "mapper infer: wrote a starter rules file to %s\n", *c.rulesOut)
	}
	return exitOK
}

// maxSchemaFileBytes bounds the schema --against reads.
const maxSchemaFileBytes = 16 << 20

// mergeAgainst merges what in saw into the --against schema and prints
// (or with --write, writes) the edited document, and the changes on
// stderr.
func (c *cmdInfer) mergeAgainst(in *infer.Inferrer) int {
	path := *c.against
	fi, err := os.Stat(path)
	if err == nil && fi.Size() > maxSchemaFileBytes {
		err = fmt.Errorf("%s is %d bytes, over the limit of %d", path, fi.Size(), maxSchemaFileBytes)
	}
	var doc []byte
	if err == nil {
		doc, err = os.ReadFile(path)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper infer: --against: %v\n", err)
		return exitFailure
	}
	out, changes, notes, err := in.Against(doc)
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper infer: --against %s: %v\n", path, err)
		return exitFailure
	}
	if *c.write {
		err = writeFileAtomic(path, out)
	} else {
		_, err = c.stdout.Write(out)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "mapper infer: write: %v\n", err)
		return exitFailure
	}
	switch len(changes) {
	case 0:
		fmt.Fprintf(c.stderr, "mapper infer: %s already holds what the %d payloads show: no change\n", path, in.Records())
	default:
		noun := "changes"
		if len(changes) == 1 {
			noun = "change"
		}
		fmt.Fprintf(c.stderr, "mapper infer: %d %s to %s from %d payloads:\n", len(changes), noun, path, in.Records())
		for _, ch := range changes {
			fmt.Fprintf(c.stderr, "  %s\n", ch)
		}
	}
	for _, n := range notes {
		fmt.Fprintf(c.stderr, "mapper infer: note: %s\n", n)
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
		if _, bad := ss[i].MalformedOriginal(); bad {
			continue // masking may have made JSON of it; the record was not
		}
		if in.Add(ss[i].Payload) == nil {
			n++
		}
	}
	return n, nil
}

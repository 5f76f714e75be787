// Command mapper-image writes mapper's OCI image (see internal/ociimage)
// as an OCI image layout directory and prints its digest. scripts/image.sh
// builds the binary and calls it.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mapperhq/mapper/internal/ociimage"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("mapper-image", flag.ContinueOnError)
	bin := fs.String("binary", "", "static mapper binary (required)")
	ca := fs.String("ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of CA certificates")
	rules := fs.String("rules", "", "rules directory shipped at "+ociimage.RulesDir)
	schemas := fs.String("schemas", "", "schemas directory shipped at "+ociimage.SchemasDir)
	platform := fs.String("platform", "linux/amd64", "OS/architecture of the binary")
	epoch := fs.String("source-date-epoch", os.Getenv("SOURCE_DATE_EPOCH"), "Unix time of every timestamp in the image (the commit time)")
	out := fs.String("out", "", "OCI image layout directory to write (required)")
	var labels []string
	fs.Func("label", "KEY=VALUE label of the image config (repeatable)", func(s string) error {
		if !strings.Contains(s, "=") {
			return fmt.Errorf("want KEY=VALUE")
		}
		labels = append(labels, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *bin == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "mapper-image: --binary and --out are required")
		return 2
	}
	secs, err := strconv.ParseInt(*epoch, 10, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mapper-image: --source-date-epoch %q: want Unix seconds\n", *epoch)
		return 2
	}
	p, err := v1.ParsePlatform(*platform)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mapper-image: --platform: %v\n", err)
		return 2
	}
	spec := ociimage.Spec{Binary: *bin, CABundle: *ca, Rules: *rules, Schemas: *schemas, Platform: *p,
		Created: time.Unix(secs, 0), Labels: map[string]string{}}
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		spec.Labels[k] = v
	}
	img, err := ociimage.Build(spec)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mapper-image: %v\n", err)
		return 1
	}
	d, err := ociimage.WriteLayout(*out, img, *p)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mapper-image: %v\n", err)
		return 1
	}
	fmt.Println(d)
	return 0
}

// Package ociimage builds mapper's OCI image without a container engine:
// one layer holding the static mapper binary, a non-root user, a CA
// certificate bundle and the shipped rules and schemas, with mapper as the
// entrypoint. The same inputs give the same image digest: every file has
// a fixed time, owner and order, and the image's times are the given one.
package ociimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mapperhq/mapper/mapper"
)

// Paths and identity inside the image.
const (
	BinaryPath = "/usr/local/bin/mapper"
	// WorkDir is the working directory: mapper's default --rules and
	// --schemas ("rules", "schemas") are RulesDir and SchemasDir.
	WorkDir    = "/etc/mapper"
	RulesDir   = WorkDir + "/rules"
	SchemasDir = WorkDir + "/schemas"
	CABundle   = "/etc/ssl/certs/ca-certificates.crt"
	// UID and GID are the non-root user the image runs as ("mapper").
	UID, GID = 65532, 65532
)

// Spec is what goes into the image.
type Spec struct {
	// Binary is the path of a static mapper binary for Platform.
	Binary string
	// CABundle is the path of a PEM bundle of CA certificates.
	CABundle string
	// Rules and Schemas are directories copied to RulesDir and SchemasDir
	// (a mounted volume replaces them). Empty means none. Rule tests
	// (NAME.test.yaml) are left out: their payloads are fixtures, which the
	// image does not carry, and `mapper test` runs in CI, not in a pod.
	Rules, Schemas string
	// Platform is the binary's OS and architecture, like linux/amd64.
	Platform v1.Platform
	// Created is every time in the image (files and config): the commit
	// time gives the same digest for every build of one commit.
	Created time.Time
	// Labels are the config's labels (org.opencontainers.image.*).
	Labels map[string]string
}

// file is one entry of the layer.
type file struct {
	name string // absolute path in the image
	mode int64
	data []byte
	dir  bool
}

// Build returns the image of spec.
func Build(spec Spec) (v1.Image, error) {
	if spec.Binary == "" || spec.CABundle == "" {
		return nil, errors.New("ociimage: binary and CA bundle are required")
	}
	bin, err := os.ReadFile(spec.Binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	ca, err := os.ReadFile(spec.CABundle)
	if err != nil {
		return nil, fmt.Errorf("read CA bundle: %w", err)
	}
	if !bytes.Contains(ca, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", spec.CABundle)
	}
	files := []file{
		{name: "/etc/passwd", mode: 0o644, data: fmt.Appendf(nil, "root:x:0:0:root:/root:/sbin/nologin\nmapper:x:%d:%d:mapper:%s:/sbin/nologin\n", UID, GID, WorkDir)},
		{name: "/etc/group", mode: 0o644, data: fmt.Appendf(nil, "root:x:0:\nmapper:x:%d:\n", GID)},
		{name: CABundle, mode: 0o644, data: ca},
		{name: BinaryPath, mode: 0o755, data: bin},
		{name: RulesDir, mode: 0o755, dir: true},
		{name: SchemasDir, mode: 0o755, dir: true},
		{name: "/tmp", mode: 0o1777, dir: true},
	}
	for _, d := range []struct {
		from, to string
		skip     func(name string) bool
	}{{spec.Rules, RulesDir, mapper.IsRuleTestFile}, {spec.Schemas, SchemasDir, nil}} {
		if d.from == "" {
			continue
		}
		fs, err := treeFiles(d.from, d.to, d.skip)
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	layerTar, err := tarOf(files, spec.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	created := v1.Time{Time: spec.Created.UTC()}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created: created, CreatedBy: "scripts/image.sh", Comment: "mapper, CA certificates, rules and schemas",
	}})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = created
	cf.OS, cf.Architecture, cf.Variant = spec.Platform.OS, spec.Platform.Architecture, spec.Platform.Variant
	cf.Config = v1.Config{
		Entrypoint: []string{BinaryPath},
		Cmd:        []string{"run"},
		User:       fmt.Sprintf("%d:%d", UID, GID),
		WorkingDir: WorkDir,
		Env:        []string{"PATH=/usr/local/bin", "SSL_CERT_FILE=" + CABundle},
		Labels:     spec.Labels,
	}
	return mutate.ConfigFile(img, cf)
}

// treeFiles lists the files under dir as entries under to, with fixed
// modes, but those whose name skip (when not nil) reports.
func treeFiles(dir, to string, skip func(name string) bool) ([]file, error) {
	var out []file
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		name := path.Join(to, filepath.ToSlash(rel))
		if e.IsDir() {
			out = append(out, file{name: name, mode: 0o755, dir: true})
			return nil
		}
		if !e.Type().IsRegular() || (skip != nil && skip(e.Name())) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, file{name: name, mode: 0o644, data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", dir, err)
	}
	return out, nil
}

// tarOf writes files and their parent directories, sorted by name, owned
// by root, all at time t.
func tarOf(files []file, t time.Time) ([]byte, error) {
	byName := map[string]file{}
	for _, f := range files {
		for d := path.Dir(f.name); d != "/"; d = path.Dir(d) {
			if _, ok := byName[d]; !ok {
				byName[d] = file{name: d, mode: 0o755, dir: true}
			}
		}
		byName[f.name] = f
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		f := byName[n]
		h := &tar.Header{Name: strings.TrimPrefix(n, "/"), Mode: f.mode, ModTime: t.UTC(), Format: tar.FormatPAX,
			Typeflag: tar.TypeReg, Size: int64(len(f.data))}
		if f.dir {
			h.Typeflag, h.Name, h.Size = tar.TypeDir, h.Name+"/", 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteLayout writes img as the only image of a new OCI image layout at
// dir (replacing what is there) and returns its digest.
func WriteLayout(dir string, img v1.Image, platform v1.Platform) (v1.Hash, error) {
	if err := os.RemoveAll(dir); err != nil {
		return v1.Hash{}, err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("write OCI layout %s: %w", dir, err)
	}
	if err := p.AppendImage(img, layout.WithPlatform(platform)); err != nil {
		return v1.Hash{}, fmt.Errorf("write OCI layout %s: %w", dir, err)
	}
	return img.Digest()
}

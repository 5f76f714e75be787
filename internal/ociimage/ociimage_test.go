package ociimage_test

import (
	"archive/tar"
	"crypto/x509"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/mapperhq/mapper/internal/ociimage"
	"github.com/mapperhq/mapper/internal/testneeds"
)

// buildMapper builds a static mapper binary into dir, as scripts/image.sh does.
func buildMapper(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "mapper")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "../../cmd/mapper")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// caBundle is a PEM bundle for the image: the machine's.
func caBundle(t *testing.T) string {
	for _, p := range []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	testneeds.Missing(t, nil, "no CA bundle on this machine (install ca-certificates)")
	return ""
}

// imageOf builds the image of a fresh binary into a layout under dir and
// reads it back from the layout.
func imageOf(t *testing.T, dir string, created time.Time) (v1.Image, v1.Hash) {
	t.Helper()
	platform := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	img, err := ociimage.Build(ociimage.Spec{
		Binary: buildMapper(t, dir), CABundle: caBundle(t), Rules: "../../rules", Schemas: "../../schemas",
		Platform: platform, Created: created, Labels: map[string]string{"org.opencontainers.image.licenses": "Apache-2.0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := ociimage.WriteLayout(filepath.Join(dir, "image"), img, platform)
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(filepath.Join(dir, "image"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := p.Image(d)
	if err != nil {
		t.Fatalf("image %s not in the layout: %v", d, err)
	}
	return back, d
}

// unpack writes the image's root filesystem under root.
func unpack(t *testing.T, img v1.Image, root string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		default:
			t.Fatalf("unexpected entry %s of type %c", h.Name, h.Typeflag)
		}
	}
}

// TestImageRunsMapperFromItsRootFilesystem builds the image twice from two
// builds of the same tree (same digest), unpacks it, checks the user, the
// CA certificates and the static binary, and runs the entrypoint from the
// root filesystem: `mapper version`, and `mapper check` in the working
// directory on rules mounted over /etc/mapper/rules (good ones pass, a
// broken one fails with its position).
func TestImageRunsMapperFromItsRootFilesystem(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		testneeds.Missing(t, nil, "go is not on PATH: the test builds the binary it puts in the image")
	}
	created := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	img, d1 := imageOf(t, t.TempDir(), created)
	_, d2 := imageOf(t, t.TempDir(), created)
	if d1 != d2 {
		t.Errorf("two builds of one tree gave digests %s and %s", d1, d2)
	}

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != ociimage.BinaryPath {
		t.Errorf("entrypoint %q, want [%s]", c.Entrypoint, ociimage.BinaryPath)
	}
	if c.User == "" || strings.HasPrefix(c.User, "0") || strings.HasPrefix(c.User, "root") {
		t.Errorf("image runs as %q, want a non-root user", c.User)
	}
	if !cf.Created.Time.Equal(created) {
		t.Errorf("created %v, want the given time %v", cf.Created.Time, created)
	}

	root := t.TempDir()
	unpack(t, img, root)
	passwd, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(passwd), "mapper:x:65532:65532:") || c.User != "65532:65532" {
		t.Errorf("user %q not the mapper user of /etc/passwd:\n%s", c.User, passwd)
	}
	pem, err := os.ReadFile(filepath.Join(root, ociimage.CABundle))
	if err != nil {
		t.Fatal(err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		t.Errorf("%s holds no usable certificate", ociimage.CABundle)
	}
	bin := filepath.Join(root, ociimage.BinaryPath)
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("entrypoint is not an ELF binary: %v", err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary asks for a dynamic loader: not static")
		}
	}
	ef.Close()

	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "mapper ") || !strings.Contains(string(out), runtime.Version()) {
		t.Fatalf("mapper version from the image: %v\n%s", err, out)
	}

	// The shipped rules, without their tests (whose payloads the image
	// does not carry): mapper check passes with nothing to warn about.
	work := filepath.Join(root, filepath.FromSlash(c.WorkingDir))
	shipped, err := os.ReadDir(filepath.Join(root, ociimage.RulesDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range shipped {
		names = append(names, e.Name())
		if strings.Contains(e.Name(), ".test.") {
			t.Errorf("the image ships the rule test %s", e.Name())
		}
	}
	if !slices.Contains(names, "orders.yaml") {
		t.Errorf("the image's rules are %v, want the repository's (orders.yaml among them)", names)
	}
	check := exec.Command(bin, "check")
	check.Dir = work
	if out, err := check.CombinedOutput(); err != nil || strings.Contains(string(out), "warning") || !strings.Contains(string(out), "ok  orders") {
		t.Errorf("mapper check on the shipped rules: %v\n%s", err, out)
	}

	// A ConfigMap mounted at /etc/mapper/rules replaces the shipped rules.
	mounted := filepath.Join(root, ociimage.RulesDir)
	if err := os.RemoveAll(mounted); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(mounted, 0o755); err != nil {
		t.Fatal(err)
	}
	rule, err := os.ReadFile("../../rules/orders.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mounted, "orders.yaml"), rule, 0o644); err != nil {
		t.Fatal(err)
	}
	check = exec.Command(bin, "check")
	check.Dir = work
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("mapper check on the mounted rules: %v\n%s", err, out)
	}
	broken := strings.Replace(string(rule), "transform:", "transfrom:", 1)
	if broken == string(rule) {
		t.Fatal("the test rule has no transform to break")
	}
	if err := os.WriteFile(filepath.Join(mounted, "orders.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	check = exec.Command(bin, "check")
	check.Dir = work
	out, err = check.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "rules/orders.yaml:") {
		t.Errorf("mapper check accepted a broken mounted rule file, or did not name it: %v\n%s", err, out)
	}
}

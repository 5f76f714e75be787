package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/syncbuf"
	"github.com/mapperhq/mapper/internal/testneeds"
)

// browser returns a headless Chromium, or skips the test when none is
// installed, unless MAPPER_REQUIRE_BROWSER or MAPPER_REQUIRE_ALL is set (as .ci/run does).
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testneeds.Missing(t, []string{"MAPPER_REQUIRE_BROWSER"}, "no chromium on PATH (apt-get install chromium); .ci/run installs it")
	return ""
}

// headless runs the browser on url with args and returns its stdout.
func headless(t *testing.T, bin, url string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr.String())
	}
	return stdout.Bytes()
}

// TestStatusPageInBrowser runs the demo (the real worker on the embedded
// broker) and renders its status page in a headless browser: what a person
// sees. With -update it keeps the screenshot as docs/status-page.png.
func TestStatusPageInBrowser(t *testing.T) {
	bin := browser(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--rate", "300", "--refresh", "200ms", "--status-addr", "127.0.0.1:0", "--no-samples", "--metrics=false"},
			strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
	}()
	urlRE := regexp.MustCompile(`status page  (http://127\.0\.0\.1:\d+/)`)
	var url string
	deadline := time.Now().Add(60 * time.Second)
	if *update {
		deadline = deadline.Add(5 * time.Minute)
	}
	for url == "" {
		if m := urlRE.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("demo ended with %d before showing its status page:\n%s\n%s", code, stdout.String(), stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no status page URL in the demo's output:\n%s", stdout.String())
		}
	}
	// Wait until records of both sources and of a topic no rule claims were
	// mapped and the lag is known, so that every part of the page has data.
	for {
		var st struct {
			Counts struct {
				Sources []struct{ Source string } `json:"sources"`
			} `json:"counts"`
			Lag     []struct{ Topic string } `json:"lag"`
			History []struct {
				Sources []struct{ Source string } `json:"sources"`
			} `json:"history"`
			Drift []struct {
				Source  string `json:"source"`
				Entries []struct {
					Path string `json:"path"`
				} `json:"entries"`
			} `json:"drift"`
		}
		if resp, err := http.Get(url + "status"); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
		}
		minutes := 0
		for _, m := range st.History {
			if len(m.Sources) > 0 {
				minutes++
			}
		}
		// The built-in fixtures hold older releases of the GitHub
		// webhooks: their drift shows once one of them was mapped.
		drifting := false
		for _, d := range st.Drift {
			for _, e := range d.Entries {
				drifting = drifting || (d.Source == "github-work-items" && e.Path == "issue.state")
			}
		}
		// The kept screenshot shows a few minutes of history.
		if len(st.Counts.Sources) >= 3 && len(st.Lag) > 0 && drifting && (!*update || minutes >= 4) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not map records of every source in time: %+v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}

	dom := string(headless(t, bin, url, "--window-size=1280,1000", "--dump-dom"))
	for _, want := range []string{
		"<title>mapper demo · running</title>",
		"running · ready",
		`data-source="orders"`, `data-source="github-work-items"`, "<i>unrouted</i>",
		"95.0% not met", // the orders fixtures are defective on purpose
		`<polyline class="ratio"`, `<line class="objective"`,
		"mapper samples show --source orders --category",
		"mapper samples show --source '' --category unknown_source",
		`<tr class="partition"><td>partner.orders.raw</td>`,
		`<tr class="rule"><td>orders</td><td>v1</td></tr>`,
		`<section id="drift">`, `<h3 data-drift-source="github-work-items">`, "mapper drift --source github-work-items",
		`<tr class="drift"><td>new_enum_value</td><td><code>issue.state</code></td>`, `"triaged" ×`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page in the browser lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}

	// A window taller than the page; the screenshot is cut below its
	// content.
	shot := filepath.Join(t.TempDir(), "status-page.png")
	headless(t, bin, url, "--window-size=1280,3000", "--screenshot="+shot)
	raw, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("\x89PNG\r\n\x1a\n")) || len(raw) < 20_000 {
		t.Errorf("screenshot is not a PNG of a page with content (%d bytes)", len(raw))
	}
	if *update {
		small, err := smallScreenshot(raw, 24)
		if err != nil {
			t.Fatal(err)
		}
		if len(small) > maxScreenshotBytes {
			t.Errorf("the screenshot is %d bytes, over %d", len(small), maxScreenshotBytes)
		}
		if err := os.WriteFile("../../docs/status-page.png", small, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("demo exit %d after Ctrl-C; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("demo did not stop within 60s of Ctrl-C")
	}
}

// maxScreenshotBytes bounds the kept screenshot.
const maxScreenshotBytes = 300 << 10

// smallScreenshot cuts a screenshot below the page's content (keeping a
// margin of pad pixels) and encodes it with the 256 colours it uses most:
// a page of flat colours and text loses nothing a reader sees, and the
// file is a fraction of the size.
func smallScreenshot(raw []byte, pad int) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	rgba := func(x, y int) color.RGBA { return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) }
	b := img.Bounds()
	background := rgba(b.Max.X-1, b.Max.Y-1)
	bottom := b.Min.Y
	for y := b.Max.Y - 1; y >= b.Min.Y && bottom == b.Min.Y; y-- {
		for x := b.Min.X; x < b.Max.X; x++ {
			if rgba(x, y) != background {
				bottom = y + 1
				break
			}
		}
	}
	b.Max.Y = min(b.Max.Y, bottom+pad)

	counts := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[rgba(x, y)]++
		}
	}
	used := slices.Collect(maps.Keys(counts))
	slices.SortFunc(used, func(p, q color.RGBA) int {
		return cmp.Or(counts[q]-counts[p], cmp.Compare(p.R, q.R), cmp.Compare(p.G, q.G), cmp.Compare(p.B, q.B), cmp.Compare(p.A, q.A))
	})
	palette := make(color.Palette, min(len(used), 256))
	for i := range palette {
		palette[i] = used[i]
	}
	out := image.NewPaletted(image.Rect(0, 0, b.Dx(), b.Dy()), palette)
	index := map[color.RGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := rgba(x, y)
			i, ok := index[c]
			if !ok {
				i = uint8(palette.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x-b.Min.X, y-b.Min.Y, i)
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TestSmallScreenshotCutsBelowTheContentAndKeepsItsColours checks what
// -update does to the screenshot: the rows of background below the
// content go (but the margin), and every pixel keeps its colour when the
// image has fewer than 256 of them.
func TestSmallScreenshotCutsBelowTheContentAndKeepsItsColours(t *testing.T) {
	bg, ink := color.RGBA{0xf5, 0xf6, 0xf8, 0xff}, color.RGBA{0x20, 0x30, 0x40, 0xff}
	img := image.NewRGBA(image.Rect(0, 0, 40, 100))
	for y := range 100 {
		for x := range 40 {
			c := bg
			if y >= 10 && y < 30 && x >= 5 && x < 25 {
				c = ink
			}
			img.Set(x, y, c)
		}
	}
	var raw bytes.Buffer
	if err := png.Encode(&raw, img); err != nil {
		t.Fatal(err)
	}
	small, err := smallScreenshot(raw.Bytes(), 4)
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	if b := got.Bounds(); b.Dx() != 40 || b.Dy() != 34 {
		t.Fatalf("bounds %v, want 40×34 (content ends at row 30, margin 4)", b)
	}
	for y := range 34 {
		for x := range 40 {
			if c := color.RGBAModel.Convert(got.At(x, y)); c != img.At(x, y) {
				t.Fatalf("pixel (%d,%d) is %v, want %v", x, y, c, img.At(x, y))
			}
		}
	}
}

package main

import (
	"github.com/mapperhq/mapper/internal/syncbuf"

	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browser returns a headless Chromium, or skips the test when none is
// installed, unless MAPPER_REQUIRE_BROWSER is set (as .ci/run does).
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("MAPPER_REQUIRE_BROWSER") != "" {
		t.Fatal("no chromium on PATH (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); .ci/run installs it")
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
		// The kept screenshot shows a few minutes of history.
		if len(st.Counts.Sources) >= 3 && len(st.Lag) > 0 && (!*update || minutes >= 4) {
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
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page in the browser lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}

	shot := filepath.Join(t.TempDir(), "status-page.png")
	headless(t, bin, url, "--window-size=1280,1460", "--screenshot="+shot)
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 20_000 {
		t.Errorf("screenshot is not a PNG of a page with content (%d bytes)", len(png))
	}
	if *update {
		if err := os.MkdirAll("../../docs", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../../docs/status-page.png", png, 0o644); err != nil {
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

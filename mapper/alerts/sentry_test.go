package alerts_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// envelopeItem is one item of a Sentry envelope as POSTed by the SDK.
type envelopeItem struct {
	Header  map[string]any
	Payload []byte
}

// sentEvent is an event item decoded, with the envelope's attachments.
type sentEvent struct {
	Message     string                    `json:"message"`
	Level       string                    `json:"level"`
	Fingerprint []string                  `json:"fingerprint"`
	Tags        map[string]string         `json:"tags"`
	Contexts    map[string]map[string]any `json:"contexts"`
	Environment string                    `json:"environment"`
	Release     string                    `json:"release"`

	Attachments []envelopeItem `json:"-"`
	Raw         []byte         `json:"-"` // the whole envelope, for leak checks
}

// parseEnvelope decodes the newline-delimited envelope format: a header
// line, then per item a header line and a payload of "length" bytes (or up
// to the next newline when the header has no length).
func parseEnvelope(body []byte) ([]envelopeItem, error) {
	r := bufio.NewReader(bytes.NewReader(body))
	if _, err := r.ReadBytes('\n'); err != nil {
		return nil, fmt.Errorf("envelope header: %w", err)
	}
	var items []envelopeItem
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) == 0 {
			if err == io.EOF {
				return items, nil
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		var it envelopeItem
		if err := json.Unmarshal(line, &it.Header); err != nil {
			return nil, fmt.Errorf("item header %q: %w", line, err)
		}
		if n, ok := it.Header["length"].(float64); ok {
			it.Payload = make([]byte, int(n))
			if _, err := io.ReadFull(r, it.Payload); err != nil {
				return nil, fmt.Errorf("item payload: %w", err)
			}
		} else {
			p, _ := r.ReadBytes('\n')
			it.Payload = bytes.TrimSuffix(p, []byte("\n"))
		}
		items = append(items, it)
	}
}

// sentryServer is an httptest server standing in for Sentry's ingest
// endpoint. mode decides how it answers.
type sentryServer struct {
	t   *testing.T
	srv *httptest.Server
	dsn string

	mu       sync.Mutex
	mode     string // "ok", "hang", "429"
	events   []sentEvent
	requests int
	hanging  int
	release  chan struct{}
	bad      []error
}

func newSentryServer(t *testing.T, mode string) *sentryServer {
	t.Helper()
	s := &sentryServer{t: t, mode: mode, release: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	u := strings.TrimPrefix(s.srv.URL, "http://")
	s.dsn = "http://public@" + u + "/42"
	t.Cleanup(func() {
		s.unblock()
		s.srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, err := range s.bad {
			t.Errorf("sentry endpoint: %v", err)
		}
	})
	return s
}

func (s *sentryServer) unblock() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

func (s *sentryServer) fail(err error) {
	s.mu.Lock()
	s.bad = append(s.bad, err)
	s.mu.Unlock()
}

func (s *sentryServer) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	mode := s.mode
	if mode == "hang" {
		s.hanging++
	}
	s.mu.Unlock()
	switch mode {
	case "hang":
		select {
		case <-s.release:
		case <-r.Context().Done():
		}
		return
	case "429":
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/api/42/envelope/" {
		s.fail(fmt.Errorf("unexpected request %s %s", r.Method, r.URL.Path))
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			s.fail(err)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		s.fail(err)
		return
	}
	items, err := parseEnvelope(raw)
	if err != nil {
		s.fail(fmt.Errorf("%w in %q", err, raw))
		return
	}
	var ev *sentEvent
	var atts []envelopeItem
	for _, it := range items {
		switch it.Header["type"] {
		case "event":
			ev = &sentEvent{}
			if err := json.Unmarshal(it.Payload, ev); err != nil {
				s.fail(fmt.Errorf("event payload: %w", err))
				return
			}
		case "attachment":
			atts = append(atts, it)
		}
	}
	if ev != nil {
		ev.Attachments = atts
		ev.Raw = raw
		s.mu.Lock()
		s.events = append(s.events, *ev)
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"%032d"}`, 1)
}

func (s *sentryServer) received() []sentEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sentEvent(nil), s.events...)
}

// waitHanging waits until n requests are blocked in the hanging handler.
func (s *sentryServer) waitHanging(n int) {
	s.t.Helper()
	for i := 0; i < 1000; i++ {
		s.mu.Lock()
		h := s.hanging
		s.mu.Unlock()
		if h >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatalf("no request reached the hanging endpoint")
}

func (e sentEvent) context(name, key string) string {
	v, ok := e.Contexts[name][key]
	if !ok {
		return "<absent>"
	}
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

package statuspage

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"time"
)

//go:embed assets/page.html.tmpl assets/style.css
var assets embed.FS

// DefaultRefresh is how often the page reloads itself when Config.Refresh
// is zero.
const DefaultRefresh = 5 * time.Second

// Config configures a Handler.
type Config struct {
	// Status returns the /status document: a stream.Status or anything
	// that encodes to the same JSON. Required. Called once per page view
	// with the request's context, bounded by five seconds.
	Status func(ctx context.Context) any
	// Objectives are the share of records each source should deliver
	// (mapped or degraded), from its rules' objective. A source without
	// one shows no objective.
	Objectives map[string]float64
	// SamplesDir is the samples directory named in the commands the page
	// shows. Empty means the command's default (samples).
	SamplesDir string
	// Refresh is how often the page reloads itself. Zero means
	// DefaultRefresh.
	Refresh time.Duration
	// Title heads the page. Empty means "mapper".
	Title string
	// Logger receives errors writing the page. Nil means discard.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Handler serves the page at any path it is mounted on (GET only).
func Handler(cfg Config) (http.Handler, error) {
	if cfg.Status == nil {
		return nil, fmt.Errorf("statuspage: Config.Status is required")
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Title == "" {
		cfg.Title = "mapper"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	css, err := assets.ReadFile("assets/style.css")
	if err != nil {
		return nil, fmt.Errorf("statuspage: %w", err)
	}
	tmpl, err := template.New("page.html.tmpl").Funcs(funcs).ParseFS(assets, "assets/page.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("statuspage: %w", err)
	}
	return &handler{cfg: cfg, tmpl: tmpl, css: template.CSS(css)}, nil
}

type handler struct {
	cfg  Config
	tmpl *template.Template
	css  template.CSS
}

func (h *handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rw.Header().Set("Allow", "GET, HEAD")
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	doc, err := decode(h.cfg.Status(ctx))
	if err != nil {
		h.cfg.Logger.Warn("status page", "error", err)
		http.Error(rw, "status unavailable: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := h.Render(&buf, doc); err != nil {
		h.cfg.Logger.Warn("status page", "error", err)
		http.Error(rw, "render status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	_, _ = rw.Write(buf.Bytes())
}

// Render writes the page for doc.
func (h *handler) Render(w io.Writer, doc *Document) error {
	return h.tmpl.Execute(w, newView(h.cfg, h.css, doc))
}

// decode reads the /status document from v by way of its JSON.
func decode(v any) (*Document, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	var d Document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("decode status: %w", err)
	}
	return &d, nil
}

package dashboard_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	mapperfiles "github.com/mapperhq/mapper"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/dashboard"
	"github.com/mapperhq/mapper/mapper/metrics"
)

var update = flag.Bool("update", false, "update golden files")

func loadSources(t *testing.T) []*mapper.Source {
	t.Helper()
	e, err := mapper.Load("testdata/rules", "testdata/schemas", mapper.Options{})
	if err != nil {
		t.Fatalf("load testdata rules: %v", err)
	}
	return e.Sources()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the generated JSON; run go test ./mapper/dashboard -update and review the diff.\ngot:\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		opts   dashboard.Options
		golden string
	}{
		{"defaults", dashboard.Options{}, "set.golden.json"},
		{"monitors scoped to an env with notifications", dashboard.Options{Title: "mapper (prod)", Env: "prod", Notify: "@slack-data-alerts", NewCategoriesPerHour: 3}, "set-prod.golden.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dashboard.Build(loadSources(t), tt.opts).JSON()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, got)
		})
	}
}

func TestFilesAreOnePerAPICall(t *testing.T) {
	set := dashboard.Build(loadSources(t), dashboard.Options{})
	files, err := set.Files()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		var v map[string]any
		if err := json.Unmarshal(f.Data, &v); err != nil {
			t.Errorf("%s is not JSON: %v", f.Name, err)
		}
	}
	want := []string{"dashboard.json", "monitor-alpha-objective.json", "monitor-new-failure-categories.json", "monitor-candidate-newly-failing.json", "slo-alpha.json"}
	if !slices.Equal(names, want) {
		t.Errorf("files = %q, want %q (beta has no objective, so no objective monitor nor SLO)", names, want)
	}
}

// walk visits every widget definition, groups included.
func walk(ws []dashboard.Widget, fn func(dashboard.Definition)) {
	for _, w := range ws {
		fn(w.Definition)
		walk(w.Definition.Widgets, fn)
	}
}

var metricName = regexp.MustCompile(`mapper\.[a-z_.]+[a-z]`)

func TestQueriesAreConsistent(t *testing.T) {
	known := map[string]bool{}
	for _, m := range []string{metrics.MetricRecords, metrics.MetricFailures, metrics.MetricMapDuration, metrics.MetricConsumerLag,
		metrics.MetricDLQRecords, metrics.MetricSamplesKept, metrics.MetricSentryEvents, metrics.MetricFieldCapped, metrics.MetricNewCategory,
		metrics.MetricCandidateRecords, metrics.MetricCandidateRollbacks} {
		known[metrics.Namespace+m] = true
	}
	for _, src := range []struct {
		name    string
		sources []*mapper.Source
	}{{"testdata rules", loadSources(t)}, {"shipped rules", shippedSources(t)}} {
		t.Run(src.name, func(t *testing.T) {
			set := dashboard.Build(src.sources, dashboard.Options{})
			d := set.Dashboard
			if d.LayoutType != "ordered" {
				t.Errorf("layout_type = %q", d.LayoutType)
			}
			if len(d.Widgets) != 1+len(src.sources) {
				t.Errorf("%d top-level groups, want an overview and one per source (%d)", len(d.Widgets), len(src.sources))
			}
			walk(d.Widgets, func(def dashboard.Definition) {
				if def.Type == "group" && def.LayoutType != "ordered" {
					t.Errorf("group %q layout = %q", def.Title, def.LayoutType)
				}
				for _, r := range def.Requests {
					names := map[string]bool{}
					for _, q := range r.Queries {
						names[q.Name] = true
						checkQuery(t, def.Title, q.Query, known)
					}
					if len(r.Formulas) == 0 {
						t.Errorf("widget %q: request without a formula", def.Title)
					}
					for _, f := range r.Formulas {
						for _, ident := range regexp.MustCompile(`[a-z][a-z0-9]*`).FindAllString(f.Formula, -1) {
							if !names[ident] {
								t.Errorf("widget %q: formula %q names %q, not a query of its request", def.Title, f.Formula, ident)
							}
						}
					}
				}
			})
			for _, m := range set.Monitors {
				if m.Type != "query alert" || !strings.HasPrefix(m.Query, "sum(last_1h):") {
					t.Errorf("monitor %q: type %q query %q", m.Name, m.Type, m.Query)
				}
				checkQuery(t, m.Name, m.Query, known)
			}
		})
	}
}

func checkQuery(t *testing.T, where, q string, known map[string]bool) {
	t.Helper()
	if strings.Count(q, "{") != strings.Count(q, "}") || strings.Count(q, "(") != strings.Count(q, ")") {
		t.Errorf("%s: unbalanced query %q", where, q)
	}
	for _, m := range metricName.FindAllString(q, -1) {
		if !known[m] {
			t.Errorf("%s: query %q uses %s, which package metrics does not send", where, q, m)
		}
	}
}

func TestObjectiveDrivesMarkerAndMonitor(t *testing.T) {
	set := dashboard.Build(loadSources(t), dashboard.Options{})
	var markers []string
	walk(set.Dashboard.Widgets, func(def dashboard.Definition) {
		for _, m := range def.Markers {
			markers = append(markers, m.Value)
		}
	})
	if want := []string{"y = 0.95"}; !slices.Equal(markers, want) {
		t.Errorf("objective markers = %q, want %q (alpha only)", markers, want)
	}
	m := set.Monitors[0]
	if !strings.HasSuffix(m.Query, "< 0.95") || m.Options.Thresholds.Critical != 0.95 || *m.Options.Thresholds.Warning != 0.975 {
		t.Errorf("objective monitor query %q thresholds %+v", m.Query, m.Options.Thresholds)
	}
}

func shippedSources(t *testing.T) []*mapper.Source {
	t.Helper()
	e, err := mapper.LoadFS(mapperfiles.Rules(), "rules", mapperfiles.Schemas(), "schemas", mapper.Options{})
	if err != nil {
		t.Fatalf("load shipped rules: %v", err)
	}
	if len(e.Sources()) == 0 {
		t.Fatal("no shipped sources")
	}
	return e.Sources()
}

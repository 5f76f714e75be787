package statuspage

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mapperhq/mapper/mapper/drift"
)

// MaxDriftRows is how many drift entries the page lists per source, by
// kind then most counted first.
const MaxDriftRows = 12

// MaxFailures is how many failure categories the page lists, most
// frequent first.
const MaxFailures = 10

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 300.0, 64.0
	barGap         = 2.0
)

var funcs = template.FuncMap{
	"pct":  func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" },
	"num":  func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"addf": func(a, b float64) float64 { return a + b },
}

// view is what the template renders.
type view struct {
	Title          string
	CSS            template.CSS
	RefreshSeconds int
	Generated      string

	State, NotReadyReason string
	Ready                 bool
	Group                 string
	Topics                string
	OutputTopic, DLQTopic string

	Mapped, Degraded, Rejected, Total int64
	Delivered                         float64
	HasRecords                        bool

	Minutes  int
	Sources  []sourceView
	Failures []failureView
	Lag      []lagView
	LagTotal int64
	LagError string
	Rules    []ruleView

	Candidate *candidateView
	Registry  *SchemaRegistry
	Drift     []driftView
	// HasDrift is true when the worker reports drift at all (an empty
	// list: no source drifts).
	HasDrift bool
}

// driftView is one source's drift report: its most counted entries.
type driftView struct {
	Source  string
	Records uint64
	Fields  int
	Rows    []driftRow
	More    int
	Command string
}

type driftRow struct {
	Kind, Path, Share, FirstSeen, Detail string
	Count                                uint64
}

type sourceView struct {
	Name                              string
	Version                           int
	Mapped, Degraded, Rejected, Total int64
	Delivered                         float64
	HasObjective, Met                 bool
	Objective                         float64
	Chart                             chart
}

// chart is one source's outcomes per minute as stacked bars, with the share
// delivered as a line against the objective.
type chart struct {
	W, H       float64
	Bars       []bar
	Line       string // SVG polyline points of the delivered share, "" when no minute had records
	ObjectiveY float64
	HasObj     bool
	Max        int64 // records of the busiest minute
	First      string
	Last       string
}

type bar struct {
	X, W                    float64
	MappedY, MappedH        float64
	DegradedY, DegradedH    float64
	RejectedY, RejectedH    float64
	Title                   string
	Mapped, Degraded, Rejec int64
}

type failureView struct {
	Source, Category string
	Count            int64
	Command          string
}

type lagView struct {
	Topic                string
	Partition            int
	Committed, HighWater int64
	Lag                  int64
	Width                float64 // share of the largest lag, 0–100
}

type ruleView struct {
	Source, Version string
}

type candidateView struct {
	Mode       string
	Versions   string
	Verdicts   []verdictView
	RolledBack string
}

type verdictView struct {
	Verdict string
	Count   int64
}

func newView(cfg Config, css template.CSS, d *Document) *view {
	v := &view{
		Title: cfg.Title, CSS: css, RefreshSeconds: max(1, int(cfg.Refresh.Round(time.Second)/time.Second)),
		Generated: cfg.Now().UTC().Format("2006-01-02 15:04:05 UTC"),
		State:     d.State, Ready: d.Ready, NotReadyReason: d.NotReadyReason, Group: d.Group,
		Topics: strings.Join(d.Topics, ", "), OutputTopic: d.OutputTopic, DLQTopic: d.DeadLetterTopic,
		Mapped: d.Counts.Mapped, Degraded: d.Counts.Degraded, Rejected: d.Counts.Rejected,
		Minutes: len(d.History), LagTotal: d.LagTotal, LagError: d.LagError,
	}
	v.Total = v.Mapped + v.Degraded + v.Rejected
	v.HasRecords = v.Total > 0
	v.Delivered = ratio(v.Mapped+v.Degraded, v.Total)

	// One row per source name; several rules versions of one source (a
	// reload) are summed, the highest version shown.
	type agg struct {
		sourceView
		minutes []SourceCounts
	}
	bySource := map[string]*agg{}
	get := func(name string) *agg {
		a := bySource[name]
		if a == nil {
			a = &agg{sourceView: sourceView{Name: name}, minutes: make([]SourceCounts, len(d.History))}
			bySource[name] = a
		}
		return a
	}
	for _, s := range d.Counts.Sources {
		a := get(s.Source)
		a.Version = max(a.Version, s.RulesVersion)
		a.Mapped += s.Mapped
		a.Degraded += s.Degraded
		a.Rejected += s.Rejected
	}
	for i, m := range d.History {
		for _, s := range m.Sources {
			mc := &get(s.Source).minutes[i]
			mc.Mapped += s.Mapped
			mc.Degraded += s.Degraded
			mc.Rejected += s.Rejected
		}
	}
	for name, obj := range cfg.Objectives {
		if _, ok := bySource[name]; !ok && obj > 0 {
			get(name)
		}
	}
	for _, a := range bySource {
		sv := a.sourceView
		sv.Total = sv.Mapped + sv.Degraded + sv.Rejected
		sv.Delivered = ratio(sv.Mapped+sv.Degraded, sv.Total)
		if obj, ok := cfg.Objectives[sv.Name]; ok && obj > 0 {
			sv.HasObjective, sv.Objective = true, obj
			sv.Met = sv.Total > 0 && sv.Delivered >= obj
		}
		sv.Chart = newChart(a.minutes, d.History, sv.HasObjective, sv.Objective)
		v.Sources = append(v.Sources, sv)
	}
	slices.SortFunc(v.Sources, func(a, b sourceView) int {
		// Records no source claims last.
		return cmp.Or(cmp.Compare(boolInt(a.Name == ""), boolInt(b.Name == "")), cmp.Compare(a.Name, b.Name))
	})

	for _, f := range d.Counts.TopFailures[:min(len(d.Counts.TopFailures), MaxFailures)] {
		v.Failures = append(v.Failures, failureView{Source: f.Source, Category: f.Category, Count: f.Count,
			Command: samplesCommand(cfg.SamplesDir, f.Source, f.Category)})
	}
	var maxLag int64
	for _, l := range d.Lag {
		maxLag = max(maxLag, l.Lag)
	}
	for _, l := range d.Lag {
		lv := lagView{Topic: l.Topic, Partition: l.Partition, Committed: l.Committed, HighWater: l.HighWatermark, Lag: l.Lag}
		if maxLag > 0 {
			lv.Width = 100 * float64(l.Lag) / float64(maxLag)
		}
		v.Lag = append(v.Lag, lv)
	}
	v.Rules = rulesView(d.Rules, d.Counts.Sources)
	v.Drift, v.HasDrift = driftViews(cfg.SamplesDir, d.Drift), d.Drift != nil
	v.Registry = d.SchemaRegistry
	if c := d.Candidate; c != nil {
		cv := &candidateView{Mode: c.Mode, Versions: compact(c.Versions), RolledBack: compact(c.RolledBack)}
		for k, n := range c.Verdicts {
			cv.Verdicts = append(cv.Verdicts, verdictView{k, n})
		}
		slices.SortFunc(cv.Verdicts, func(a, b verdictView) int { return cmp.Compare(a.Verdict, b.Verdict) })
		v.Candidate = cv
	}
	return v
}

func newChart(minutes []SourceCounts, history []Minute, hasObj bool, obj float64) chart {
	c := chart{W: chartW, H: chartH, HasObj: hasObj, ObjectiveY: chartH * (1 - obj)}
	if len(history) > 0 {
		c.First = history[0].Start.UTC().Format("15:04")
		c.Last = history[len(history)-1].Start.UTC().Format("15:04")
	}
	for _, m := range minutes {
		c.Max = max(c.Max, m.Mapped+m.Degraded+m.Rejected)
	}
	n := len(minutes)
	if n == 0 {
		return c
	}
	slot := chartW / float64(n)
	var pts []string
	for i, m := range minutes {
		total := m.Mapped + m.Degraded + m.Rejected
		b := bar{X: float64(i)*slot + barGap/2, W: max(slot-barGap, 1), Mapped: m.Mapped, Degraded: m.Degraded, Rejec: m.Rejected}
		b.Title = fmt.Sprintf("%s: %d mapped, %d degraded, %d rejected", history[i].Start.UTC().Format("15:04"), m.Mapped, m.Degraded, m.Rejected)
		if c.Max > 0 {
			scale := chartH / float64(c.Max)
			b.MappedH = float64(m.Mapped) * scale
			b.DegradedH = float64(m.Degraded) * scale
			b.RejectedH = float64(m.Rejected) * scale
			b.MappedY = chartH - b.MappedH
			b.DegradedY = b.MappedY - b.DegradedH
			b.RejectedY = b.DegradedY - b.RejectedH
		}
		c.Bars = append(c.Bars, b)
		if total > 0 {
			y := chartH * (1 - ratio(m.Mapped+m.Degraded, total))
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", float64(i)*slot+slot/2, y))
		}
	}
	if len(pts) == 1 {
		// One point draws nothing: make it a short level line.
		x, y, _ := strings.Cut(pts[0], ",")
		xf, _ := strconv.ParseFloat(x, 64)
		pts = []string{fmt.Sprintf("%.1f,%s", xf-slot/2, y), fmt.Sprintf("%.1f,%s", xf+slot/2, y)}
	}
	c.Line = strings.Join(pts, " ")
	return c
}

// samplesCommand is the command that shows a category's kept samples.
func samplesCommand(dir, source, category string) string {
	var b strings.Builder
	b.WriteString("mapper samples show")
	if dir != "" && dir != "samples" {
		b.WriteString(" --samples " + shellQuote(dir))
	}
	b.WriteString(" --source " + shellQuote(source) + " --category " + shellQuote(category))
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == ':' || r == '/' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// rulesView lists the rules versions: from the document's "rules" key when
// present ({source: version} or [{source, version}]), else from the sources
// whose records were counted.
func rulesView(raw json.RawMessage, counted []SourceCounts) []ruleView {
	var out []ruleView
	var obj map[string]json.RawMessage
	var list []map[string]json.RawMessage
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case json.Unmarshal(raw, &obj) == nil:
		for k, v := range obj {
			out = append(out, ruleView{k, compact(v)})
		}
	case json.Unmarshal(raw, &list) == nil:
		for _, m := range list {
			ver := m["version"]
			if ver == nil {
				ver = m["rules_version"]
			}
			out = append(out, ruleView{unquote(m["source"]), compact(ver)})
		}
	}
	if out == nil {
		seen := map[string]bool{}
		for _, s := range counted {
			if s.Source == "" {
				continue
			}
			k := s.Source + "\x00" + strconv.Itoa(s.RulesVersion)
			if !seen[k] {
				seen[k] = true
				out = append(out, ruleView{s.Source, strconv.Itoa(s.RulesVersion)})
			}
		}
	}
	slices.SortFunc(out, func(a, b ruleView) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Version, b.Version))
	})
	return out
}

// compact renders a JSON value for reading: strings unquoted, everything
// else as compact JSON.
func compact(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if s := unquote(raw); s != "" {
		return s
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func unquote(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

func ratio(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func driftViews(dir string, reports []drift.Report) []driftView {
	var out []driftView
	for _, r := range reports {
		if len(r.Entries) == 0 {
			continue
		}
		dv := driftView{Source: r.Source, Records: r.Records, Fields: len(r.Entries), Command: "mapper drift"}
		if dir != "" && dir != "samples" {
			dv.Command += " --samples " + shellQuote(dir)
		}
		dv.Command += " --source " + shellQuote(r.Source)
		for _, e := range r.Entries[:min(len(r.Entries), MaxDriftRows)] {
			dv.Rows = append(dv.Rows, driftRow{Kind: string(e.Kind), Path: e.Path, Count: e.Count,
				Share: strconv.FormatFloat(100*e.Share, 'f', 1, 64) + "%", FirstSeen: e.FirstSeen.UTC().Format("2006-01-02 15:04:05"),
				Detail: drift.Detail(e)})
		}
		dv.More = len(r.Entries) - len(dv.Rows)
		out = append(out, dv)
	}
	return out
}

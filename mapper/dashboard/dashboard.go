package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/mapperhq/mapper/mapper"
)

// Options tunes what Build generates. The zero value is valid.
type Options struct {
	// Title is the dashboard's title. Empty means "mapper".
	Title string
	// Env, when set, restricts the monitors to env:<Env> (monitors cannot use
	// the dashboard's $env template variable). Empty means every env.
	Env string
	// Notify is appended to every monitor message, for example
	// "@slack-data-alerts @pagerduty-mapper". Empty means none.
	Notify string
	// NewCategoriesPerHour is the critical threshold of the new failure
	// category monitor (new categories per source in the last hour). Zero
	// means 5.
	NewCategoriesPerHour int
}

// Set is everything Build generates.
type Set struct {
	Dashboard Dashboard `json:"dashboard"`
	Monitors  []Monitor `json:"monitors"`
	// SLOs holds one metric-based SLO per source with an objective.
	SLOs []SLO `json:"slos"`
}

// File is one generated JSON document, ready to POST.
type File struct {
	Name string // "dashboard.json", "monitor-orders-objective.json", …
	Data []byte // indented JSON ending in a newline
}

// Dashboard is a Datadog dashboard (POST /api/v1/dashboard).
type Dashboard struct {
	Title             string             `json:"title"`
	Description       string             `json:"description"`
	LayoutType        string             `json:"layout_type"`
	TemplateVariables []TemplateVariable `json:"template_variables"`
	Widgets           []Widget           `json:"widgets"`
}

// TemplateVariable is a dashboard-wide tag filter such as $env.
type TemplateVariable struct {
	Name            string   `json:"name"`
	Prefix          string   `json:"prefix"`
	AvailableValues []string `json:"available_values"`
	Defaults        []string `json:"defaults"`
}

// Widget is one dashboard widget.
type Widget struct {
	Definition Definition `json:"definition"`
}

// Definition is a widget definition; which fields are set depends on Type
// (group, note, timeseries, query_value, toplist).
type Definition struct {
	Type       string    `json:"type"`
	Title      string    `json:"title,omitempty"`
	LayoutType string    `json:"layout_type,omitempty"`
	Widgets    []Widget  `json:"widgets,omitempty"`
	Content    string    `json:"content,omitempty"`
	ShowLegend *bool     `json:"show_legend,omitempty"`
	Requests   []Request `json:"requests,omitempty"`
	Markers    []Marker  `json:"markers,omitempty"`
	Yaxis      *Axis     `json:"yaxis,omitempty"`
	Precision  *int      `json:"precision,omitempty"`
	Autoscale  *bool     `json:"autoscale,omitempty"`
	// Time fixes the widget's own time frame, whatever the dashboard's.
	Time *WidgetTime `json:"time,omitempty"`
}

// WidgetTime is a widget's own time frame ("1w", "1mo", …).
type WidgetTime struct {
	LiveSpan string `json:"live_span"`
}

// Request is a formula-style widget request.
type Request struct {
	ResponseFormat     string              `json:"response_format"`
	Queries            []Query             `json:"queries"`
	Formulas           []Formula           `json:"formulas"`
	DisplayType        string              `json:"display_type,omitempty"`
	ConditionalFormats []ConditionalFormat `json:"conditional_formats,omitempty"`
}

// Query is one named metrics query of a request.
type Query struct {
	DataSource string `json:"data_source"`
	Name       string `json:"name"`
	Query      string `json:"query"`
	Aggregator string `json:"aggregator,omitempty"`
}

// Formula combines a request's queries by name.
type Formula struct {
	Formula string `json:"formula"`
	Alias   string `json:"alias,omitempty"`
	Limit   *Limit `json:"limit,omitempty"`
}

// Limit keeps the top entries of a toplist.
type Limit struct {
	Count int    `json:"count"`
	Order string `json:"order"`
}

// Marker is a horizontal line on a timeseries, such as an objective.
type Marker struct {
	Value       string `json:"value"`
	DisplayType string `json:"display_type"`
	Label       string `json:"label,omitempty"`
}

// ConditionalFormat colours a query value against a threshold.
type ConditionalFormat struct {
	Comparator string  `json:"comparator"`
	Value      float64 `json:"value"`
	Palette    string  `json:"palette"`
}

// Axis bounds a timeseries' y axis.
type Axis struct {
	Min string `json:"min,omitempty"`
	Max string `json:"max,omitempty"`
}

// Monitor is a Datadog metric alert (POST /api/v1/monitor).
type Monitor struct {
	Name    string         `json:"name"`
	Type    string         `json:"type"`
	Query   string         `json:"query"`
	Message string         `json:"message"`
	Tags    []string       `json:"tags"`
	Options MonitorOptions `json:"options"`
	file    string
}

// MonitorOptions are a monitor's evaluation options.
type MonitorOptions struct {
	Thresholds        Thresholds `json:"thresholds"`
	NotifyNoData      bool       `json:"notify_no_data"`
	RequireFullWindow bool       `json:"require_full_window"`
	IncludeTags       bool       `json:"include_tags"`
	RenotifyInterval  int        `json:"renotify_interval"`
}

// Thresholds of a metric alert.
type Thresholds struct {
	Critical float64  `json:"critical"`
	Warning  *float64 `json:"warning,omitempty"`
}

// Build generates the dashboard and monitors of sources (as given by
// (*mapper.Engine).Sources, nil entries are skipped).
func Build(sources []*mapper.Source, opts Options) Set {
	if opts.Title == "" {
		opts.Title = "mapper"
	}
	if opts.NewCategoriesPerHour <= 0 {
		opts.NewCategoriesPerHour = 5
	}
	var srcs []*mapper.Source
	for _, s := range sources {
		if s != nil {
			srcs = append(srcs, s)
		}
	}
	d := Dashboard{
		Title: opts.Title,
		Description: "Generated by `mapper dashboard` from the rules; regenerate rather than edit. " +
			"Records, failures by reason and field, dead letters, consumer lag and candidate rules per source.",
		LayoutType: "ordered",
		TemplateVariables: []TemplateVariable{
			{Name: "env", Prefix: "env", AvailableValues: []string{}, Defaults: []string{"*"}},
		},
		Widgets: []Widget{overview(srcs)},
	}
	for _, s := range srcs {
		d.Widgets = append(d.Widgets, sourceGroup(s))
	}
	set := Set{Dashboard: d, Monitors: []Monitor{}, SLOs: []SLO{}}
	for _, s := range srcs {
		if s.Objective().MappedRatio > 0 {
			set.Monitors = append(set.Monitors, objectiveMonitor(s, opts))
			set.SLOs = append(set.SLOs, objectiveSLO(s, opts))
		}
	}
	set.Monitors = append(set.Monitors, newCategoryMonitor(opts), newlyFailingMonitor(opts))
	return set
}

// Files returns the set as one file per API call: dashboard.json and one
// monitor-*.json per monitor.
func (s Set) Files() ([]File, error) {
	d, err := marshal(s.Dashboard)
	if err != nil {
		return nil, fmt.Errorf("dashboard: encode dashboard: %w", err)
	}
	files := []File{{Name: "dashboard.json", Data: d}}
	for _, m := range s.Monitors {
		b, err := marshal(m)
		if err != nil {
			return nil, fmt.Errorf("dashboard: encode monitor %q: %w", m.Name, err)
		}
		files = append(files, File{Name: m.file, Data: b})
	}
	for _, o := range s.SLOs {
		b, err := marshal(o)
		if err != nil {
			return nil, fmt.Errorf("dashboard: encode SLO %q: %w", o.Name, err)
		}
		files = append(files, File{Name: o.file, Data: b})
	}
	return files, nil
}

// JSON returns the whole set as one indented JSON document:
// {"dashboard": {…}, "monitors": [{…}, …]}.
func (s Set) JSON() ([]byte, error) {
	b, err := marshal(s)
	if err != nil {
		return nil, fmt.Errorf("dashboard: encode: %w", err)
	}
	return b, nil
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func ptr[T any](v T) *T { return &v }

func metricsQuery(name, query string) Query {
	return Query{DataSource: "metrics", Name: name, Query: query}
}

func scalarQuery(name, query string) Query {
	return Query{DataSource: "metrics", Name: name, Query: query, Aggregator: "sum"}
}

func timeseries(title, display string, queries []Query, formulas ...Formula) Widget {
	return Widget{Definition: Definition{
		Type: "timeseries", Title: title, ShowLegend: ptr(true),
		Requests: []Request{{ResponseFormat: "timeseries", Queries: queries, Formulas: formulas, DisplayType: display}},
	}}
}

func toplist(title, query string) Widget {
	return Widget{Definition: Definition{
		Type: "toplist", Title: title,
		Requests: []Request{{
			ResponseFormat: "scalar",
			Queries:        []Query{scalarQuery("q", query)},
			Formulas:       []Formula{{Formula: "q", Limit: &Limit{Count: 10, Order: "desc"}}},
		}},
	}}
}

func overview(srcs []*mapper.Source) Widget {
	var names []string
	for _, s := range srcs {
		names = append(names, fmt.Sprintf("`%s` v%d", s.Name(), s.Version()))
	}
	sources := "none"
	if len(names) > 0 {
		sources = strings.Join(names, ", ")
	}
	return Widget{Definition: Definition{
		Type: "group", Title: "All sources", LayoutType: "ordered",
		Widgets: []Widget{
			{Definition: Definition{Type: "note", Content: "Sources: " + sources + ". Failures are tagged by `reason` and normalised `field`; " +
				"`field:other` means the per-source cap on distinct fields was reached, `field:none` a failure without a field."}},
			timeseries("Records by source and outcome", "bars",
				[]Query{metricsQuery("records", "sum:mapper.records{$env} by {source,outcome}.as_count()")},
				Formula{Formula: "records"}),
			timeseries("Mapping time per record (seconds)", "line",
				[]Query{
					metricsQuery("p50", "p50:mapper.map.duration{$env} by {source}"),
					metricsQuery("p99", "p99:mapper.map.duration{$env} by {source}"),
				},
				Formula{Formula: "p50", Alias: "p50"}, Formula{Formula: "p99", Alias: "p99"}),
			timeseries("New failure categories", "bars",
				[]Query{metricsQuery("new", "sum:mapper.failures.new_category{$env} by {source,reason}.as_count()")},
				Formula{Formula: "new"}),
			timeseries("Sentry events by status", "bars",
				[]Query{metricsQuery("events", "sum:mapper.sentry.events{$env} by {status}.as_count()")},
				Formula{Formula: "events"}),
			timeseries("Failures whose field was capped to \"other\"", "bars",
				[]Query{metricsQuery("capped", "sum:mapper.failures.field_capped{$env} by {source}.as_count()")},
				Formula{Formula: "capped"}),
		},
	}}
}

func percent(r float64) string { return strconv.FormatFloat(r*100, 'f', -1, 64) + "%" }

func sourceGroup(s *mapper.Source) Widget {
	name := s.Name()
	f := "source:" + name + ",$env"
	obj := s.Objective().MappedRatio
	title := fmt.Sprintf("Source %s (rules v%d)", name, s.Version())

	ratioQueries := func(q func(string, string) Query) []Query {
		return []Query{
			q("mapped", "sum:mapper.records{"+f+",outcome:mapped}.as_count()"),
			q("degraded", "sum:mapper.records{"+f+",outcome:degraded}.as_count()"),
			q("all", "sum:mapper.records{"+f+"}.as_count()"),
		}
	}
	ratio := Formula{Formula: "(mapped + degraded) / all", Alias: "delivered ratio"}

	ratioTitle := "Mapped ratio (mapped + degraded) / all"
	ratioSeries := timeseries(ratioTitle, "line", ratioQueries(metricsQuery), ratio)
	ratioSeries.Definition.Yaxis = &Axis{Min: "0", Max: "1"}
	ratioNow := Widget{Definition: Definition{
		Type: "query_value", Title: "Mapped ratio over the window", Precision: ptr(3), Autoscale: ptr(false),
		Requests: []Request{{ResponseFormat: "scalar", Queries: ratioQueries(scalarQuery), Formulas: []Formula{ratio}}},
	}}
	if obj > 0 {
		ratioSeries.Definition.Title = ratioTitle + " vs objective " + percent(obj)
		ratioSeries.Definition.Markers = []Marker{{
			Value: "y = " + strconv.FormatFloat(obj, 'f', -1, 64), DisplayType: "error dashed", Label: "objective " + percent(obj),
		}}
		ratioNow.Definition.Title = "Mapped ratio over the window (objective " + percent(obj) + ")"
		ratioNow.Definition.Requests[0].ConditionalFormats = []ConditionalFormat{
			{Comparator: "<", Value: obj, Palette: "white_on_red"},
			{Comparator: ">=", Value: obj, Palette: "white_on_green"},
		}
	}
	sloWidgets := sloStatus(obj, ratioQueries(scalarQuery))

	var lagQueries []Query
	var lagFormulas []Formula
	for i, topic := range s.Topics() {
		q := "lag" + strconv.Itoa(i)
		lagQueries = append(lagQueries, metricsQuery(q, "max:mapper.consumer.lag{topic:"+topic+",$env} by {partition}"))
		lagFormulas = append(lagFormulas, Formula{Formula: q, Alias: topic})
	}

	widgets := []Widget{
		timeseries("Records by outcome", "bars",
			[]Query{metricsQuery("records", "sum:mapper.records{"+f+"} by {outcome}.as_count()")},
			Formula{Formula: "records"}),
		ratioSeries,
		ratioNow,
	}
	widgets = append(widgets, sloWidgets...)
	widgets = append(widgets,
		toplist("Top failure reasons", "sum:mapper.failures{"+f+"} by {reason}.as_count()"),
		toplist("Top failing fields", "sum:mapper.failures{"+f+"} by {field}.as_count()"),
		timeseries("Dead-letter rate (records/s)", "bars",
			[]Query{metricsQuery("dlq", "sum:mapper.dlq.records{"+f+"}.as_rate()")},
			Formula{Formula: "dlq", Alias: "to the dead-letter topic"}),
	)
	if len(lagQueries) > 0 {
		widgets = append(widgets, timeseries("Consumer lag (records) of "+strings.Join(s.Topics(), ", "), "line", lagQueries, lagFormulas...))
	}
	widgets = append(widgets, candidateWidgets(f)...)
	return Widget{Definition: Definition{Type: "group", Title: title, LayoutType: "ordered", Widgets: widgets}}
}

func monitorFilter(opts Options, tags ...string) string {
	if opts.Env != "" {
		tags = append(tags, "env:"+opts.Env)
	}
	if len(tags) == 0 {
		return "{*}"
	}
	return "{" + strings.Join(tags, ",") + "}"
}

func message(opts Options, lines ...string) string {
	msg := strings.Join(lines, "\n")
	if opts.Notify != "" {
		msg += "\n\n" + opts.Notify
	}
	return msg
}

func monitorTags(opts Options, extra ...string) []string {
	tags := []string{"service:mapper", "generated-by:mapper-dashboard"}
	if opts.Env != "" {
		tags = append(tags, "env:"+opts.Env)
	}
	return append(tags, extra...)
}

func objectiveMonitor(s *mapper.Source, opts Options) Monitor {
	name, obj := s.Name(), s.Objective().MappedRatio
	src := "source:" + name
	q := fmt.Sprintf("sum(last_1h):(sum:mapper.records%s.as_count() + sum:mapper.records%s.as_count()) / sum:mapper.records%s.as_count() < %s",
		monitorFilter(opts, src, "outcome:mapped"), monitorFilter(opts, src, "outcome:degraded"), monitorFilter(opts, src),
		strconv.FormatFloat(obj, 'f', -1, 64))
	// Warn halfway between the objective and perfection.
	warn := obj + (1-obj)/2
	return Monitor{
		Name:  fmt.Sprintf("[mapper] %s: mapped ratio below its objective of %s", name, percent(obj)),
		Type:  "query alert",
		Query: q,
		Message: message(opts,
			fmt.Sprintf("{{#is_alert}}Source `%s` delivered {{value}} of its records in the last hour (mapped + degraded / all); the rule's objective is %s.{{/is_alert}}", name, percent(obj)),
			fmt.Sprintf("{{#is_warning}}Source `%s` is close to its objective of %s: {{value}}.{{/is_warning}}", name, percent(obj)),
			"Top failure reasons and fields are on the mapper dashboard; Sentry has one issue per failure category (tag source:"+name+").",
			"List its kept samples with `mapper samples`, show one category with `mapper samples show --source "+name+" --category REASON:FIELD`, change the rules and check them with `mapper replay`."),
		Tags: monitorTags(opts, src),
		Options: MonitorOptions{
			Thresholds:        Thresholds{Critical: obj, Warning: ptr(round(warn))},
			NotifyNoData:      false,
			RequireFullWindow: false,
			IncludeTags:       true,
			RenotifyInterval:  0,
		},
		file: "monitor-" + name + "-objective.json",
	}
}

func round(f float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 6, 64), 64)
	return r
}

func newCategoryMonitor(opts Options) Monitor {
	crit := opts.NewCategoriesPerHour
	return Monitor{
		Name: "[mapper] new failure categories in {{source.name}}",
		Type: "query alert",
		Query: fmt.Sprintf("sum(last_1h):sum:mapper.failures.new_category%s by {source}.as_count() > %d",
			monitorFilter(opts), crit),
		Message: message(opts,
			"{{#is_alert}}Source `{{source.name}}` showed {{value}} new failure categories (reason, field, rules version) in the last hour.{{/is_alert}}",
			"Each new category is one Sentry issue (tag source:{{source.name}}) with a redacted sample attached.",
			"A restart or a new rules version counts the categories it sees again; expect a burst after a deploy."),
		Tags: monitorTags(opts),
		Options: MonitorOptions{
			// No warning threshold: every deploy and restart sees its
			// categories anew, so a warning above 0 would fire on each.
			Thresholds:        Thresholds{Critical: float64(crit)},
			NotifyNoData:      false,
			RequireFullWindow: false,
			IncludeTags:       true,
		},
		file: "monitor-new-failure-categories.json",
	}
}

package dashboard_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"

	"github.com/mapperhq/mapper/mapper/dashboard"
)

// TestSLODecodesIntoTheDatadogClientsType decodes every generated SLO with
// the Datadog API client's own request type: a field it does not know, a
// missing required one or a value outside its enums fails here.
func TestSLODecodesIntoTheDatadogClientsType(t *testing.T) {
	for _, opts := range []dashboard.Options{{}, {Env: "prod"}} {
		files, err := dashboard.Build(loadSources(t), opts).Files()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range files {
			if !strings.HasPrefix(f.Name, "slo-") {
				continue
			}
			n++
			var req datadogV1.ServiceLevelObjectiveRequest
			if err := json.Unmarshal(f.Data, &req); err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			if req.UnparsedObject != nil || len(req.AdditionalProperties) > 0 {
				t.Fatalf("%s: the client did not take every field: unparsed %v, additional %v", f.Name, req.UnparsedObject, req.AdditionalProperties)
			}
			if req.Type != datadogV1.SLOTYPE_METRIC {
				t.Errorf("%s: type %q, want metric", f.Name, req.Type)
			}
			q := req.GetQuery()
			if !strings.Contains(q.Numerator, "outcome:mapped") || !strings.Contains(q.Numerator, "outcome:degraded") || strings.Contains(q.Denominator, "outcome:") {
				t.Errorf("%s: good = %q, total = %q; want mapped + degraded over every record", f.Name, q.Numerator, q.Denominator)
			}
			if opts.Env != "" && !strings.Contains(q.Denominator, "env:prod") {
				t.Errorf("%s: total %q is not scoped to env:prod", f.Name, q.Denominator)
			}
			var frames []string
			for _, th := range req.Thresholds {
				if !th.Timeframe.IsValid() || th.UnparsedObject != nil {
					t.Errorf("%s: threshold %+v is not one the client accepts", f.Name, th)
				}
				if th.Target != 95 {
					t.Errorf("%s: target %v, want the objective 0.95 as 95", f.Name, th.Target)
				}
				frames = append(frames, string(th.Timeframe))
			}
			if strings.Join(frames, ",") != "7d,30d" {
				t.Errorf("%s: time frames %v, want 7d and 30d", f.Name, frames)
			}
		}
		if n != 1 {
			t.Fatalf("%d SLO files, want 1 (the one source with an objective)", n)
		}
	}
}

func TestDashboardShowsSLOStatusAndBudget(t *testing.T) {
	set := dashboard.Build(loadSources(t), dashboard.Options{})
	var titles []string
	walk(set.Dashboard.Widgets, func(d dashboard.Definition) {
		if d.Time != nil {
			titles = append(titles, d.Title+" @"+d.Time.LiveSpan)
		}
	})
	want := "SLO status, 7 days (target 95%) @1w|Error budget left, 30 days @1mo"
	if got := strings.Join(titles, "|"); got != want {
		t.Errorf("SLO widgets %q, want %q", got, want)
	}
}

package dashboard

import "fmt"

// candidateWidgets show, for the source filter f, what candidate rules
// tried in shadow or canary make of the records (by candidate version and
// verdict), and the records delivered per rules version side by side with
// canary rollbacks.
func candidateWidgets(f string) []Widget {
	return []Widget{
		timeseries("Candidate rules: records by verdict", "bars",
			[]Query{metricsQuery("verdicts", "sum:mapper.candidate.records{"+f+"} by {candidate_version,verdict}.as_count()")},
			Formula{Formula: "verdicts"}),
		timeseries("Records by rules version (live and canary) and canary rollbacks", "bars",
			[]Query{
				metricsQuery("versions", "sum:mapper.records{"+f+"} by {rules_version}.as_count()"),
				metricsQuery("rollbacks", "sum:mapper.candidate.rollbacks{"+f+"} by {candidate_version}.as_count()"),
			},
			Formula{Formula: "versions"}, Formula{Formula: "rollbacks", Alias: "canary rollbacks"}),
	}
}

// newlyFailingMonitor alerts when candidate rules reject records that the
// live rules deliver.
func newlyFailingMonitor(opts Options) Monitor {
	return Monitor{
		Name: "[mapper] candidate rules of {{source.name}} reject records the live rules deliver",
		Type: "query alert",
		Query: fmt.Sprintf("sum(last_1h):sum:mapper.candidate.records%s by {source,candidate_version}.as_count() > 0",
			monitorFilter(opts, "verdict:newly_failing")),
		Message: message(opts,
			"{{#is_alert}}Candidate rules v{{candidate_version.name}} of source `{{source.name}}` reject {{value}} records in the last hour that the live rules deliver (verdict newly_failing).{{/is_alert}}",
			"Do not promote them. Show the records with `mapper samples show --source {{source.name}} --category candidate:newly_failing`, and check a fix with `mapper replay --rules CANDIDATE_DIR`.",
			"In canary mode the worker rolls the candidate back by itself when its delivered ratio drops more than --canary-max-drop."),
		Tags: monitorTags(opts),
		Options: MonitorOptions{
			Thresholds:        Thresholds{Critical: 0},
			NotifyNoData:      false,
			RequireFullWindow: false,
			IncludeTags:       true,
		},
		file: "monitor-candidate-newly-failing.json",
	}
}

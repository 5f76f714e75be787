package metrics

// MetricDriftFields is the gauge of fields whose traffic drifts from a
// source's input schema, tagged source and kind (new_property,
// absent_required, new_type, new_enum_value): sources times four kinds,
// so its tags are bounded.
const MetricDriftFields = "drift.fields"

// DriftFields sets the gauge mapper.drift.fields of one source and drift
// kind to n, the fields drifting (see package drift). Safe for concurrent
// use; nil does nothing.
func (c *Client) DriftFields(source, kind string, n int) {
	if c == nil {
		return
	}
	_ = c.sd.Gauge(MetricDriftFields, float64(n), c.simpleTags(MetricDriftFields, "source:"+sourceTag(source), "kind:"+tagValue(kind)), 1)
}

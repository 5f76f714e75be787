package mapper

// Mapper maps payloads, reusing its parse buffers between calls. The zero
// value is ready to use. A Mapper is not safe for concurrent use: keep one
// per goroutine.
type Mapper struct {
}

// Map maps payload with the rules of s into res, reusing res.Output and
// res.Failures' backing arrays: whatever res held before is overwritten.
func (m *Mapper) Map(s *Source, payload []byte, res *Result) {
	res.Outcome = OutcomeRejected
	res.Output = append(res.Output[:0], "null"...)
	res.Failures = append(res.Failures[:0], Failure{Reason: ReasonMalformedPayload, Detail: "engine under construction"})
}

type plan struct{}

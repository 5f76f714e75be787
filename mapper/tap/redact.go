package tap

import "github.com/mapperhq/mapper/mapper"

// redact masks a record's value with its source's redact paths through the
// engine's redaction: a rejected record's value is the original payload
// (Redact), a delivered one's the domain record (RedactOutput). The second
// result says why a value is withheld; it is always "" here, as every
// outcome has its redaction.
func redact(src *mapper.Source, outcome mapper.Outcome, value []byte) ([]byte, string) {
	if outcome == mapper.OutcomeRejected {
		return src.Redact(value), ""
	}
	return src.RedactOutput(value), ""
}

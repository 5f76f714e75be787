package tap

import "github.com/mapperhq/mapper/mapper"

// redact masks a record's value with its source's redact paths, or
// withholds it (nil and why). A rejected record's value is the original
// payload, which the engine's Redact masks. A delivered record's value is
// the domain record, whose fields need not sit at the input's paths: it is
// withheld until the engine redacts outputs.
func redact(src *mapper.Source, outcome mapper.Outcome, value []byte) ([]byte, string) {
	if outcome == mapper.OutcomeRejected {
		return src.Redact(value), ""
	}
	return nil, "output values are not shown: the engine does not redact outputs yet"
}

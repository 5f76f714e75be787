package mapper

import (
	"fmt"
	"strconv"
	"time"
)

// Reason is a stable failure code. Reason codes are metric tags, dead-letter
// headers, sample folder names and Sentry fingerprints: they never change
// meaning once shipped.
type Reason string

// The failure taxonomy. See docs/rules.md ("Reason codes") for what each one means.
const (
	ReasonMalformedPayload Reason = "malformed_payload"
	ReasonMissingField     Reason = "missing_field"
	ReasonNullField        Reason = "null_field"
	ReasonTypeMismatch     Reason = "type_mismatch"
	ReasonInvalidFormat    Reason = "invalid_format"
	ReasonUnknownEnum      Reason = "unknown_enum"
	ReasonOutOfRange       Reason = "out_of_range"
	ReasonUnexpectedField  Reason = "unexpected_field"
	ReasonDefaulted        Reason = "defaulted"
	ReasonOutputInvalid    Reason = "output_invalid"
	ReasonUnknownSource    Reason = "unknown_source"
)

// Unrouted is the one name every output gives the records that no source
// accepts (their failure is unknown_source): where a source name would
// stand, they are "unrouted".
const Unrouted = "unrouted"

// Reasons returns every reason code in the order of the taxonomy.
func Reasons() []Reason {
	return []Reason{
		ReasonMalformedPayload, ReasonMissingField, ReasonNullField, ReasonTypeMismatch,
		ReasonInvalidFormat, ReasonUnknownEnum, ReasonOutOfRange, ReasonUnexpectedField,
		ReasonDefaulted, ReasonOutputInvalid, ReasonUnknownSource,
	}
}

// Severity is the outcome a failure of this reason leads to on its own:
// OutcomeDegraded for unexpected_field and defaulted, OutcomeRejected for the rest.
func (r Reason) Severity() Outcome {
	switch r {
	case ReasonUnexpectedField, ReasonDefaulted:
		return OutcomeDegraded
	}
	return OutcomeRejected
}

// Valid reports whether r is one of the taxonomy's codes.
func (r Reason) Valid() bool {
	for _, x := range Reasons() {
		if r == x {
			return true
		}
	}
	return false
}

// Outcome is what became of one record.
type Outcome string

const (
	// OutcomeMapped: clean; the domain record goes to the output topic.
	OutcomeMapped Outcome = "mapped"
	// OutcomeDegraded: mapped, but a default was used or an unexpected field
	// seen; it goes to the output topic, counted with its reasons.
	OutcomeDegraded Outcome = "degraded"
	// OutcomeRejected: cannot be mapped; the original bytes go to the
	// dead-letter topic.
	OutcomeRejected Outcome = "rejected"
)

// Outcomes returns the three outcomes in order of severity.
func Outcomes() []Outcome { return []Outcome{OutcomeMapped, OutcomeDegraded, OutcomeRejected} }

// Delivered reports whether records of this outcome go to the output topic.
func (o Outcome) Delivered() bool { return o == OutcomeMapped || o == OutcomeDegraded }

// Failure is one reason a record could not be mapped cleanly.
//
// Field is a normalised path: dot-separated keys, "[]" for array elements and
// never an index ("items[].sku"). Input-side failures name the path in the
// third party's payload; output_invalid names the path in the domain record;
// malformed_payload and unknown_source have an empty field.
type Failure struct {
	Reason Reason `json:"reason"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
	// soft: an input-contract failure at a field no rule reads, which only
	// degrades the record (input_contract: {unread: degrade}).
	soft bool
}

// severity is the outcome this failure leads to on its own.
func (f *Failure) severity() Outcome {
	if f.soft {
		return OutcomeDegraded
	}
	return f.Reason.Severity()
}

// Category is the failure category key "reason" or "reason:field": the unit
// that metrics, samples and Sentry group by.
func (f Failure) Category() Category { return Category{Reason: f.Reason, Field: f.Field} }

// Category is a failure category within one source: a reason and a field.
type Category struct {
	Reason Reason
	Field  string
}

// String returns "reason" when the field is empty, "reason:field" otherwise.
func (c Category) String() string {
	if c.Field == "" {
		return string(c.Reason)
	}
	return string(c.Reason) + ":" + c.Field
}

// Result is what mapping one payload gives.
type Result struct {
	// Outcome is mapped, degraded or rejected: rejected when a failure's
	// reason rejects, except an input-schema failure at a field that no rule
	// reads, which only degrades under the source's default input contract
	// (its detail then ends with "so the record is delivered").
	Outcome Outcome
	// Output is the domain record as compact JSON: complete for mapped and
	// degraded records, partial (what could be mapped) for rejected ones,
	// "null" when nothing could be read at all.
	Output []byte
	// Failures lists every failure of the record in a deterministic order
	// (the order of the rules, then of the schema checks), with no duplicate
	// (reason, field) pair. Empty for mapped records.
	Failures []Failure
}

// AppendJSON appends the result as one compact JSON object:
// {"outcome":"…","output":{…},"failures":[{"reason":"…","field":"…","detail":"…"}]}.
func (r *Result) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"outcome":`...)
	dst = strconv.AppendQuote(dst, string(r.Outcome))
	dst = append(dst, `,"output":`...)
	if len(r.Output) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, r.Output...)
	}
	dst = append(dst, `,"failures":[`...)
	for i, f := range r.Failures {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"reason":`...)
		dst = appendJSONString(dst, string(f.Reason))
		dst = append(dst, `,"field":`...)
		dst = appendJSONString(dst, f.Field)
		dst = append(dst, `,"detail":`...)
		dst = appendJSONString(dst, f.Detail)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// MarshalJSON implements json.Marshaler with the same shape as AppendJSON.
func (r Result) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// Clone returns a deep copy of r that does not share memory with it, for
// callers that keep a result past the next call that reuses it.
func (r *Result) Clone() Result {
	c := Result{Outcome: r.Outcome}
	if r.Output != nil {
		c.Output = append([]byte(nil), r.Output...)
	}
	if len(r.Failures) > 0 {
		c.Failures = append([]Failure(nil), r.Failures...)
	}
	return c
}

// Objective is the measurable goal of a source.
type Objective struct {
	// MappedRatio is the share of records that should reach the output topic
	// (mapped or degraded) out of all records of the source. Zero means none set.
	MappedRatio float64
}

// Header is one record header.
type Header struct {
	Key   string
	Value []byte
}

// Origin says where a record came from. Topic, Partition and Offset are
// zero-valued for payloads that did not come from Kafka.
type Origin struct {
	Topic     string
	Partition int
	Offset    int64
	Key       []byte
	Headers   []Header
	Time      time.Time
	// SchemaID is the Schema Registry id of an input value framed in the
	// Confluent wire format (magic byte 0, 4-byte id), 0 for one that is
	// not framed.
	SchemaID int
}

// ParseReason returns the reason code s names; an unknown name is an error
// that suggests the closest code, or lists them all.
func ParseReason(s string) (Reason, error) {
	if r := Reason(s); r.Valid() {
		return r, nil
	}
	names := make([]string, 0, len(Reasons()))
	for _, r := range Reasons() {
		names = append(names, string(r))
	}
	return "", fmt.Errorf("unknown reason %q%s", s, didYouMean(s, names))
}

package tap

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/mapperhq/mapper/mapper"
)

// DefaultMaxValueBytes is how much of a value WriteText prints.
const DefaultMaxValueBytes = 2048

// WriteText writes r for a person: one line of coordinates and headers,
// one line per failure, and the (redacted) value, cut after maxValue bytes
// (DefaultMaxValueBytes when zero).
func WriteText(w io.Writer, r *Record, maxValue int) error {
	if maxValue <= 0 {
		maxValue = DefaultMaxValueBytes
	}
	src := r.Source
	if src == "" {
		src = mapper.Unrouted
	} else {
		src += " v" + strconv.Itoa(r.RulesVersion)
	}
	_, err := fmt.Fprintf(w, "%s  %s  %s  %s", r.Ref(), r.Time.UTC().Format(time.RFC3339), orDash(r.Outcome), src)
	if err != nil {
		return err
	}
	if r.OriginTopic != "" {
		fmt.Fprintf(w, "  from %s/%d@%d", r.OriginTopic, r.OriginPartition, r.OriginOffset)
	}
	if len(r.Key) > 0 {
		fmt.Fprintf(w, "  key %q", r.Key)
	}
	fmt.Fprintln(w)
	if r.SchemaID != 0 {
		fmt.Fprintf(w, "  schema id %d", r.SchemaID)
		if r.Schema != "" {
			fmt.Fprintf(w, " (%s)", r.Schema)
		}
		fmt.Fprintln(w)
	}
	for _, f := range r.Failures {
		if f.Detail != "" {
			fmt.Fprintf(w, "  failure %s: %s\n", f.Category(), f.Detail)
		} else {
			fmt.Fprintf(w, "  failure %s\n", f.Category())
		}
	}
	for _, h := range r.Headers {
		fmt.Fprintf(w, "  header %s: %q\n", h.Key, h.Value)
	}
	if r.Withheld != "" {
		_, err = fmt.Fprintf(w, "  value withheld: %s\n", r.Withheld)
		return err
	}
	v := r.Value
	cut := ""
	if len(v) > maxValue {
		n := maxValue
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		v, cut = v[:n], fmt.Sprintf("… (%d bytes in all)", len(r.Value))
	}
	if utf8.Valid(v) {
		_, err = fmt.Fprintf(w, "  value %s%s\n", v, cut)
	} else {
		_, err = fmt.Fprintf(w, "  value %q%s\n", v, cut)
	}
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// jsonRecord is the JSON form of a Record: one object a line.
type jsonRecord struct {
	Topic           string          `json:"topic"`
	Partition       int             `json:"partition"`
	Offset          int64           `json:"offset"`
	Time            time.Time       `json:"time"`
	Key             string          `json:"key,omitempty"`
	Source          string          `json:"source,omitempty"`
	RulesVersion    int             `json:"rules_version,omitempty"`
	Outcome         string          `json:"outcome,omitempty"`
	Failures        []jsonFailure   `json:"failures,omitempty"`
	OriginTopic     string          `json:"origin_topic,omitempty"`
	OriginPartition int             `json:"origin_partition"`
	OriginOffset    int64           `json:"origin_offset"`
	Headers         []jsonHeader    `json:"headers,omitempty"`
	Value           json.RawMessage `json:"value,omitempty"`
	ValueText       string          `json:"value_text,omitempty"` // a value that is not JSON
	Withheld        string          `json:"value_withheld,omitempty"`
	SchemaID        int             `json:"schema_id,omitempty"`
	Schema          string          `json:"schema,omitempty"`
}

type jsonFailure struct {
	Reason string `json:"reason"`
	Field  string `json:"field,omitempty"`
	Detail string `json:"detail,omitempty"`
}

type jsonHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// WriteJSON writes r as one JSON object and a newline.
func WriteJSON(w io.Writer, r *Record) error {
	j := jsonRecord{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Time: r.Time.UTC(), Key: string(r.Key),
		Source: r.Source, RulesVersion: r.RulesVersion, Outcome: r.Outcome,
		OriginTopic: r.OriginTopic, OriginPartition: r.OriginPartition, OriginOffset: r.OriginOffset,
		Withheld: r.Withheld, SchemaID: r.SchemaID, Schema: r.Schema,
	}
	for _, f := range r.Failures {
		j.Failures = append(j.Failures, jsonFailure{string(f.Reason), f.Field, f.Detail})
	}
	for _, h := range r.Headers {
		j.Headers = append(j.Headers, jsonHeader{h.Key, string(h.Value)})
	}
	if r.Value != nil {
		if json.Valid(r.Value) {
			j.Value = r.Value
		} else {
			j.ValueText = string(r.Value)
		}
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

package statuspage

import (
	"encoding/json"

	"github.com/mapperhq/mapper/mapper/drift"
	"github.com/mapperhq/mapper/mapper/stream"
)

// Document is the part of the /status JSON the page shows. Keys it does not
// know are ignored; keys that are absent leave their field zero.
type Document struct {
	State           string   `json:"state"`
	Ready           bool     `json:"ready"`
	NotReadyReason  string   `json:"not_ready_reason"`
	Group           string   `json:"group"`
	Topics          []string `json:"topics"`
	OutputTopic     string   `json:"output_topic"`
	DeadLetterTopic string   `json:"dead_letter_topic"`
	Counts          struct {
		Mapped      int64           `json:"mapped"`
		Degraded    int64           `json:"degraded"`
		Rejected    int64           `json:"rejected"`
		Sources     []SourceCounts  `json:"sources"`
		TopFailures []CategoryCount `json:"top_failures"`
	} `json:"counts"`
	Lag      []PartitionLag `json:"lag"`
	LagTotal int64          `json:"lag_total"`
	LagError string         `json:"lag_error"`
	History  []Minute       `json:"history"`
	// Rules is the rules versions loaded, when the worker reports them: an
	// object {source: version} or a list of {source, version} objects.
	Rules json.RawMessage `json:"rules"`
	// Candidate is the candidate rules' state, when candidate rules run.
	Candidate *Candidate `json:"candidate"`
	// Drift is every source's drift report, when the worker keeps them.
	Drift []drift.Report `json:"drift"`
	// SchemaRegistry is the registry the output is framed for and each
	// source's subject and schema id; nil without one.
	SchemaRegistry *SchemaRegistry `json:"schema_registry"`
}

// The /status document's parts as the worker writes them.
type (
	SourceCounts  = stream.SourceCounts
	CategoryCount = stream.CategoryCount
	PartitionLag  = stream.PartitionLag
	Minute        = stream.MinuteCounts
)

// Candidate is the state of candidate rules running beside the live ones.
type Candidate struct {
	Mode       string           `json:"mode"`
	Versions   json.RawMessage  `json:"versions"`
	Verdicts   map[string]int64 `json:"verdicts"`
	RolledBack json.RawMessage  `json:"rolled_back"`
}

// SchemaRegistry is the worker's Schema Registry section.
type SchemaRegistry struct {
	URL      string `json:"url"`
	NotReady string `json:"not_ready"`
	Subjects []struct {
		Source    string `json:"source"`
		Candidate bool   `json:"candidate"`
		Subject   string `json:"subject"`
		Version   int    `json:"version"`
		SchemaID  int    `json:"schema_id"`
	} `json:"subjects"`
}

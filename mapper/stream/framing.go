package stream

import "github.com/mapperhq/mapper/mapper"

// Framing frames the values of output records for a schema registry and
// unframes input values (package registry's Client is one). Config.Framing
// nil means plain JSON both ways. Its methods are called from the mapping
// goroutines and must be safe for concurrent use.
type Framing interface {
	// Unframe returns the payload of an input value and the schema id it
	// was framed with; a value that is not framed comes back as is, with
	// id 0. It must not copy or change value.
	Unframe(value []byte) (payload []byte, schemaID int)
	// Prefix returns the bytes written before the output of src's records
	// (the magic byte and schema id), nil for none. The worker does not
	// change them.
	Prefix(src *mapper.Source) []byte
	// NotReady says why the worker must not be reported ready ("" when
	// nothing keeps it from being ready).
	NotReady() string
	// Status is shown under "schema_registry" on /status.
	Status() any
}

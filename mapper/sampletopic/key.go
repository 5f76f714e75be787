package sampletopic

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
)

// Kind is what a record of the topic holds.
type Kind string

// The kinds of record.
const (
	KindSample    Kind = "sample"
	KindSeen      Kind = "seen"
	KindRecords   Kind = "records"
	KindAnnounced Kind = "announced"
	KindValues    Kind = "values"
	KindDrift     Kind = "drift"
	KindShapes    Kind = "shapes"
)

// maxKeyBytes bounds a key; longer keys are not ours.
const maxKeyBytes = 4 << 10

// Key names one record of the topic. Which fields are set depends on Kind:
// sample (Source, Category, Slot), seen and values (Source, Category,
// Worker), records and drift (Source, Worker), shapes (Worker; Source is
// empty: the records no source accepts), announced (Source, RulesVersion,
// Category).
type Key struct {
	Kind         Kind
	Source       string
	Category     string
	Slot         int
	Worker       string
	RulesVersion int
}

// Bytes encodes the key as a JSON array (see the package documentation).
func (k Key) Bytes() []byte {
	var v []any
	switch k.Kind {
	case KindSample:
		v = []any{k.Kind, k.Source, k.Category, k.Slot}
	case KindSeen, KindValues:
		v = []any{k.Kind, k.Source, k.Category, k.Worker}
	case KindRecords, KindDrift, KindShapes:
		v = []any{k.Kind, k.Source, k.Worker}
	case KindAnnounced:
		v = []any{k.Kind, k.Source, k.RulesVersion, k.Category}
	default:
		v = []any{k.Kind}
	}
	b, _ := json.Marshal(v) // strings and ints only: cannot fail
	return b
}

func (k Key) String() string { return string(k.Bytes()) }

// ErrBadKey is wrapped by ParseKey's errors.
var ErrBadKey = errors.New("not a samples topic key")

// ParseKey decodes a key written by Key.Bytes.
func ParseKey(b []byte) (Key, error) {
	if len(b) > maxKeyBytes {
		return Key{}, fmt.Errorf("%w: %d bytes, more than %d", ErrBadKey, len(b), maxKeyBytes)
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil || len(parts) == 0 {
		return Key{}, fmt.Errorf("%w: %q is not a JSON array", ErrBadKey, truncate(b))
	}
	var k Key
	if err := json.Unmarshal(parts[0], &k.Kind); err != nil {
		return Key{}, fmt.Errorf("%w: %q: first element is not a kind", ErrBadKey, truncate(b))
	}
	want := map[Kind]int{KindSample: 4, KindSeen: 4, KindValues: 4, KindRecords: 3, KindDrift: 3, KindShapes: 3, KindAnnounced: 4}[k.Kind]
	if want == 0 {
		return Key{}, fmt.Errorf("%w: %q: unknown kind %q", ErrBadKey, truncate(b), k.Kind)
	}
	if len(parts) != want {
		return Key{}, fmt.Errorf("%w: %q: a %s key has %d elements, not %d", ErrBadKey, truncate(b), k.Kind, want, len(parts))
	}
	var err error
	str := func(i int, dst *string) {
		if err == nil && json.Unmarshal(parts[i], dst) != nil {
			err = fmt.Errorf("%w: %q: element %d of a %s key is not a string", ErrBadKey, truncate(b), i+1, k.Kind)
		}
	}
	num := func(i int, dst *int) {
		if err == nil && (json.Unmarshal(parts[i], dst) != nil || *dst < 0) {
			err = fmt.Errorf("%w: %q: element %d of a %s key is not a whole number", ErrBadKey, truncate(b), i+1, k.Kind)
		}
	}
	str(1, &k.Source)
	switch k.Kind {
	case KindSample:
		str(2, &k.Category)
		num(3, &k.Slot)
	case KindSeen, KindValues:
		str(2, &k.Category)
		str(3, &k.Worker)
	case KindRecords, KindDrift, KindShapes:
		str(2, &k.Worker)
	case KindAnnounced:
		num(2, &k.RulesVersion)
		str(3, &k.Category)
	}
	return k, err
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// Partition is the partition of a topic with n partitions that key always
// goes to: FNV-1a of the key, modulo n.
func Partition(key []byte, n int) int {
	h := fnv.New32a()
	h.Write(key)
	return int(h.Sum32() % uint32(n))
}

package mapper

import "fmt"

// The details of the compiled checks' failures, written here once for both
// of their readers: the walk over a parsed value (checkNode.run) and the
// strict scan over the bytes (scancheck.go), which must say exactly what
// the walk says. v is the value as describeValue writes it (a string
// quoted and cut short, a number as written, a container by its type).

const (
	detailNotAllowed    = "not allowed by the schema"
	detailNotInContract = "property not in the contract"
	detailRequired      = "required property is absent"
)

// typeReason is the reason of a value of type vt that is not of the
// schema's types: null_field for a null, type_mismatch for any other.
func typeReason(vt jsonType) Reason {
	if vt == tNull {
		return ReasonNullField
	}
	return ReasonTypeMismatch
}

// typeDetail: a value of type vt where the schema wants one of want.
func typeDetail(vt, want jsonType) string { return typeName(vt) + ", expected " + typeList(want) }

func constDetail(v string) string { return v + " is not the expected constant" }

func enumDetail(v string, enum []enumValue) string { return v + " is not one of " + enumList(enum) }

// lengthDetail: a string of l characters against its bound (limit
// "minimum" or "maximum").
func lengthDetail(l int, limit string, bound int) string {
	return fmt.Sprintf("length %d, %s %d", l, limit, bound)
}

// countDetail: an array or object of n items or properties (unit)
// against its bound (limit "minimum" or "maximum").
func countDetail(n int, unit, limit string, bound int) string {
	return fmt.Sprintf("%d %s, %s %d", n, unit, limit, bound)
}

func patternDetail(v string, n *checkNode) string { return v + " does not match " + n.pattern.String() }

func formatDetail(v string, n *checkNode) string { return v + " is not a valid " + n.formatName }

func belowMinDetail(v string) string { return v + " is below the minimum" }

func aboveMaxDetail(v string) string { return v + " is above the maximum" }

func multipleDetail(v string, n *checkNode) string {
	return v + " is not a multiple of " + n.multipleOf.RatString()
}

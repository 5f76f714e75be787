package mapper

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"
	"golang.org/x/text/currency"
)

// tv is a value moving through a transform chain. Strings point into the
// parsed payload or the Mapper's scratch buffer and live until the next Map.
type tv struct {
	k      tvKind
	s      string          // kString: the text; kNumber: the number as written
	b      bool            // kBool
	v      *fastjson.Value // kArray, kObject
	lo, hi int             // kStrings: m.strs[lo:hi]
}

type tvKind uint8

const (
	kNull tvKind = iota
	kString
	kNumber
	kBool
	kArray
	kObject
	kStrings
)

func (k tvKind) String() string {
	switch k {
	case kNull:
		return typeName(tNull)
	case kString:
		return typeName(tString)
	case kNumber:
		return typeName(tNumber)
	case kBool:
		return typeName(tBool)
	case kArray, kStrings:
		return typeName(tArray)
	}
	return typeName(tObject)
}

func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// fromValue wraps a parsed value.
func (m *Mapper) fromValue(v *fastjson.Value) tv {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return tv{k: kString, s: b2s(b)}
	case fastjson.TypeNumber:
		return tv{k: kNumber, s: m.rawNumber(v)}
	case fastjson.TypeTrue:
		return tv{k: kBool, b: true}
	case fastjson.TypeFalse:
		return tv{k: kBool}
	case fastjson.TypeArray:
		return tv{k: kArray, v: v}
	case fastjson.TypeObject:
		return tv{k: kObject, v: v}
	}
	return tv{k: kNull}
}

// rawNumber returns the number's text as written, copied into scratch.
func (m *Mapper) rawNumber(v *fastjson.Value) string {
	start := len(m.scratch)
	m.scratch = v.MarshalTo(m.scratch)
	return b2s(m.scratch[start:])
}

// transformArg is the argument a transform was given in the rule.
type transformArg struct {
	str     string   // split/join separator
	n       int      // decimal_to_minor digits
	layouts []string // timestamp: extra layouts
	// unit is the timestamp's unit for Unix times, as the power of ten of
	// units per second (0 s, 3 ms, 6 µs, 9 ns); -1 when it is not given.
	unit int
	// minor_to_decimal: places is the number of decimal places, unless
	// currency names the path of an ISO 4217 code that gives them per
	// record; asString writes the amount as a string (the output schema
	// wants one there).
	places   int
	currency *srcPath
	asString bool
}

type transformFn func(m *Mapper, in tv, arg *transformArg) (tv, Reason, string)

// argKind is the kind of argument a transform takes in a rule
// ({name: argument}).
type argKind uint8

const (
	argNone      argKind = iota // takes no argument
	argSeparator                // a non-empty string (split, join)
	argDigits                   // a number of decimal places, 0-18 (decimal_to_minor)
	argTimestamp                // Go time layouts, or {unit, layouts} (timestamp)
	argMinor                    // decimal places 0-18, or {currency_from: PATH} (minor_to_decimal); required
)

// transformDef is one transform of the rules language.
type transformDef struct {
	name string
	fn   transformFn
	arg  argKind
	// in is the JSON types the transform accepts; anything else is a
	// type_mismatch. The static checks compare it with the input schema.
	in jsonType
	// out is the JSON type it gives; 0 means the type it was given.
	out jsonType
}

// transformTable lists every transform: the one place that names them.
func transformTable() []transformDef {
	const num = tNumber | tInteger
	return []transformDef{
		{name: "trim", fn: tfTrim, in: tString | tArray},
		{name: "lowercase", fn: tfLower, in: tString | tArray},
		{name: "uppercase", fn: tfUpper, in: tString | tArray},
		{name: "int", fn: tfInt, in: num | tString, out: tInteger},
		{name: "float", fn: tfFloat, in: num | tString, out: num},
		{name: "bool", fn: tfBool, in: tBool | tString | num, out: tBool},
		{name: "string", fn: tfString, in: tString | num | tBool, out: tString},
		{name: "count", fn: tfCount, in: tArray, out: tInteger},
		{name: "decimal_to_minor", fn: tfDecimalToMinor, arg: argDigits, in: num | tString, out: tInteger},
		{name: "minor_to_decimal", fn: tfMinorToDecimal, arg: argMinor, in: num | tString, out: num | tString},
		{name: "timestamp", fn: tfTimestamp, arg: argTimestamp, in: tString | num, out: tString},
		{name: "split", fn: tfSplit, arg: argSeparator, in: tString, out: tArray},
		{name: "join", fn: tfJoin, arg: argSeparator, in: tArray, out: tString},
	}
}

// lookupTransform finds a transform by name; the list of names is given
// for a did-you-mean when there is none.
func lookupTransform(name string) (transformDef, []string, bool) {
	table := transformTable()
	names := make([]string, len(table))
	for i, d := range table {
		if d.name == name {
			return d, nil, true
		}
		names[i] = d.name
	}
	return transformDef{}, names, false
}

func mismatch(want string, in tv) (tv, Reason, string) {
	return tv{}, ReasonTypeMismatch, in.k.String() + ", expected " + want
}

// mapStrings applies f to a string or to every string of a split result.
func mapStrings(m *Mapper, in tv, f func(string) string) (tv, Reason, string) {
	switch in.k {
	case kString:
		return tv{k: kString, s: f(in.s)}, "", ""
	case kStrings:
		for i := in.lo; i < in.hi; i++ {
			m.strs[i] = f(m.strs[i])
		}
		return in, "", ""
	}
	return mismatch("string", in)
}

func tfTrim(m *Mapper, in tv, _ *transformArg) (tv, Reason, string) {
	return mapStrings(m, in, strings.TrimSpace)
}

func tfLower(m *Mapper, in tv, _ *transformArg) (tv, Reason, string) {
	return mapStrings(m, in, m.lower)
}

func tfUpper(m *Mapper, in tv, _ *transformArg) (tv, Reason, string) {
	return mapStrings(m, in, m.upper)
}

// lower lower-cases s, copying into scratch only when it changes.
func (m *Mapper) lower(s string) string { return m.changeCase(s, 'A', 'Z', 'a'-'A', strings.ToLower) }

// upper upper-cases s, copying into scratch only when it changes.
func (m *Mapper) upper(s string) string { return m.changeCase(s, 'a', 'z', 'A'-'a', strings.ToUpper) }

// changeCase shifts the ASCII letters from..to by delta, in scratch and
// only when one is present; text with non-ASCII letters goes to slow.
func (m *Mapper) changeCase(s string, from, to byte, delta int, slow func(string) string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return slow(s)
		}
		if from <= c && c <= to {
			start := len(m.scratch)
			m.scratch = append(m.scratch, s...)
			b := m.scratch[start:]
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= utf8.RuneSelf {
					m.scratch = m.scratch[:start]
					return slow(s)
				} else if from <= c && c <= to {
					b[j] = byte(int(c) + delta)
				}
			}
			return b2s(b)
		}
	}
	return s
}

func (m *Mapper) keepInt(n int64) string {
	start := len(m.scratch)
	m.scratch = strconv.AppendInt(m.scratch, n, 10)
	return b2s(m.scratch[start:])
}

func (m *Mapper) keepFloat(f float64) string {
	start := len(m.scratch)
	m.scratch = strconv.AppendFloat(m.scratch, f, 'g', -1, 64)
	return b2s(m.scratch[start:])
}

// numericText is the text of a number, or of a string trimmed of spaces;
// false for any other kind.
func numericText(in tv) (string, bool) {
	switch in.k {
	case kNumber:
		return in.s, true
	case kString:
		return strings.TrimSpace(in.s), true
	}
	return "", false
}

// tfInt reads a whole number exactly through the decimal owner: 4.0,
// "42", 1e3 and -0 are integers, 4.5 and 1.0000000000000001 are
// invalid_format, and one beyond 64 bits is out_of_range. A number
// already written as a plain integer keeps its text.
func tfInt(m *Mapper, in tv, _ *transformArg) (tv, Reason, string) {
	var text string
	switch in.k {
	case kNumber:
		// JSON wrote it as an integer of at most 18 digits: it is one.
		if len(in.s) <= 18 && in.s != "-0" && !hasFractionOrExp(in.s) {
			return in, "", ""
		}
		text = in.s
	case kString:
		text = strings.TrimSpace(in.s)
	default:
		return mismatch("number or numeric string", in)
	}
	n, reason, detail := decimalToInt(text)
	if reason != "" {
		return tv{}, reason, detail
	}
	return tv{k: kNumber, s: m.keepInt(n)}, "", ""
}

func tfFloat(m *Mapper, in tv, _ *transformArg) (tv, Reason, string) {
	switch in.k {
	case kNumber:
		return in, "", ""
	case kString:
		f, err := strconv.ParseFloat(strings.TrimSpace(in.s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return tv{}, ReasonInvalidFormat, quoteShort(in.s) + " is not a number"
		}
		return tv{k: kNumber, s: m.keepFloat(f)}, "", ""
	}
	return mismatch("number or numeric string", in)
}

func tfBool(_ *Mapper, in tv, _ *transformArg) (tv, Reason, string) {
	switch in.k {
	case kBool:
		return in, "", ""
	case kString:
		switch strings.ToLower(strings.TrimSpace(in.s)) {
		case "true", "yes", "y", "1", "on":
			return tv{k: kBool, b: true}, "", ""
		case "false", "no", "n", "0", "off":
			return tv{k: kBool}, "", ""
		}
		return tv{}, ReasonInvalidFormat, quoteShort(in.s) + " is not a boolean"
	case kNumber:
		switch in.s {
		case "1":
			return tv{k: kBool, b: true}, "", ""
		case "0":
			return tv{k: kBool}, "", ""
		}
		return tv{}, ReasonInvalidFormat, in.s + " is not a boolean (0 or 1)"
	}
	return mismatch("boolean", in)
}

func tfString(_ *Mapper, in tv, _ *transformArg) (tv, Reason, string) {
	switch in.k {
	case kString:
		return in, "", ""
	case kNumber:
		return tv{k: kString, s: in.s}, "", ""
	case kBool:
		if in.b {
			return tv{k: kString, s: "true"}, "", ""
		}
		return tv{k: kString, s: "false"}, "", ""
	}
	return mismatch("string, number or boolean", in)
}

func tfCount(m *Mapper, in tv, _ *transformArg) (tv, Reason, string) {
	switch in.k {
	case kArray:
		a, _ := in.v.Array()
		return tv{k: kNumber, s: m.keepInt(int64(len(a)))}, "", ""
	case kStrings:
		return tv{k: kNumber, s: m.keepInt(int64(in.hi - in.lo))}, "", ""
	}
	return mismatch("array", in)
}

// tfDecimalToMinor turns a decimal amount ("12.30", 12.3) into integer minor
// units (1230) exactly, by shifting the decimal point in the text.
func tfDecimalToMinor(m *Mapper, in tv, arg *transformArg) (tv, Reason, string) {
	digits := 2
	if arg != nil && arg.n > 0 {
		digits = arg.n
	}
	text, ok := numericText(in)
	if !ok {
		return mismatch("decimal string or number", in)
	}
	n, reason, detail := decimalToMinor(text, digits, in.k == kNumber)
	if reason != "" {
		return tv{}, reason, detail
	}
	return tv{k: kNumber, s: m.keepInt(n)}, "", ""
}

// tfMinorToDecimal turns a whole number of minor units (1099) into the
// decimal amount (10.99) exactly, by placing the decimal point in the
// text: any size, no float. The places come from the rule or, with
// currency_from, from the record's currency (m.minorPlaces, set by
// emitValue).
func tfMinorToDecimal(m *Mapper, in tv, arg *transformArg) (tv, Reason, string) {
	text, ok := numericText(in)
	if !ok {
		return mismatch("whole number of minor units", in)
	}
	places := arg.places
	if arg.currency != nil {
		places = m.minorPlaces
	}
	start := len(m.scratch)
	var reason Reason
	var detail string
	if m.scratch, reason, detail = appendMinorToDecimal(m.scratch, text, places); reason != "" {
		return tv{}, reason, detail
	}
	k := kNumber
	if arg.asString {
		k = kString
	}
	return tv{k: k, s: b2s(m.scratch[start:])}, "", ""
}

// currencyPlaces reads the ISO 4217 code at p for minor_to_decimal and
// sets m.minorPlaces to its minor-unit exponent (JPY 0, USD 2, KWD 3), from
// the currency table golang.org/x/text/currency keeps (CLDR's standard
// digits). An absent, null or non-string code is a failure at p, as is a
// code the table does not know (invalid_format, naming it).
func (m *Mapper) currencyPlaces(p *srcPath, ctx *fastjson.Value, prefix string) bool {
	v, reached, blocked := lookup(m.base(p, ctx), *p)
	switch {
	case v != nil && v.Type() == fastjson.TypeString:
	case v != nil && v.Type() == fastjson.TypeNull:
		m.fail(ReasonNullField, m.fieldOf(prefix, p), "null where minor_to_decimal needs the currency")
		return false
	case v != nil:
		m.fail(ReasonTypeMismatch, m.fieldOf(prefix, p), kindName(v)+", expected an ISO 4217 currency code")
		return false
	case blocked != nil && blocked.Type() == fastjson.TypeNull:
		m.fail(ReasonNullField, m.fieldOfAt(prefix, p, reached-1), "null where minor_to_decimal needs the currency")
		return false
	case blocked != nil:
		m.fail(ReasonTypeMismatch, m.fieldOfAt(prefix, p, reached-1), kindName(blocked)+", expected object")
		return false
	default:
		m.fail(ReasonMissingField, m.fieldOf(prefix, p), "absent; minor_to_decimal needs the currency")
		return false
	}
	b, _ := v.StringBytes()
	code := strings.TrimSpace(b2s(b))
	u, err := currency.ParseISO(code)
	if err != nil || u == (currency.Unit{}) {
		m.fail(ReasonInvalidFormat, m.fieldOf(prefix, p), "unknown currency "+quoteShort(code)+": not an ISO 4217 code with minor units")
		return false
	}
	m.minorPlaces, _ = currency.Standard.Rounding(u)
	return true
}

// decimalOutputs marks each minor_to_decimal that gives its field's value
// to write a string where the output schema wants a string and not a
// number there; elsewhere the amount is a JSON number, exactly as written.
func decimalOutputs(n *outNode, out []*checkNode, outPath []string) {
	for _, k := range n.kids {
		path := outPath
		if k.key != "." {
			path = append(path[:len(path):len(path)], k.key)
		}
		if k.rule == nil {
			decimalOutputs(k, out, path)
			continue
		}
		r := k.rule
		if r.each != nil {
			decimalOutputs(r.each, out, append(path[:len(path):len(path)], "[]"))
		}
		t := viewAt(out, "", path).types
		markDecimalOutput(r, t)
		for i := range r.cases {
			if r.cases[i].rule != nil {
				markDecimalOutput(r.cases[i].rule, t)
			}
		}
	}
}

// markDecimalOutput sets asString on r's last transform when it is
// minor_to_decimal and the output types t want a string and not a number.
func markDecimalOutput(r *fieldRule, t jsonType) {
	if len(r.transforms) == 0 || r.enum != nil {
		return
	}
	last := &r.transforms[len(r.transforms)-1]
	if last.name == "minor_to_decimal" && last.arg != nil {
		last.arg.asString = t&tString != 0 && t&tNumber == 0
	}
}

func tfSplit(m *Mapper, in tv, arg *transformArg) (tv, Reason, string) {
	if in.k != kString {
		return mismatch("string", in)
	}
	sep := ","
	if arg != nil && arg.str != "" {
		sep = arg.str
	}
	lo := len(m.strs)
	s := in.s
	if s != "" {
		for {
			i := strings.Index(s, sep)
			if i < 0 {
				m.strs = append(m.strs, s)
				break
			}
			m.strs = append(m.strs, s[:i])
			s = s[i+len(sep):]
		}
	}
	return tv{k: kStrings, lo: lo, hi: len(m.strs)}, "", ""
}

func tfJoin(m *Mapper, in tv, arg *transformArg) (tv, Reason, string) {
	sep := ","
	if arg != nil && arg.str != "" {
		sep = arg.str
	}
	start := len(m.scratch)
	switch in.k {
	case kStrings:
		for i := in.lo; i < in.hi; i++ {
			if i > in.lo {
				m.scratch = append(m.scratch, sep...)
			}
			m.scratch = append(m.scratch, m.strs[i]...)
		}
	case kArray:
		a, _ := in.v.Array()
		for i, it := range a {
			if i > 0 {
				m.scratch = append(m.scratch, sep...)
			}
			switch it.Type() {
			case fastjson.TypeString:
				b, _ := it.StringBytes()
				m.scratch = append(m.scratch, b...)
			case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
				m.scratch = it.MarshalTo(m.scratch)
			default:
				m.scratch = m.scratch[:start]
				return tv{}, ReasonTypeMismatch, "array of " + kindName(it) + ", expected an array of scalars"
			}
		}
	default:
		return mismatch("array", in)
	}
	return tv{k: kString, s: b2s(m.scratch[start:])}, "", ""
}

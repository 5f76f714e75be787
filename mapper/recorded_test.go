package mapper

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// recordedSources are the shipped sources and the test ones, the flat
// test source among them.
func recordedSources(tb testing.TB) []*Source {
	tb.Helper()
	eng, err := Load("testdata/flat/rules", "testdata/flat/schemas", Options{MaxDepth: 16})
	if err != nil {
		tb.Fatal(err)
	}
	return append(scanCheckSources(tb), eng.Sources()...)
}

// parsedOnly is s with its plan made to map every record from the parsed
// value.
func parsedOnly(s *Source) *Source {
	p := *s.plan
	p.paths, p.slots = nil, 0
	c := *s
	c.plan = &p
	return &c
}

// recordedDisagreement maps payload with s and with parsedOnly(s) and
// describes any difference in the results. recorded reports whether s
// mapped it from the scan's records, checked whether the output checks
// held as it was written.
func recordedDisagreement(s, parsed *Source, payload []byte) (d string, recorded, reported, checked bool) {
	var a, b Mapper
	var ra, rb Result
	a.Map(s, payload, &ra)
	b.Map(parsed, payload, &rb)
	if got, want := ra.AppendJSON(nil), rb.AppendJSON(nil); string(got) != string(want) {
		return "from the records:\n" + string(got) + "\nfrom the parsed value:\n" + string(want), false, false, false
	}
	// Whether the records gave the result: the same scan, then the
	// recorded mapping alone.
	p := s.plan
	if p.paths == nil || p.input != nil && p.sampled(payload) || len(payload) > s.opts.MaxPayloadBytes {
		return "", false, false, false
	}
	var input *checkNode
	if p.input != nil {
		input = p.input.check
	}
	a.scan.report = true
	clean, ok := a.scan.cleanRecorded(payload, s.opts.MaxDepth, input, p.paths, p.slots)
	a.scan.report = false
	if !clean || !ok && p.input != nil {
		return "", false, false, false
	}
	a.res, a.src = &ra, s
	ra.Failures, a.schemaEnd = ra.Failures[:0], 0
	reported = len(a.scan.fails) > 0
	recorded = a.addReported(p) && a.mapRecorded(s, payload)
	reported = reported && recorded
	if checked = a.outChecked; checked {
		// The checks run as the record was written pass only what the
		// scan of the written record passes.
		if _, ok := a.scan.cleanChecked(a.out, s.opts.MaxDepth, p.output.check); !ok {
			return "checked as written but not by the scan: " + string(a.out), recorded, reported, checked
		}
	}
	a.res, a.src = nil, nil
	return "", recorded, reported, checked
}

// flatPayloads are payloads for the flat test source: every kind of value
// at each path it reads, and the shapes that make the records give way to
// the parsed value (escapes, absent and null paths, containers).
func flatPayloads() [][]byte {
	const base = `{"ref":"S-1","customer":{"email":" A@B.Example ","tier":"gold","name":"Ann"},"amount":"12.30","tags":"a; b ;c","parts":null,"labels":["x","y"],"placed":"2024-05-01T12:00:00Z","note":"hi","gift":false,"kind":"std","qty":"3","raw":{"value":"v"}}`
	out := [][]byte{[]byte(base), []byte(`{}`), []byte(`{"ref":"S-2"}`)}
	// Orders whose input checks hold but whose mapped record fails the
	// output schema's: the email trimmed to two characters, a count of no
	// items.
	const order = `{"order_id":"ORD-1","customer":{"email":" Ab "},"items":[{"sku":"S","qty":1,"price":"1.00"}],"amount":"1.00","currency":"USD","status":"paid","created":"2024-05-01T12:00:00Z"}`
	out = append(out, []byte(order), []byte(strings.Replace(order, `" Ab "`, `"Abc"`, 1)))
	for _, edit := range [][2]string{
		{`"ref":"S-1"`, `"ref":17`},
		{`"ref":"S-1"`, `"ref":null`},
		{`"ref":"S-1"`, `"ref":null,"legacy":{"ref":"L-1"}`},
		{`"ref":"S-1"`, `"legacy":{"id":"L-2"}`},
		{`"ref":"S-1"`, `"legacy":"L-3"`},
		{`"ref":"S-1"`, `"ref":"S\u002d1"`},
		{`"ref":"S-1"`, `"ref":"S-1","r\u0065f":"S-2"`},
		{`"ref":"S-1"`, `"ref":true`},
		{`"ref":"S-1"`, `"ref":"S-1","ref":"S-2"`},
		{`"ref":"S-1"`, `"ref":""`},
		{`"customer":{`, `"customer":null,"contact":{"email":"c@d.e","name":"Cy"},"x":{`},
		{`"customer":{`, `"customer":"Ann","x":{`},
		{`"customer":{`, `"customer":[{"email":"a@b.c"}],"x":{`},
		{`"email":" A@B.Example "`, `"email":null`},
		{`"email":" A@B.Example "`, `"email":42`},
		{`"email":" A@B.Example "`, `"email":" A@B\tExample "`},
		{`"email":" A@B.Example "`, `"email":"A\u0040B.Example"`},
		{`"email":" A@B.Example "`, `"email":"ÄB@Ü.Example"`},
		{`"email":" A@B.Example "`, `"email":"ab"`},
		{`"email":" A@B.Example ",`, ``},
		{`,"name":"Ann"`, ``},
		{`"tier":"gold"`, `"tier":null`},
		{`"tier":"gold"`, `"tier":{"a":1}`},
		{`"amount":"12.30"`, `"amount":12.3`},
		{`"amount":"12.30"`, `"amount":-0.5e1`},
		{`"amount":"12.30"`, `"amount":"12.345"`},
		{`"amount":"12.30"`, `"amount":null`},
		{`"amount":"12.30"`, `"amount":[1]`},
		{`"tags":"a; b ;c",`, ``},
		{`"tags":"a; b ;c"`, `"tags":["a","b"]`},
		{`"parts":null`, `"parts":"a;b"`},
		{`"parts":null`, `"parts":""`},
		{`"parts":null`, `"parts":7`},
		{`"email":" A@B.Example "`, `"email":" ab "`},
		{`"email":" A@B.Example "`, `"email":"a\"b"`},
		{`"tags":"a; b ;c"`, `"tags":""`},
		{`"labels":["x","y"]`, `"labels":[]`},
		{`"labels":["x","y"]`, `"labels":[1,2,3,4]`},
		{`"labels":["x","y"]`, `"labels":[["x"],{"y":[1,2]},3,4]`},
		{`"labels":["x","y"]`, `"labels":{"x":1}`},
		{`"labels":["x","y"]`, `"labels":"x"`},
		{`"labels":["x","y"]`, `"labels":null`},
		{`"placed":"2024-05-01T12:00:00Z"`, `"placed":1714564800`},
		{`"placed":"2024-05-01T12:00:00Z"`, `"placed":"01/05/2024 12:00"`},
		{`"placed":"2024-05-01T12:00:00Z"`, `"placed":"yesterday"`},
		{`"placed":"2024-05-01T12:00:00Z"`, `"placed":1.5e300}`},
		{`"note":"hi"`, `"note":null`},
		{`"note":"hi"`, `"note":{}`},
		{`"gift":false`, `"gift":true`},
		{`"gift":false`, `"gift":"no"`},
		{`"kind":"std"`, `"kind":"exp"`},
		{`"kind":"std"`, `"kind":"other"`},
		{`"kind":"std"`, `"kind":1`},
		{`"kind":"std"`, `"kind":true`},
		{`"kind":"std"`, `"kind":null`},
		{`"kind":"std"`, `"kind":"\u0073td"`},
		{`"qty":"3"`, `"qty":3`},
		{`"qty":"3"`, `"qty":3000`},
		{`"qty":"3"`, `"qty":"three"`},
		{`"qty":"3"`, `"quantity":4`},
		{`"raw":{"value":"v"}`, `"raw":{"value":{"deep":[1,{"a":null}]}}`},
		{`"raw":{"value":"v"}`, `"raw":{"value":[]}`},
		{`"raw":{"value":"v"}`, `"raw":{"value":false,"other":{"value":1}}`},
		{`"raw":{"value":"v"}`, `"raw":[{"value":1}]`},
		{`"raw":{"value":"v"}`, `"raw":{"nested":{"raw":{"value":1}}}`},
	} {
		out = append(out, []byte(strings.Replace(base, edit[0], edit[1], 1)))
	}
	return out
}

// driftedPayloads are payloads whose input checks fail in the ways the
// strict scan reports itself (a type, null, an absent required property, a
// property a closed contract does not name), one or several at once, at
// the top, nested, in the first array element and in later ones, through
// keys positionOf reads as more than one step; and some that it leaves to
// the walk. For the strict test sources and for orders.
func driftedPayloads(tb testing.TB) [][]byte {
	const strict = `{"id":"S-1","buyer":{"email":" A@B.Example ","name":"Ann","tier":"gold"},"lines":[{"sku":"K1","qty":1},{"sku":"K2","qty":2,"note":"n"}],"total":"12.30","paid":true,"meta":{"channel":"web"},"a.b":"x","":"y","status":"paid","code":"X1","when":"2024-05-01T12:00:00Z","units":4,"flag":true,"tags":["a"],"kind":"a","ratio":0.5}`
	const order = `{"order_id":"ORD-1","customer":{"email":"a@b.example","name":"Ann"},"items":[{"sku":"S","qty":1,"price":"1.00"},{"sku":"T","qty":2,"price":"2.50"}],"amount":"6.00","currency":"USD","status":"paid","created":"2024-05-01T12:00:00Z"}`
	var out [][]byte
	for _, base := range []struct {
		text  string
		edits [][][2]string
	}{
		{strict, [][][2]string{
			{{`"id":"S-1"`, `"id":1`}},
			{{`"id":"S-1"`, `"id":null`}},
			{{`"id":"S-1",`, ``}},
			{{`"id":"S-1"`, `"id":{"v":"S-1"}`}},
			{{`"id":"S-1"`, `"id":["S-1"]`}},
			{{`"id":"S-1"`, `"id":1.5`}},
			{{`"id":"S-1"`, `"id":false`}},
			{{`"id":"S-1"`, `"id":"S-1","extra":{"deep":[1,{"x":null}]}`}},
			{{`"id":"S-1"`, `"id":"S-1","extra":1,"more":"m"`}},
			{{`"buyer":{`, `"buyer":{"phone":"1",`}},
			{{`"email":" A@B.Example "`, `"email":null`}},
			{{`"email":" A@B.Example ",`, ``}},
			{{`"name":"Ann"`, `"name":7`}},
			{{`"name":"Ann"`, `"name":null`}},
			{{`"tier":"gold"`, `"tier":["gold"]`}},
			{{`"buyer":{"email":" A@B.Example ","name":"Ann","tier":"gold"}`, `"buyer":null`}},
			{{`"buyer":{"email":" A@B.Example ","name":"Ann","tier":"gold"}`, `"buyer":"Ann"`}},
			{{`"buyer":{"email":" A@B.Example ","name":"Ann","tier":"gold"}`, `"buyer":[{"email":"a@b.c"}]`}},
			{{`"lines":[`, `"lines":{"0":`}, {`}],"total"`, `}},"total"`}},
			{{`"lines":[{"sku":"K1","qty":1},{"sku":"K2","qty":2,"note":"n"}]`, `"lines":"K1,K2"`}},
			{{`"lines":[{"sku":"K1","qty":1},{"sku":"K2","qty":2,"note":"n"}]`, `"lines":null`}},
			{{`"lines":[{"sku":"K1","qty":1},{"sku":"K2","qty":2,"note":"n"}]`, `"lines":[]`}},
			{{`"qty":1`, `"qty":"1"`}},
			{{`"qty":2`, `"qty":"2"`}},
			{{`"qty":1`, `"qty":"1"`}, {`"qty":2`, `"qty":null`}},
			{{`"qty":1`, `"qty":1.5`}, {`"qty":2`, `"qty":2.5`}},
			{{`"qty":2`, `"qty":2.5`}, {`"id":"S-1"`, `"id":2`}},
			{{`"sku":"K1",`, ``}},
			{{`"sku":"K2",`, ``}},
			{{`"sku":"K2",`, ``}, {`"id":"S-1"`, `"id":2`}},
			{{`"sku":"K1",`, ``}, {`"id":"S-1"`, `"id":2`}},
			{{`"note":"n"`, `"note":"n","gift":true`}},
			{{`{"sku":"K1","qty":1}`, `null`}},
			{{`{"sku":"K1","qty":1}`, `"K1"`}},
			{{`{"sku":"K1","qty":1}`, `[{"sku":"K1"}]`}},
			{{`"total":"12.30"`, `"total":null`}},
			{{`"total":"12.30"`, `"total":{"amount":"12.30"}`}},
			{{`"paid":true`, `"paid":1`}},
			{{`"paid":true`, `"paid":"yes"`}},
			{{`"total":"12.30",`, ``}, {`"paid":true`, `"paid":"yes"`}},
			{{`"paid":true`, `"paid":1`}, {`"id":"S-1"`, `"id":null`}, {`"email":" A@B.Example ",`, ``}},
			{{`"meta":{"channel":"web"}`, `"meta":{"channel":1}`}},
			{{`"meta":{"channel":"web"}`, `"meta":{"channel":"web","n":null}`}},
			{{`"meta":{"channel":"web"}`, `"meta":[]`}},
			{{`"a.b":"x"`, `"a.b":1`}},
			{{`"a.b":"x"`, `"a.b":1`}, {`"id":"S-1"`, `"id":2`}},
			{{`"":"y"`, `"":null`}},
			{{`"":"y"`, `"":null`}, {`"paid":true`, `"paid":0`}},
			{{`"":"y"`, `"":"y","a[0]":1`}},
			{{`"":"y"`, `"":"y","[]":1`}, {`"id":"S-1"`, `"id":2`}},
			{{`"buyer":{`, `"buyer":{"":1,`}},
			{{`"buyer":{`, `"buyer":{"":1,`}, {`"id":"S-1"`, `"id":2`}},
			{{`"sku":"K1",`, `"sku":"K1","":2,`}, {`"total":"12.30"`, `"total":[]`}},
			{{`"":"y"`, `"":"y","a[0]":1`}, {`"total":"12.30"`, `"total":true`}},
			{{`"email":" A@B.Example "`, `"email":"A@B"`}, {`"id":"S-1"`, `"id":2`}},
			{{`"id":"S-1"`, `"id":"S-1","id":"S-2"`}},
			// Enums, constants, patterns, formats, lengths, bounds, counts.
			{{`"status":"paid"`, `"status":"refunded"`}},
			{{`"status":"paid"`, `"status":"paid\u0021"`}},
			{{`"status":"paid"`, `"status":"` + strings.Repeat("ü", 50) + `"`}},
			{{`"status":"paid"`, `"status":7`}},
			{{`"status":"paid"`, `"status":null`}},
			{{`"code":"X1"`, `"code":"X2"`}},
			{{`"code":"X1"`, `"code":"x1"`}},
			{{`"code":"X1"`, `"code":"X"`}},
			{{`"code":"X1"`, `"code":"X1234"`}},
			{{`"code":"X1"`, `"code":""`}, {`"status":"paid"`, `"status":"gone"`}},
			{{`"when":"2024-05-01T12:00:00Z"`, `"when":"yesterday"`}},
			{{`"when":"2024-05-01T12:00:00Z"`, `"when":"2024-02-30T12:00:00Z"`}},
			{{`"when":"2024-05-01T12:00:00Z"`, `"when":"1999-05-01T12:00:00Z"`}},
			{{`"units":4`, `"units":0`}},
			{{`"units":4`, `"units":3`}},
			{{`"units":4`, `"units":200`}},
			{{`"units":4`, `"units":201`}},
			{{`"units":4`, `"units":-1e2`}},
			{{`"units":4`, `"units":4.0`}},
			{{`"units":4`, `"units":4.5`}},
			{{`"units":4`, `"units":"4"`}},
			{{`"flag":true`, `"flag":false`}},
			{{`"flag":true`, `"flag":null`}},
			{{`"flag":true`, `"flag":1`}},
			{{`"flag":true`, `"flag":{"v":true}`}},
			{{`"tags":["a"]`, `"tags":[]`}},
			{{`"tags":["a"]`, `"tags":["a","b","c","d"]`}},
			{{`"tags":["a"]`, `"tags":["a","toolong"]`}},
			{{`"tags":["a"]`, `"tags":["toolong","b",1]`}, {`"units":4`, `"units":5`}},
			{{`"kind":"a"`, `"kind":"c"`}},
			{{`"kind":"a"`, `"kind":1`}},
			{{`"kind":"a"`, `"kind":1.0`}},
			{{`"kind":"a"`, `"kind":false`}},
			{{`"kind":"a"`, `"kind":true`}},
			{{`"kind":"a"`, `"kind":["a"]`}},
			{{`"kind":"a"`, `"kind":{}`}},
			{{`"ratio":0.5`, `"ratio":0`}},
			{{`"ratio":0.5`, `"ratio":1`}},
			{{`"ratio":0.5`, `"ratio":1e-400`}},
			{{`"ratio":0.5`, `"ratio":0.99999999999999999999`}},
			{{`"meta":{"channel":"web"}`, `"meta":{}`}},
			{{`"meta":{"channel":"web"}`, `"meta":{"a":"1","b":"2","c":"3","d":"4"}`}},
			{{`"meta":{"channel":"web"}`, `"meta":{"a":1,"b":"2","c":"3","d":"4"}`}, {`"kind":"a"`, `"kind":"z"`}},
			{{`"code":"X1"`, `"code":"x"`}, {`"when":"2024-05-01T12:00:00Z"`, `"when":"now"`}, {`"units":4`, `"units":7`}, {`"status":"paid"`, `"status":"PAID"`}},
			{{`"id":"S-1"`, `"id":1,"x1":1,"x2":2,"x3":3,"x4":4,"x5":5,"x6":6,"x7":7,"x8":8,"x9":9,"x10":10,"x11":11,"x12":12,"x13":13,"x14":14,"x15":15,"x16":16`}},
		}},
		{order, [][][2]string{
			{{`"amount":"6.00"`, `"amount":6}`}},
			{{`"amount":"6.00"`, `"amount":null`}},
			{{`"amount":"6.00",`, ``}},
			{{`"currency":"USD"`, `"currency":null`}, {`"status":"paid"`, `"status":7`}},
			{{`"email":"a@b.example"`, `"email":5`}},
			{{`"email":"a@b.example",`, ``}},
			{{`"customer":{"email":"a@b.example","name":"Ann"}`, `"customer":null`}},
			{{`"name":"Ann"`, `"name":1`}},
			{{`"qty":1`, `"qty":"1"`}},
			{{`"qty":2`, `"qty":"2"`}},
			{{`"qty":1`, `"qty":0`}},
			{{`"items":[{"sku":"S","qty":1,"price":"1.00"},{"sku":"T","qty":2,"price":"2.50"}]`, `"items":{"sku":"S"}`}},
			{{`"items":[{"sku":"S","qty":1,"price":"1.00"},{"sku":"T","qty":2,"price":"2.50"}]`, `"items":[]`}},
			{{`"created":"2024-05-01T12:00:00Z"`, `"created":null`}, {`"order_id":"ORD-1",`, ``}},
			{{`"created":"2024-05-01T12:00:00Z"`, `"created":1.5`}},
			{{`"status":"paid"`, `"status":"paid","extra":{"a":1}`}},
		}},
	} {
		for _, edits := range base.edits {
			p := base.text
			for _, e := range edits {
				if !strings.Contains(p, e[0]) {
					tb.Fatalf("driftedPayloads: no %s in %s", e[0], p)
				}
				p = strings.Replace(p, e[0], e[1], 1)
			}
			out = append(out, []byte(p))
		}
		out = append(out, []byte(base.text))
	}
	return out
}

// A record mapped from the values the scan recorded gets exactly the
// result it gets from the parsed value: output, outcome and every
// failure's reason, field and detail.
func TestRecordedMappingIsTheParsedMapping(t *testing.T) {
	payloads := append(append(scanCheckSeeds(t), flatPayloads()...), driftedPayloads(t)...)
	flat := map[string]bool{}
	for _, s := range recordedSources(t) {
		if s.plan.paths == nil {
			continue
		}
		flat[s.Name()] = true
		parsed := parsedOnly(s)
		recorded, reported, checked := 0, 0, 0
		for _, p := range payloads {
			d, rec, rep, ok := recordedDisagreement(s, parsed, p)
			if d != "" {
				t.Fatalf("%s: %.300s\n%s", s.Name(), p, d)
			}
			if rec {
				recorded++
			}
			if rep {
				reported++
			}
			if ok {
				checked++
			}
		}
		t.Logf("%s: %d of %d payloads mapped from the records, %d of them with failures the scan reported, %d checked as written", s.Name(), recorded, len(payloads), reported, checked)
		if (s.Name() == "orders" || strings.HasPrefix(s.Name(), "strict")) && (recorded < 10 || checked < 10 || reported < 10) {
			t.Errorf("%s: only %d of %d payloads were mapped from the records, %d with failures the scan reported, %d checked as written", s.Name(), recorded, len(payloads), reported, checked)
		}
	}
	for _, name := range []string{"orders", "flat"} {
		if !flat[name] {
			t.Errorf("source %s is not mapped from the scan's records", name)
		}
	}
	if flat["shop"] {
		t.Error("source shop (each, cases) is mapped from the scan's records")
	}
}

// Whatever the payload, a record mapped from the scan's records gets the
// result it gets from the parsed value.
func FuzzRecordedMappingIsTheParsedMapping(f *testing.F) {
	var sources, parsed []*Source
	for _, s := range recordedSources(f) {
		if s.plan.paths != nil {
			sources, parsed = append(sources, s), append(parsed, parsedOnly(s))
		}
	}
	for i, p := range append(append(scanCheckSeeds(f), flatPayloads()...), driftedPayloads(f)...) {
		if i%3 == 0 || i >= 300 {
			f.Add(p)
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		for i, s := range sources {
			if d, _, _, _ := recordedDisagreement(s, parsed[i], payload); d != "" {
				t.Fatalf("%s: %s", s.Name(), d)
			}
		}
	})
}

// The output tree's depth, against which a record checked as it is
// written is held to the nesting limit the scan of it would apply.
func TestOutputDepthOfFlatPlans(t *testing.T) {
	want := map[string]int{"orders": 1, "flat": 2}
	for _, s := range recordedSources(t) {
		if d, ok := want[s.Name()]; ok && (s.plan.outDepth != d || !s.plan.checksAsWritten(s.opts.MaxDepth)) {
			t.Errorf("%s: output depth %d, want %d, checked as written: %v", s.Name(), s.plan.outDepth, d, s.plan.checksAsWritten(s.opts.MaxDepth))
		}
	}
	eng, err := Load("testdata/flat/rules", "testdata/flat/schemas", Options{MaxDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if eng.Source("flat").plan.checksAsWritten(1) {
		t.Error("records nested deeper than the limit are checked as they are written")
	}
}

// strictSource is the strict test source with unread: degrade.
func strictSource(tb testing.TB) *Source {
	tb.Helper()
	for _, s := range recordedSources(tb) {
		if s.Name() == "strict-degrade" {
			return s
		}
	}
	tb.Fatal("no strict-degrade source")
	return nil
}

// Whatever shape the values at redacted paths take, a record whose
// failures the scan reported shows none of them: not in a failure's field
// or detail, not in its output as RedactOutput shows it.
func TestReportedFailuresWithholdRedactedValues(t *testing.T) {
	strict := strictSource(t)
	r := rand.New(rand.NewPCG(7, 13))
	// secretValue is a value of some shape holding the secret.
	secretValue := func(secret string) string {
		switch r.IntN(7) {
		case 0:
			return `"` + secret + `"`
		case 1:
			return `"` + strings.Repeat("é", r.IntN(60)) + secret + `"`
		case 2:
			return strings.TrimPrefix(secret, "S")
		case 3:
			return `["` + secret + `"]`
		case 4:
			return `{"` + secret + `":"` + secret + `"}`
		case 5:
			return `{"k":"` + secret + `"}`
		}
		return `"` + secret[:3] + `-` + secret[3:] + `"`
	}
	reported := 0
	var m Mapper
	var res Result
	for i := range 3000 {
		secret := "S" + strconv.Itoa(100000000+r.IntN(800000000))
		fields := map[string]string{
			"status": `"paid"`, "code": `"X1"`, "units": `4`, "when": `"2024-05-01T12:00:00Z"`,
			"meta": `{"channel":"web"}`, "name": `"Ann"`,
		}
		// One to three redacted fields drift to the secret.
		keys := []string{"status", "code", "units", "when", "meta", "name"}
		for range 1 + r.IntN(3) {
			fields[keys[r.IntN(len(keys))]] = secretValue(secret)
		}
		payload := `{"id":"S-` + strconv.Itoa(i) + `","buyer":{"email":"a@b.c","name":` + fields["name"] + `,"tier":"t"},"lines":[],"total":"1.00",` +
			`"status":` + fields["status"] + `,"code":` + fields["code"] + `,"units":` + fields["units"] + `,"when":` + fields["when"] + `,"meta":` + fields["meta"] + `}`
		m.scan.report = true
		if _, ok := m.scan.cleanChecked([]byte(payload), strict.opts.MaxDepth, strict.plan.input.check); ok && len(m.scan.fails) > 0 {
			reported++
		}
		m.scan.report = false
		m.Map(strict, []byte(payload), &res)
		// The output record carries what the rules mapped (the output
		// topic's business); what is shown of it is RedactOutput's.
		shown := string(strict.RedactOutput(res.Output))
		for _, f := range res.Failures {
			shown += "\n" + f.Field + ": " + f.Detail
		}
		for _, s := range []string{secret, strings.TrimPrefix(secret, "S"), secret[:3] + "-" + secret[3:]} {
			if strings.Contains(shown, s) {
				t.Fatalf("%s\nleaks %s: %s", payload, s, shown)
			}
		}
	}
	if reported < 1000 {
		t.Errorf("the scan reported the failures of only %d records", reported)
	}
}

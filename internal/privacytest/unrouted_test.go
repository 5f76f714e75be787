package privacytest

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
	"github.com/mapperhq/mapper/mapper/suggest"
)

// TestUnroutedRecordsLeaveNoValue: records no source accepts carry a
// marker in every shape the generator makes — as values, as object keys,
// in keys that look like paths — and in their record key and a header no
// rule routes on. The records are kept as the worker keeps them (the
// sample store, with its structural profile), then suggest proposes
// starter sources from the profile: no file of the samples directory, no
// suggestion and no file of the starters holds a marker.
func TestUnroutedRecordsLeaveNoValue(t *testing.T) {
	eng := loadOrders(t)
	dir := t.TempDir()
	st, err := samples.Open(samples.Config{Dir: dir, Shapes: samples.ShapeConfig{RoutingHeaders: []string{"X-Kind"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(17, 2027))
	var probes []string
	for i := range 300 {
		m := marker(r)
		probes = append(probes, m[:8])
		g := &payloadGen{r: r, marker: m}
		p := g.payload()
		kind := []string{"refund", "invoice", "dispute"}[i%3]
		origin := &mapper.Origin{Topic: "partner.unclaimed.raw", Key: []byte(m),
			Headers: []mapper.Header{{Key: "X-Kind", Value: []byte(kind)}, {Key: "X-Trace", Value: []byte(m)}}}
		src, res := eng.Route(origin.Topic, origin.Headers, p)
		if src != nil {
			t.Fatalf("a source took a record of a topic none claims: %s", src.Name())
		}
		st.Observe(origin, nil, p, &res, 0)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	sh, ok, err := samples.ReadShapes(dir)
	if err != nil || !ok || len(sh.Groups) != 3 {
		t.Fatalf("profiles %+v ok %v, %v: want one group per kind", sh.Groups, ok, err)
	}
	us, err := suggest.ProposeUnrouted(suggest.UnroutedInput{Engine: eng, Shapes: sh})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string][]byte{}
	js, err := json.Marshal(us)
	if err != nil {
		t.Fatal(err)
	}
	outputs["suggestions"] = js
	starters := 0
	for _, u := range us {
		if st := u.Starter; st != nil {
			starters++
			outputs[st.RuleFile], outputs[st.InputSchemaFile], outputs[st.OutputSchemaFile] = st.Rules, st.InputSchema, st.OutputSchema
		}
	}
	if starters == 0 {
		t.Fatalf("no starter proposed: the property would check nothing there: %s", js)
	}
	for p, b := range readFiles(t, dir) {
		outputs[p] = b
	}
	for where, b := range outputs {
		for _, p := range probes {
			if bytes.Contains(b, []byte(p)) {
				t.Errorf("%s holds the marker %q of an unrouted record:\n%s", where, p, b)
				break
			}
		}
	}
}

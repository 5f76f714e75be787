package metrics_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/metrics"
)

// loadShop loads testdata/rules/shop.yaml: source "shop", version 3.
func loadShop(t testing.TB) *mapper.Source {
	t.Helper()
	e, err := mapper.Load("testdata/rules", "testdata/schemas", mapper.Options{})
	if err != nil {
		t.Fatalf("load testdata rules: %v", err)
	}
	s := e.Source("shop")
	if s == nil {
		t.Fatal("testdata rules have no source shop")
	}
	return s
}

func TestRecordsAndFailuresOfARealSource(t *testing.T) {
	src := loadShop(t)
	a := listenUDP(t)
	c := newClient(t, metrics.Config{Addr: a.addr, Tags: []string{"env:test"}})
	payloads := map[string]int{
		`{"order_id":"1","customer":{"email":"a@b.co"},"state":"PAID"}`: 70, // mapped
		`{"order_id":"2","customer":{"email":"a@b.co"},"state":"LOST"}`: 20, // unknown_enum:state
		`{"customer":{"email":"a@b.co"}}`:                               10, // missing_field:order_id, missing_field:state
	}
	var m mapper.Mapper
	var res mapper.Result
	for p, n := range payloads {
		for i := range n {
			m.Map(src, []byte(p), &res)
			c.Observe(&mapper.Origin{Topic: "shop.orders", Offset: int64(i)}, src, []byte(p), &res, 2*time.Millisecond)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ds := a.settle()

	tests := []struct {
		metric string
		tags   []string
		want   float64
	}{
		{"mapper.records", []string{"source:shop", "rules_version:3", "outcome:mapped"}, 70},
		{"mapper.records", []string{"source:shop", "rules_version:3", "outcome:rejected"}, 30},
		{"mapper.failures", []string{"source:shop", "rules_version:3", "reason:unknown_enum", "field:state"}, 20},
		{"mapper.failures", []string{"source:shop", "rules_version:3", "reason:missing_field", "field:order_id"}, 10},
		{"mapper.failures", []string{"source:shop", "rules_version:3", "reason:missing_field", "field:state"}, 10},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.metric, tt.tags), func(t *testing.T) {
			d, err := only(ds, tt.metric, tt.tags...)
			if err != nil {
				t.Fatal(err)
			}
			if d.Type != "c" || !slices.Equal(d.Values, []float64{tt.want}) || !d.hasTags("env:test") {
				t.Errorf("got %q, want one aggregated count %v with env:test", d.Raw, tt.want)
			}
		})
	}
	if got := sum(ds, "mapper.failures"); got != 40 {
		t.Errorf("failures in all = %v, want 40", got)
	}
	newCats, err := only(ds, "mapper.failures.new_category", "source:shop", "rules_version:3", "reason:missing_field")
	if err != nil || !slices.Equal(newCats.Values, []float64{2}) {
		t.Errorf("new categories of missing_field = %+v, %v; want 2 (order_id and state)", newCats, err)
	}
	if got := sum(ds, "mapper.failures.new_category"); got != 3 {
		t.Errorf("new categories in all = %v, want 3", got)
	}
	if got := tagValues(ds, "mapper.records", "outcome"); !slices.Equal(got, []string{"mapped", "rejected"}) {
		t.Errorf("outcomes = %q", got)
	}
}

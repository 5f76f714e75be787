package drift_test

import (
	"fmt"
	"os"

	"github.com/mapperhq/mapper/mapper/drift"
)

// A tool that proposes contract edits reads a source's report and lists
// the properties to add to the input schema and the required ones to
// drop, with the share of records that showed them.
func ExampleReport_Of() {
	dir, _ := os.MkdirTemp("", "samples")
	defer os.RemoveAll(dir)
	_ = drift.WriteFile(dir, drift.Report{Source: "github-work-items", Records: 400, Entries: []drift.Entry{
		{Kind: drift.KindAbsentRequired, Path: "issue.reactions", Count: 100, Share: 0.25},
		{Kind: drift.KindNewProperty, Path: "issue.type", Count: 8, Share: 0.02},
	}})

	r, err := drift.ReadFile(dir, "github-work-items")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range r.Of(drift.KindNewProperty) {
		fmt.Printf("contract_property %s (%.0f%% of records)\n", e.Path, 100*e.Share)
	}
	for _, e := range r.Of(drift.KindAbsentRequired) {
		fmt.Printf("contract_optional %s (absent in %.0f%% of records)\n", e.Path, 100*e.Share)
	}
	// Output:
	// contract_property issue.type (2% of records)
	// contract_optional issue.reactions (absent in 25% of records)
}

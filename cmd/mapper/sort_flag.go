package main

import (
	"flag"
	"sort"

	"github.com/mapperhq/mapper/mapper/samples"
)

// The orders of category listings (--sort).
const (
	sortImpact = "impact"
	sortName   = "name"
)

func declareSortFlag(fs *flag.FlagSet, e *env) *string {
	return stringFlag(fs, e, "sort", sortImpact, "order of the categories: impact (most records first) or name")
}

// sortCategoriesByImpact orders a samples listing by source, then records
// seen (most first), clean last, then category name.
func sortCategoriesByImpact(list []samples.CategoryInfo) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if ac, bc := a.Category == samples.CleanCategory, b.Category == samples.CleanCategory; ac != bc {
			return bc
		}
		if a.Seen != b.Seen {
			return a.Seen > b.Seen
		}
		return a.Category < b.Category
	})
}

package main

import (
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

func TestDemoSuggestsTheSourceOfTheMostFrequentFailure(t *testing.T) {
	tests := []struct {
		name string
		list []samples.CategoryInfo
		want string
	}{
		{"none", nil, ""},
		{"clean records and unrouted ones are not fixed by a source's rules", []samples.CategoryInfo{
			{Source: "orders", Category: samples.CleanCategory, Seen: 900},
			{Source: mapper.Unrouted, Category: "unknown_source", Seen: 500},
			{Source: "github", Category: "missing_field:issue.state", Seen: 3},
		}, "github"},
		{"the largest category wins, not the most categories", []samples.CategoryInfo{
			{Source: "github", Category: "missing_field:a", Seen: 30},
			{Source: "github", Category: "missing_field:b", Seen: 30},
			{Source: "orders", Category: "invalid_format:created", Seen: 75},
		}, "orders"},
		{"kept counts stand in when seen is unknown", []samples.CategoryInfo{
			{Source: "b", Category: "x", Kept: 4},
			{Source: "a", Category: "x", Kept: 4},
		}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mostFailing(tt.list); got != tt.want {
				t.Errorf("mostFailing = %q, want %q", got, tt.want)
			}
		})
	}
}

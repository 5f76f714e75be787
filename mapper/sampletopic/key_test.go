package sampletopic

import (
	"errors"
	"testing"
)

func TestKeysRoundTrip(t *testing.T) {
	for _, k := range []Key{
		{Kind: KindSample, Source: "orders", Category: "unknown_enum:status", Slot: 3},
		{Kind: KindSample, Source: "", Category: "unknown_source", Slot: 0},
		{Kind: KindSeen, Source: "orders", Category: "clean", Worker: "a1b2"},
		{Kind: KindRecords, Source: "orders", Worker: "a1b2"},
		{Kind: KindValues, Source: "orders", Category: "unknown_enum:status", Worker: "a1b2"},
		{Kind: KindAnnounced, Source: "we\"ird/😀", RulesVersion: 7, Category: "missing_field:items[].sku"},
	} {
		got, err := ParseKey(k.Bytes())
		if err != nil || got != k {
			t.Errorf("ParseKey(%s) = %+v, %v; want %+v", k, got, err, k)
		}
	}
}

func TestKeysThatAreNotOursAreRefused(t *testing.T) {
	for _, tt := range []struct{ name, key string }{
		{"not JSON", "orders/unknown_enum"},
		{"empty array", "[]"},
		{"unknown kind", `["profile","orders"]`},
		{"too few elements", `["sample","orders","clean"]`},
		{"slot not a number", `["sample","orders","clean","3"]`},
		{"negative slot", `["sample","orders","clean",-1]`},
		{"worker not a string", `["seen","orders","clean",5]`},
		{"values without a worker", `["values","orders","unknown_enum:status"]`},
		{"version not a number", `["announced","orders","v1","clean"]`},
		{"too long", `["sample","` + string(make([]byte, 5000)) + `","c",0]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if k, err := ParseKey([]byte(tt.key)); !errors.Is(err, ErrBadKey) {
				t.Errorf("ParseKey(%q) = %+v, %v; want ErrBadKey", tt.key, k, err)
			}
		})
	}
}

func TestEveryKeyHasOnePartition(t *testing.T) {
	k := Key{Kind: KindSeen, Source: "orders", Category: "clean", Worker: "w"}.Bytes()
	p := Partition(k, 6)
	for range 10 {
		if got := Partition(k, 6); got != p || got < 0 || got >= 6 {
			t.Fatalf("Partition = %d, then %d", p, got)
		}
	}
}

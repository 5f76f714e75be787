package mapper

import "testing"

func TestUnderSkippingArrays(t *testing.T) {
	tests := []struct {
		field, path string
		want        bool
	}{
		{"items.sku", "items[].sku", true},
		{"items[].sku", "items.sku", true},
		{"items[].sku.x", "items[].sku", true},
		{"meta", "meta", true},
		{"meta[]", "meta", true},
		{"metadata", "meta", false},
		{"items[].skus", "items[].sku", false},
		{"items", "items[].sku", false},
	}
	for _, tc := range tests {
		if got := underSkippingArrays(tc.field, tc.path); got != tc.want {
			t.Errorf("underSkippingArrays(%q, %q) = %v, want %v", tc.field, tc.path, got, tc.want)
		}
	}
}

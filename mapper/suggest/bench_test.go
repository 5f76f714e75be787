package suggest

import "testing"

// BenchmarkProposeAndApply proposes and writes the edits for the shop
// feed's drift (9 records in 6 categories, as kept samples).
func BenchmarkProposeAndApply(b *testing.B) {
	in, _ := keep(b, shopDrift)
	b.ReportAllocs()
	for b.Loop() {
		ss, err := Propose(in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Apply(in.RuleFile, ss, 4); err != nil {
			b.Fatal(err)
		}
	}
}

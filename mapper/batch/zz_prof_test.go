package batch_test

import (
	"context"
	"os"
	"testing"

	"github.com/mapperhq/mapper/mapper/batch"
)

func TestZZProfileFile(t *testing.T) {
	src := orders(t)
	for range 3 {
		f, err := os.Open("/tmp/engine-orders.jsonl")
		if err != nil {
			t.Skip()
		}
		var sum batch.Summary
		if err := batch.Run(context.Background(), src, f, batch.Options{Summary: &sum}); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

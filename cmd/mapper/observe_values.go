package main

import (
	"fmt"

	"github.com/mapperhq/mapper/mapper/samples"
)

// newValueProfiler opens the failing-value profiles kept beside the
// samples in dir, for a command that maps records (run, demo, samples
// add). Like the sample store it observes the worker and is closed after
// it stopped. Write errors are reported on e.stderr, each kind once. sink,
// when not nil, is told of the profiles too (the samples topic's writer).
func newValueProfiler(e *env, dir string, sink samples.ValuesSink) (*samples.Values, error) {
	v, err := samples.OpenValues(samples.ValuesConfig{Dir: dir, OnError: reportOnce(e, nil), Sink: sink})
	if err != nil {
		return nil, fmt.Errorf("open value profiles %s: %w", dir, err)
	}
	return v, nil
}

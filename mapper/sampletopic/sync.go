package sampletopic

import (
	"context"
	"fmt"
)

// Sync writes every record pending when it is called (and any queued
// since) and returns once the brokers acknowledged them (acks=all), or the
// error of the write: the records that failed stay pending for the next
// flush. It waits for a flush under way to end first. A worker calls it
// before committing offsets, after handing the store's counts over
// (samples.Store.ShareCounts), so that the counts of the records it
// commits are in the topic even if it is killed right after; bound it
// with ctx. After Close it does nothing. Safe for concurrent use.
func (w *Writer) Sync(ctx context.Context) error {
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return nil
	}
	if err := w.flush(ctx); err != nil {
		return fmt.Errorf("samples topic %s: sync: %w", w.cfg.Topic, err)
	}
	return nil
}

package samples

import "context"

// ShareCounts hands the counts the store holds (every record observed so
// far) to its Sink at once, as a flush would, and returns when the sink
// has them; it writes no file. A worker calls it before committing
// offsets, so that the sink can make the counts of the records about to be
// committed durable first. It is safe for concurrent use. Without a Sink,
// or after Close (which hands the last counts over itself), it does
// nothing; it returns ctx's error if ctx ends first.
func (s *Store) ShareCounts(ctx context.Context) error {
	if s.cfg.Sink == nil {
		return nil
	}
	done := make(chan struct{})
	select {
	case s.share <- done:
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// shareCounts hands the counts to the sink, from the writer goroutine.
func (s *Store) shareCounts() {
	s.mu.Lock()
	idx := s.indexLocked()
	s.cfg.Sink.Index(idx)
}

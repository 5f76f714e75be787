package stream

import (
	"context"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/release"
)

// mapRecord is the worker's per-record map step: with a release controller
// (Config.Release) it maps with rules, the rule sets of the record's batch
// (live, shadow, canary, breaker); otherwise it routes the record with the
// engine and maps it. origin must be filled in. A non-nil resume means the
// breaker holds the record: res has no result, and the record is mapped
// again, with the rules then current, once resume is closed.
func (w *Worker) mapRecord(rules *release.Rules, m *mapper.Mapper, rs *release.Scratch, origin *mapper.Origin, payload []byte, res *mapper.Result) (src *mapper.Source, resume <-chan struct{}) {
	if w.cfg.Release != nil {
		return rules.Map(rs, origin, payload, res)
	}
	src = w.cfg.Engine.RouteInto(origin.Topic, origin.Headers, payload, res)
	if src == nil {
		return nil, nil
	}
	m.Map(src, payload, res)
	return src, nil
}

// batchRules returns the rule sets a batch is mapped with: those loaded
// now, so that a swap falls between two batches; the zero Rules without a
// release controller.
func (w *Worker) batchRules() release.Rules {
	if w.cfg.Release == nil {
		return release.Rules{}
	}
	return w.cfg.Release.Current()
}

// mapHeld waits until the breaker resumes each record of recs it holds and
// maps it again with remap (which gets buffers of its own), in order, until
// none is held. It returns false if ctx ended first: then the records have
// no result and must be neither delivered nor committed.
func (w *Worker) mapHeld(ctx context.Context, recs []mapped, remap func(i int, rules *release.Rules, s *scratch)) bool {
	var s *scratch // made for the first record held: most batches have none
	defer func() {
		if s != nil {
			s.flush(w.stats)
		}
	}()
	for i := range recs {
		for recs[i].resume != nil {
			if s == nil {
				s = newScratch(w.cfg.Observers)
			}
			select {
			case <-recs[i].resume:
			case <-ctx.Done():
				return false
			}
			rules := w.batchRules()
			remap(i, &rules, s)
		}
	}
	return true
}

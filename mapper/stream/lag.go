package stream

import (
	"context"
	"time"
)

// LagGauge receives the consumer lag of one input partition.
// *metrics.Client satisfies it. It is called from one goroutine at a time.
type LagGauge interface {
	ConsumerLag(topic string, partition int, lag int64)
}

// DefaultLagInterval is how often ReportLag measures the lag when its
// interval is zero.
const DefaultLagInterval = 5 * time.Second

// ReportLag measures the consumer lag of every input partition from the
// brokers every interval (DefaultLagInterval when zero) and sends it to g,
// until ctx ends. A failed measurement is logged at debug level and tried
// again at the next tick. It blocks; run it beside Run and cancel its
// context when Run returns.
func (w *Worker) ReportLag(ctx context.Context, interval time.Duration, g LagGauge) {
	if interval <= 0 {
		interval = DefaultLagInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		lctx, cancel := context.WithTimeout(ctx, interval)
		lags, err := w.Lag(lctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				w.cfg.Logger.Debug("consumer lag", "error", err)
			}
			continue
		}
		for _, l := range lags {
			g.ConsumerLag(l.Topic, l.Partition, l.Lag)
		}
	}
}

package observe

import (
	"context"
	"log/slog"
	"time"

	"github.com/mapperhq/mapper/internal/ratelog"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/samples"
	"github.com/mapperhq/mapper/mapper/sampletopic"
)

// Shared says which samples topic a worker shares with its group, and how
// to reach it.
type Shared struct {
	Kafka kafkaconn.Config
	Topic string
}

// sharedSamples is a worker's part of the samples topic: the writer its
// sample store feeds and the ledger its Sentry alerts ask.
type sharedSamples struct {
	writer *sampletopic.Writer
	ledger *sampletopic.Ledger
}

// openSharedSamples checks the samples topic (it must exist and be
// compacted), reads it, and starts the writer, under the worker id kept in
// the samples directory dir. Nothing is left running on error.
func openSharedSamples(ctx context.Context, s *Shared, dir string, logger *slog.Logger) (*sharedSamples, error) {
	cfg := sampletopic.Config{Kafka: s.Kafka, Topic: s.Topic}
	if _, err := sampletopic.Check(ctx, cfg); err != nil {
		return nil, err
	}
	id, err := samples.WorkerID(dir)
	if err != nil {
		return nil, err
	}
	start, err := sampletopic.Read(ctx, cfg, sampletopic.ReadOptions{})
	if err != nil {
		return nil, err
	}
	if start.Skipped > 0 {
		logger.Warn("samples topic: records not understood were skipped", "topic", s.Topic, "skipped", start.Skipped, "first", start.SkippedWhy[0])
	}
	ledger, err := sampletopic.NewLedger(cfg, id, start)
	if err != nil {
		return nil, err
	}
	w, err := sampletopic.NewWriter(ctx, sampletopic.WriterConfig{Config: cfg, Worker: id, Start: start, Ledger: ledger, Logger: logger})
	if err != nil {
		return nil, err
	}
	logger.Info("samples topic", "topic", s.Topic, "worker", id, "records", start.Records, "workers", start.Workers())
	return &sharedSamples{writer: w, ledger: ledger}, nil
}

// closeShared stops the writer of shared, if any.
func closeShared(shared *sharedSamples) {
	if shared != nil {
		_ = shared.writer.Close()
	}
}

// countsSyncTimeout bounds how long an offset commit waits for the samples
// topic to acknowledge the counts: past it the commit goes ahead (the
// counts follow at the writer's next flush), so a samples topic that is
// down slows commits but never stops the worker.
const countsSyncTimeout = 5 * time.Second

// durableCounts makes the samples topic's counts of the records a commit
// covers durable before the commit: the worker asks it before every offset
// commit (stream.CommitObserver), when the store has observed every record
// the commit covers; the store hands its counts to the writer, which
// writes them and waits for the acknowledgement. So a worker killed
// outright right after a commit has its counts of the committed records in
// the topic.
type durableCounts struct {
	store  *samples.Store
	writer *sampletopic.Writer
	log    *ratelog.Logger
}

// Observe does nothing: the store counts the records.
func (durableCounts) Observe(*mapper.Origin, *mapper.Source, []byte, *mapper.Result, time.Duration) {}

// BeforeCommit writes the counts, for at most countsSyncTimeout.
func (d durableCounts) BeforeCommit(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, countsSyncTimeout)
	defer cancel()
	err := d.store.ShareCounts(ctx)
	if err == nil {
		err = d.writer.Sync(ctx)
	}
	if err != nil {
		d.log.Warn("samples topic: counts not written before an offset commit; they follow at the next flush", "error", err)
	}
}

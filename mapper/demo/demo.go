// Package demo is what mapper demo runs besides the worker: the fixtures it
// produces (fixtures/<source>/*.json and *.jsonl, and records for a topic no
// rule claims), an in-process Kafka-protocol broker with the demo's topics,
// a producer that writes the fixtures at a steady rate, and the live
// summary.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/mapperhq/mapper/internal/loopback"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/stream"
)

// Fixture is one payload, the headers it is produced with and its topic.
type Fixture struct {
	Topic   string
	Payload []byte
	Headers []kafka.Header // from fixtures/<source>/headers.txt
}

// LoadFixtures reads fixtures/<source>/*.json (one payload each) and
// *.jsonl (one payload a line) for every source of eng. A payload goes to
// the source's topic whose last dot-separated part starts the file name
// (pull_request.opened.json → github.pull_request), else to the source's
// first topic. It returns one list per source that has fixtures.
func LoadFixtures(fsys fs.FS, eng *mapper.Engine) (bySource [][]Fixture, unclaimed []Fixture, err error) {
	var all [][]Fixture
	for _, src := range eng.Sources() {
		names, err := fs.Glob(fsys, src.Name()+"/*.json*")
		if err != nil {
			return nil, nil, fmt.Errorf("fixtures of %s: %w", src.Name(), err)
		}
		sort.Strings(names)
		hdrs, err := ReadHeaders(fsys, src.Name())
		if err != nil {
			return nil, nil, err
		}
		var fx []Fixture
		for _, name := range names {
			ext := path.Ext(name)
			if ext != ".json" && ext != ".jsonl" {
				continue
			}
			topic := src.Topics()[0]
			base := path.Base(name)
			for _, t := range src.Topics() {
				if last := t[strings.LastIndexByte(t, '.')+1:]; strings.HasPrefix(base, last+".") {
					topic = t
				}
			}
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, nil, fmt.Errorf("fixture %s: %w", name, err)
			}
			var kh []kafka.Header
			for _, h := range hdrs.ForFile(base) {
				kh = append(kh, kafka.Header{Key: h.Key, Value: h.Value})
			}
			if ext == ".json" {
				fx = append(fx, Fixture{Topic: topic, Payload: data, Headers: kh})
				continue
			}
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 16<<20)
			for sc.Scan() {
				if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
					fx = append(fx, Fixture{Topic: topic, Payload: append([]byte(nil), line...), Headers: kh})
				}
			}
			if err := sc.Err(); err != nil {
				return nil, nil, fmt.Errorf("fixture %s: %w", name, err)
			}
		}
		if len(fx) > 0 {
			all = append(all, fx)
		}
	}
	if len(all) == 0 {
		return nil, nil, fmt.Errorf("no fixtures found for any source (want fixtures/<source>/*.json or *.jsonl)")
	}
	// fixtures/unclaimed/invoices.jsonl go, now and then, to a topic no rule
	// claims, so that the demo shows unknown_source too.
	if data, err := fs.ReadFile(fsys, "unclaimed/invoices.jsonl"); err == nil && len(eng.SourcesForTopic(UnclaimedTopic)) == 0 {
		for _, line := range bytes.Split(data, []byte("\n")) {
			if line = bytes.TrimSpace(line); len(line) > 0 {
				unclaimed = append(unclaimed, Fixture{Topic: UnclaimedTopic, Payload: line})
			}
		}
	}
	return all, unclaimed, nil
}

// UnclaimedEvery: one record in this many goes to the unclaimed topic.
const UnclaimedEvery = 50

// UnclaimedTopic is the demo's topic that no rule claims.
const UnclaimedTopic = "partner.unclaimed.raw"

// triedSources says, per demo topic where a record can find no source,
// which sources were tried: those that route by accept predicates (a source
// without any takes every record of its topic), or none for a topic no rule
// claims.
func triedSources(eng *mapper.Engine) string {
	var parts []string
	for _, t := range Topics(eng) {
		srcs := eng.SourcesForTopic(t)
		if len(srcs) == 0 {
			parts = append(parts, "no source claims "+t)
			continue
		}
		var names []string
		for _, src := range srcs {
			if len(src.Accept()) == 0 {
				names = nil
				break
			}
			names = append(names, src.Name())
		}
		if len(names) > 0 {
			parts = append(parts, "tried "+strings.Join(names, ", ")+" on "+t)
		}
	}
	return strings.Join(parts, "; ")
}

// Topics are the input topics of the demo: every claimed topic and the
// unclaimed one.
func Topics(eng *mapper.Engine) []string {
	ts := eng.Topics()
	if len(eng.SourcesForTopic(UnclaimedTopic)) == 0 {
		ts = append(ts, UnclaimedTopic)
	}
	return ts
}

// StartBroker starts an in-process Kafka-protocol broker on a loopback
// port with the input, output and dead-letter topics.
func StartBroker(eng *mapper.Engine, partitions int, output, dlq string) (*kfake.Cluster, error) {
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.ListenFn(loopback.Listen),
		kfake.SeedTopics(int32(partitions), Topics(eng)...),
		kfake.SeedTopics(int32(partitions), output, dlq),
	)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker: %w", err)
	}
	return c, nil
}

// Producer produces the fixtures at a steady rate, round-robin over the
// sources, until ctx ends.
type Producer struct {
	w        *kafka.Writer
	fixtures [][]Fixture
	// unclaimed are produced as one record in UnclaimedEvery.
	unclaimed []Fixture
	rate      float64
	produced  atomic.Int64 // read by the summary while Run writes it
}

// NewProducer returns a producer that writes fixtures (one list per
// source, taking turns) and now and then one of unclaimed, rate records a
// second, with w. The caller closes w after Run returns.
func NewProducer(w *kafka.Writer, fixtures [][]Fixture, unclaimed []Fixture, rate float64) *Producer {
	return &Producer{w: w, fixtures: fixtures, unclaimed: unclaimed, rate: rate}
}

// Produced is how many records were written so far. Safe to call while Run
// runs.
func (p *Producer) Produced() int64 { return p.produced.Load() }

// Run produces until ctx ends (then it returns nil) or a write fails.
func (p *Producer) Run(ctx context.Context) error {
	const tick = 50 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	next := make([]int, len(p.fixtures))
	var src int
	var owed float64
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		owed += p.rate * tick.Seconds()
		n := int(owed)
		owed -= float64(n)
		if n == 0 {
			continue
		}
		msgs := make([]kafka.Message, 0, n)
		produced := p.produced.Load()
		for range n {
			fx := p.fixtures[src]
			f := fx[next[src]%len(fx)]
			next[src]++
			if len(p.unclaimed) > 0 && (produced+int64(len(msgs)))%UnclaimedEvery == UnclaimedEvery-1 {
				f = p.unclaimed[int(produced/UnclaimedEvery)%len(p.unclaimed)]
			}
			msgs = append(msgs, kafka.Message{
				Topic:   f.Topic,
				Key:     fmt.Appendf(nil, "demo-%d", produced+int64(len(msgs))),
				Value:   f.Payload,
				Headers: f.Headers,
			})
			src = (src + 1) % len(p.fixtures)
		}
		if err := p.w.WriteMessages(ctx, msgs...); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("produce fixtures: %w", err)
		}
		p.produced.Add(int64(len(msgs)))
	}
}

// WriteSummary writes the live summary: outcomes, per source, top
// failure categories and lag.
func WriteSummary(out io.Writer, eng *mapper.Engine, elapsed time.Duration, produced int64, c stream.Counts, lag int64, lagErr error, statusURL string) {
	total := c.Mapped + c.Degraded + c.Rejected
	pct := func(n, of int64) string {
		if of == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
	}
	fmt.Fprintf(out, "mapper demo  %s  produced %d  processed %d  lag %d", elapsed.Round(time.Second), produced, total, lag)
	if lagErr != nil {
		fmt.Fprintf(out, " (lag unknown: %v)", lagErr)
	}
	fmt.Fprintln(out)
	if statusURL != "" {
		fmt.Fprintf(out, "status page  %s\n", statusURL)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\noutcome\trecords\tshare\t\n")
	fmt.Fprintf(tw, "mapped\t%d\t%s\t\n", c.Mapped, pct(c.Mapped, total))
	fmt.Fprintf(tw, "degraded\t%d\t%s\t\n", c.Degraded, pct(c.Degraded, total))
	fmt.Fprintf(tw, "rejected\t%d\t%s\t\n", c.Rejected, pct(c.Rejected, total))
	tw.Flush()
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nsource\tversion\tmapped\tdegraded\trejected\tdelivered\tobjective\n")
	unknown := false
	for _, s := range c.Sources {
		name, obj := s.Source, "-"
		if name == "" {
			name, unknown = mapper.Unrouted, true
		} else if src := eng.Source(name); src != nil && src.Objective().MappedRatio > 0 {
			obj = fmt.Sprintf("%.0f%%", 100*src.Objective().MappedRatio)
		}
		n := s.Mapped + s.Degraded + s.Rejected
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", name, s.RulesVersion, s.Mapped, s.Degraded, s.Rejected, pct(s.Mapped+s.Degraded, n), obj)
	}
	tw.Flush()
	if unknown {
		fmt.Fprintf(out, "(%s: records no source accepts, failure unknown_source; %s)\n", mapper.Unrouted, triedSources(eng))
	}
	fmt.Fprintf(out, "\ntop failure categories\n")
	if len(c.TopFailures) == 0 {
		fmt.Fprintf(out, "  (none yet)\n")
	}
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, f := range c.TopFailures {
		name := f.Source
		if name == "" {
			name = mapper.Unrouted // the category is unknown_source
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\n", f.Count, name, f.Category)
	}
	tw.Flush()
}

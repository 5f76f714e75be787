package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"sort"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/stream"
)

// demoFixture is one payload and the topic it is produced to.
type demoFixture struct {
	topic   string
	payload []byte
	headers []kafka.Header // from fixtures/<source>/headers.txt
}

// loadDemoFixtures reads fixtures/<source>/*.json (one payload each) and
// *.jsonl (one payload a line) for every source of eng. A payload goes to
// the source's topic whose last dot-separated part starts the file name
// (pull_request.opened.json → github.pull_request), else to the source's
// first topic. It returns one list per source that has fixtures.
func loadDemoFixtures(fsys fs.FS, eng *mapper.Engine) (bySource [][]demoFixture, unclaimed []demoFixture, err error) {
	var all [][]demoFixture
	for _, src := range eng.Sources() {
		names, err := fs.Glob(fsys, src.Name()+"/*.json*")
		if err != nil {
			return nil, nil, fmt.Errorf("fixtures of %s: %w", src.Name(), err)
		}
		sort.Strings(names)
		hdrs, err := readFixtureHeaders(fsys, src.Name())
		if err != nil {
			return nil, nil, err
		}
		var fx []demoFixture
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
			for _, h := range hdrs.forFile(base) {
				kh = append(kh, kafka.Header{Key: h.Key, Value: h.Value})
			}
			if ext == ".json" {
				fx = append(fx, demoFixture{topic, data, kh})
				continue
			}
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 16<<20)
			for sc.Scan() {
				if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
					fx = append(fx, demoFixture{topic, append([]byte(nil), line...), kh})
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
	if data, err := fs.ReadFile(fsys, "unclaimed/invoices.jsonl"); err == nil && len(eng.SourcesForTopic(demoUnclaimedTopic)) == 0 {
		for _, line := range bytes.Split(data, []byte("\n")) {
			if line = bytes.TrimSpace(line); len(line) > 0 {
				unclaimed = append(unclaimed, demoFixture{demoUnclaimedTopic, line, nil})
			}
		}
	}
	return all, unclaimed, nil
}

// unclaimedEvery: one record in this many goes to the unclaimed topic.
const unclaimedEvery = 50

// demoUnclaimedTopic is the demo's topic that no rule claims.
const demoUnclaimedTopic = "partner.unclaimed.raw"

// demoTopics are the input topics of the demo: every claimed topic and the
// unclaimed one.
func demoTopics(eng *mapper.Engine) []string {
	ts := eng.Topics()
	if len(eng.SourcesForTopic(demoUnclaimedTopic)) == 0 {
		ts = append(ts, demoUnclaimedTopic)
	}
	return ts
}

// startDemoBroker starts an in-process Kafka-protocol broker on a loopback
// port with the input, output and dead-letter topics.
func startDemoBroker(eng *mapper.Engine, partitions int, output, dlq string) (*kfake.Cluster, error) {
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.ListenFn(func(network, address string) (net.Listener, error) { return listenLoopback(address) }),
		kfake.SeedTopics(int32(partitions), demoTopics(eng)...),
		kfake.SeedTopics(int32(partitions), output, dlq),
	)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker: %w", err)
	}
	return c, nil
}

// demoProducer produces the fixtures at a steady rate, round-robin over the
// sources, until ctx ends.
type demoProducer struct {
	w        *kafka.Writer
	fixtures [][]demoFixture
	// unclaimed are produced as one record in unclaimedEvery.
	unclaimed []demoFixture
	rate      float64
	produced  atomic.Int64 // read by the summary while run writes it
}

func (p *demoProducer) run(ctx context.Context) error {
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
			if len(p.unclaimed) > 0 && (produced+int64(len(msgs)))%unclaimedEvery == unclaimedEvery-1 {
				f = p.unclaimed[int(produced/unclaimedEvery)%len(p.unclaimed)]
			}
			msgs = append(msgs, kafka.Message{
				Topic:   f.topic,
				Key:     fmt.Appendf(nil, "demo-%d", produced+int64(len(msgs))),
				Value:   f.payload,
				Headers: f.headers,
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

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// writeDemoSummary writes the live summary: outcomes, per source, top
// failure categories and lag.
func writeDemoSummary(out io.Writer, eng *mapper.Engine, elapsed time.Duration, produced int64, c stream.Counts, lag int64, lagErr error, statusURL string) {
	total := c.Mapped + c.Degraded + c.Rejected
	pct := func(n, of int64) string {
		if of == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
	}
	fmt.Fprintf(out, "mapper demo  %s  produced %d  mapped %d  lag %d", elapsed.Round(time.Second), produced, total, lag)
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
	for _, s := range c.Sources {
		name, obj := s.Source, "-"
		if name == "" {
			name = "(no rule set)"
		} else if src := eng.Source(name); src != nil && src.Objective().MappedRatio > 0 {
			obj = fmt.Sprintf("%.0f%%", 100*src.Objective().MappedRatio)
		}
		n := s.Mapped + s.Degraded + s.Rejected
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", name, s.RulesVersion, s.Mapped, s.Degraded, s.Rejected, pct(s.Mapped+s.Degraded, n), obj)
	}
	tw.Flush()
	fmt.Fprintf(out, "\ntop failure categories\n")
	if len(c.TopFailures) == 0 {
		fmt.Fprintf(out, "  (none yet)\n")
	}
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, f := range c.TopFailures {
		name := f.Source
		if name == "" {
			name = "(no rule set)"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\n", f.Count, name, f.Category)
	}
	tw.Flush()
}

// listenLoopback listens on address, on the loopback interface when address
// has no host.
func listenLoopback(address string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.Listen("tcp", net.JoinHostPort(host, port))
}

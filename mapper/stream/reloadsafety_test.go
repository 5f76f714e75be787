package stream_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/internal/syncbuf"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/release"
	"github.com/mapperhq/mapper/mapper/stream"
)

// TestReloadThatDropsAConsumedTopicIsRefused reloads, while records flow,
// rules whose only source moved to another topic: the reload is refused
// with a line naming the topic and the source, the running rules stay, and
// every record of the consumed topic is still mapped by them — none is
// dead-lettered as unknown_source.
func TestReloadThatDropsAConsumedTopicIsRefused(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in, out, dlq := b.Topic(t, "orders", 2), b.Topic(t, "out", 1), b.Topic(t, "dlq", 1)
			dir := filepath.Join(t.TempDir(), "rules")
			releaseRules(t, "live", dir, in)
			live := loadRules(t, dir)
			var logs syncbuf.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			rel, err := release.New(release.Config{Live: live, Consumed: []string{in}, Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			load := func() (*mapper.Engine, *mapper.Engine, error) {
				e, err := mapper.Load(dir, filepath.Join(releaseData, "schemas"), mapper.Options{})
				return e, nil, err
			}
			reloader := release.NewReloader(rel, load, dir)
			var printed bytes.Buffer
			reloader.Out, reloader.Logger = &printed, logger
			cfg := testConfig(b, live, kafkatest.UniqueName("g"), []string{in}, out, dlq)
			cfg.Release = rel
			r := start(t, cfg)

			b.Produce(t, in, orderRecords(t, 100, 0)...)
			waitLagZero(t, r.w, 60*time.Second)
			// The candidate set is version 2 of the same source; here it
			// claims another topic, as an edit of topics: would.
			releaseRules(t, "candidate", dir, in+"-renamed")
			err = reloader.Reload()
			var ue *release.UnclaimedError
			if !errors.Is(err, release.ErrRefused) || !errors.Is(err, release.ErrTopicUnclaimed) || !errors.As(err, &ue) {
				t.Fatalf("Reload: got %v, want ErrRefused wrapping an *UnclaimedError", err)
			}
			if len(ue.Topics) != 1 || ue.Topics[0] != in || strings.Join(ue.Sources[in], ",") != "orders" {
				t.Errorf("unclaimed: topics %v, sources %v; want %s claimed now by orders", ue.Topics, ue.Sources, in)
			}
			wantLine := `the new rules claim no source for consumed topic "` + in + `" (claimed now by orders)`
			if p := printed.String(); !strings.Contains(p, "reload refused; the running rules stay") || !strings.Contains(p, wantLine) {
				t.Errorf("printed lacks the refusal line %q:\n%s", wantLine, p)
			}
			if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "reload refused; the running rules stay") ||
				!strings.Contains(l, `claim no source for consumed topic \"`+in+`\"`) {
				t.Errorf("log lacks an error line naming the unclaimed topic %s:\n%s", in, l)
			}
			if v := r.w.Status(context.Background(), 0).Rules["orders"]; v != 1 {
				t.Fatalf("rules version %d after the refused reload, want 1", v)
			}

			b.Produce(t, in, orderRecords(t, 100, 100)...)
			waitLagZero(t, r.w, 60*time.Second)
			for _, m := range b.ReadAll(t, dlq) {
				if f, _ := kafkatest.Header(m, stream.HeaderFailure); strings.HasPrefix(f, string(mapper.ReasonUnknownSource)) {
					t.Fatalf("record %s dead-lettered as unknown_source after the refused reload", originOf(t, m))
				}
			}
			got := copies(t, b, out, dlq)
			for _, m := range b.ReadAll(t, in) {
				cs := got[coord(m)]
				if len(cs) != 1 || versionOf(t, cs[0]) != 1 {
					t.Fatalf("input %s: %d copies, want one mapped by the running version 1", coord(m), len(cs))
				}
			}
		})
	}
}

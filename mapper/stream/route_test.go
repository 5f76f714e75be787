package stream_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/stream"
)

// TestSharedTopicRoutesByHeader produces real GitHub webhook payloads of
// four events to one topic, the event in the X-GitHub-Event header as
// GitHub sends it: issues and pull requests are mapped, issue_comment and
// push are unknown_source in the dead-letter topic.
func TestSharedTopicRoutesByHeader(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in := b.Topic(t, "webhooks", 2)
			out, dlq := b.Topic(t, "out", 1), b.Topic(t, "dlq", 1)

			rules := filepath.Join(t.TempDir(), "rules")
			if err := os.Mkdir(rules, 0o755); err != nil {
				t.Fatal(err)
			}
			text, err := os.ReadFile("../../rules/github-work-items.yaml")
			if err != nil {
				t.Fatal(err)
			}
			shared := strings.Replace(string(text), "topics: [github.webhooks]", "topics: ["+in+"]", 1)
			if err := os.WriteFile(filepath.Join(rules, "github.yaml"), []byte(shared), 0o644); err != nil {
				t.Fatal(err)
			}
			e, err := mapper.Load(rules, "../../schemas", mapper.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var msgs []kafka.Message
			for _, f := range []string{"issues.opened.payload.json", "issue_comment.created.payload.json",
				"push.payload.json", "pull_request.opened.payload.json"} {
				v, err := os.ReadFile(filepath.Join("../../fixtures/github-work-items", f))
				if err != nil {
					t.Fatal(err)
				}
				event := f[:strings.IndexByte(f, '.')]
				msgs = append(msgs, kafka.Message{Key: []byte(event), Value: v,
					Headers: []kafka.Header{{Key: "X-GitHub-Event", Value: []byte(event)}}})
			}
			b.Produce(t, in, msgs...)

			r := start(t, testConfig(b, e, kafkatest.UniqueName("g"), []string{in}, out, dlq))
			waitLagZero(t, r.w, 60*time.Second)
			if err := r.stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			got := map[string]string{} // event → where it went
			for _, m := range b.ReadAll(t, out) {
				got[string(m.Key)] = "output"
			}
			for _, m := range b.ReadAll(t, dlq) {
				f, _ := kafkatest.Header(m, stream.HeaderFailure)
				got[string(m.Key)] = "dead-letter " + f
			}
			want := map[string]string{"issues": "output", "pull_request": "output",
				"issue_comment": "dead-letter unknown_source", "push": "dead-letter unknown_source"}
			for ev, w := range want {
				if got[ev] != w {
					t.Errorf("%s event: %q, want %q", ev, got[ev], w)
				}
			}
		})
	}
}

package replay

import (
	"context"
	"os"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// TestReplayRoutesByTheKeptHeaders replays samples kept from the shared
// GitHub topic: their headers decide, as they did in the worker, whether
// the source takes them.
func TestReplayRoutesByTheKeptHeaders(t *testing.T) {
	e, err := mapper.Load("../../rules", "../../schemas", mapper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile("../../fixtures/github-work-items/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	smp := func(source, event string, payload []byte) samples.Sample {
		return samples.Sample{Source: source, Topic: "github.webhooks", Category: samples.CleanCategory,
			Outcome: mapper.OutcomeMapped, Payload: payload,
			Headers: []samples.Header{{Key: "X-GitHub-Event", Value: samples.Bytes(event)}}}
	}
	in := []samples.Sample{
		smp("github-work-items", "issues", read("issues.opened.payload.json")),
		smp("github-work-items", "issue_comment", read("issue_comment.created.payload.json")),
		smp("", "pull_request", read("pull_request.opened.payload.json")),
		smp("", "push", read("push.payload.json")),
	}
	var got []string
	if _, err := Run(context.Background(), e, in, Options{Each: func(i int, v Verdict, after *mapper.Result) {
		s := string(after.Outcome)
		if len(after.Failures) > 0 {
			s += " " + string(after.Failures[0].Reason)
		}
		got = append(got, s)
	}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"mapped", "rejected unknown_source", "mapped", "rejected unknown_source"}
	if len(got) != len(want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sample %d: %s, want %s", i, got[i], want[i])
		}
	}
}

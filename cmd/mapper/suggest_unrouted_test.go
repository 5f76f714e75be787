package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper"
)

// unroutedMarker is written into the comment of every issue_comment
// record: no file or output may hold it (the records' payloads are not
// kept, nor any value of theirs).
const unroutedMarker = "Qz9UnroutedMarker"

// runUnrouted runs mapper run over the shipped GitHub fixtures on a real
// broker — issue_comment and push webhooks no source accepts, a few star
// events, issues the shipped source takes — and the unclaimed invoices on
// a topic no source claims, and returns the samples directory it kept.
func runUnrouted(t *testing.T) string {
	t.Helper()
	b := kafkatest.StartKfake(t, kfake.SeedTopics(2, "github.webhooks", "partner.unclaimed.raw", "out", "dlq"))
	fixture := func(name string) []byte {
		p, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "github-work-items", name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	comment := bytes.Replace(fixture("issue_comment.created.payload.json"), []byte("You are totally right!"), []byte(unroutedMarker), 1)
	if !bytes.Contains(comment, []byte(unroutedMarker)) {
		t.Fatal("the marker is not in the issue_comment payload")
	}
	event := func(name string, payload []byte, n int) []kafka.Message {
		var ms []kafka.Message
		for i := range n {
			hs := []kafka.Header{{Key: "X-GitHub-Event", Value: []byte(name)}}
			if name != "issues" {
				// A header no rule routes on: its value is not kept for
				// records no source accepts.
				hs = append(hs, kafka.Header{Key: "X-GitHub-Delivery", Value: []byte(unroutedMarker)})
			}
			ms = append(ms, kafka.Message{Key: fmt.Appendf(nil, "%s-%d", name, i), Value: payload, Headers: hs})
		}
		return ms
	}
	var gh []kafka.Message
	gh = append(gh, event("issue_comment", comment, 24)...)
	gh = append(gh, event("push", fixture("push.payload.json"), 16)...)
	gh = append(gh, event("star", []byte(`{"action":"created","starred_at":"2019-05-15T15:20:40Z"}`), 3)...)
	gh = append(gh, event("issues", fixture("issues.opened.payload.json"), 10)...)
	b.Produce(t, "github.webhooks", gh...)
	invoices, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "unclaimed", "invoices.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var inv []kafka.Message
	lines := bytes.Split(bytes.TrimSpace(invoices), []byte("\n"))
	for i := range 12 {
		inv = append(inv, kafka.Message{Key: fmt.Appendf(nil, "inv-%d", i), Value: lines[i%len(lines)]})
	}
	b.Produce(t, "partner.unclaimed.raw", inv...)
	total := len(gh) + len(inv)

	dir := filepath.Join(t.TempDir(), "samples")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stderr string
	go func() {
		code, _, e := runCmd(t, ctx, map[string]string{"MAPPER_BROKERS": b.Addr, "MAPPER_OUTPUT_TOPIC": "out", "MAPPER_DLQ_TOPIC": "dlq", "MAPPER_SAMPLES": dir},
			"run", "--rules", "../../rules", "--schemas", "../../schemas", "--status-addr", "", "--group", "unrouted-test",
			"--topics", "github.webhooks,partner.unclaimed.raw")
		stderr = e
		done <- code
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		o, err1 := b.End(ctx, "out")
		d, err2 := b.End(ctx, "dlq")
		if err1 == nil && err2 == nil && o+d >= int64(total) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("output+dead-letter records %d+%d, want %d", o, d, total)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("mapper run: exit %d\n%s", code, stderr)
	}
	return dir
}

func TestSuggestStartsASourceForUnroutedRecords(t *testing.T) {
	dir := runUnrouted(t)
	out := filepath.Join(t.TempDir(), "proposed")
	code, stdout, stderr := runCmd(t, context.Background(), nil,
		"suggest", "--samples", dir, "--source", "unrouted", "--out", out, "--rules", "../../rules", "--schemas", "../../schemas")
	if code != exitOK {
		t.Fatalf("suggest: exit %d\n%s%s", code, stdout, stderr)
	}
	golden(t, filepath.Join("testdata", "suggest", "unrouted.golden"), strings.ReplaceAll(stdout, out, "proposed"))
	rules, schemas := filepath.Join(out, "rules"), filepath.Join(out, "schemas")

	t.Run("the candidate passes mapper check as written", func(t *testing.T) {
		code, checkOut, checkErr := runCmd(t, context.Background(), nil, "check", "--rules", rules, "--schemas", schemas)
		if code != exitOK {
			t.Fatalf("check: exit %d\n%s%s", code, checkOut, checkErr)
		}
		for _, want := range []string{
			"ok  github-webhooks-issue-comment  version 1  topics github.webhooks  accept header X-GitHub-Event in [issue_comment]",
			"ok  github-webhooks-push  version 1  topics github.webhooks  accept header X-GitHub-Event in [push]",
			"ok  partner-unclaimed-raw  version 1  topics partner.unclaimed.raw  (",
			"ok  github-work-items  version 2",
		} {
			if !strings.Contains(checkOut, want) {
				t.Errorf("check output lacks %q:\n%s", want, checkOut)
			}
		}
	})

	t.Run("each starter takes and maps the records it was made for", func(t *testing.T) {
		cand, err := mapper.Load(rules, schemas, mapper.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			topic, event, file, source string
		}{
			{"github.webhooks", "issue_comment", "../../fixtures/github-work-items/issue_comment.created.payload.json", "github-webhooks-issue-comment"},
			{"github.webhooks", "push", "../../fixtures/github-work-items/push.payload.json", "github-webhooks-push"},
			{"github.webhooks", "issues", "../../fixtures/github-work-items/issues.opened.payload.json", "github-work-items"},
			{"partner.unclaimed.raw", "", "../../fixtures/unclaimed/invoices.jsonl", "partner-unclaimed-raw"},
		}
		for _, c := range cases {
			payload, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			payload, _, _ = bytes.Cut(payload, []byte("\n{")) // the first line of a JSON-lines file
			var hs []mapper.Header
			if c.event != "" {
				hs = []mapper.Header{{Key: "X-GitHub-Event", Value: []byte(c.event)}}
			}
			src, res := cand.Route(c.topic, hs, payload)
			if src == nil || src.Name() != c.source {
				t.Errorf("%s %s: routed to %v (%v), want %s", c.topic, c.event, src, res.Failures, c.source)
				continue
			}
			if res := src.Map(payload); res.Outcome != mapper.OutcomeMapped {
				t.Errorf("%s: %s with %v, want mapped", c.source, res.Outcome, res.Failures)
			}
		}
	})

	t.Run("the alternative accept edit sends the records to the shipped source", func(t *testing.T) {
		alt := filepath.Join(out, "alternatives", "github-webhooks-issue-comment", "github-work-items.yaml")
		text, err := os.ReadFile(alt)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"REVIEW before shipping", "version: 3", "in: [issues, pull_request, issue_comment] }"} {
			if !strings.Contains(string(text), want) {
				t.Errorf("the alternative lacks %q:\n%s", want, text)
			}
		}
		altRules := t.TempDir()
		if err := os.CopyFS(altRules, os.DirFS("../../rules")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(altRules, "github-work-items.yaml"), text, 0o644); err != nil {
			t.Fatal(err)
		}
		eng, err := mapper.Load(altRules, "../../schemas", mapper.Options{})
		if err != nil {
			t.Fatalf("the rules with the alternative do not load: %v", err)
		}
		src, res := eng.Route("github.webhooks", []mapper.Header{{Key: "X-GitHub-Event", Value: []byte("issue_comment")}}, nil)
		if src == nil || src.Name() != "github-work-items" || src.Version() != 3 {
			t.Errorf("routed to %v (%v), want github-work-items v3", src, res.Failures)
		}
	})

	t.Run("no value of an unrouted record is kept or printed", func(t *testing.T) {
		if strings.Contains(stdout, unroutedMarker) {
			t.Error("suggest printed the marker")
		}
		for _, d := range []string{dir, out} {
			err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
				if err != nil || e.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if err == nil && bytes.Contains(b, []byte(unroutedMarker)) {
					t.Errorf("%s holds the marker", p)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper/replay/dlq"
)

// The rules of the redaction reproduction: source orders redacts
// customer.email, customer.name and lines[].sku.
const redactTestdata = "../../internal/privacytest/testdata"

// driftedLines carry an address where the rules expect customer to be an
// object: as a string, and as an array of objects. Both have a state the
// v1 enum does not know, so that a rules change shows them in replay.
const driftedLines = `{"order_id":"O-1","customer":"Jane <jane@example.org>","state":"LOST"}
{"order_id":"O-2","customer":[{"email":"jane@example.org","name":"Jane Roe"}],"state":"LOST"}
{"order_id":"O-3","customer":{"email":"jane@example.org","name":"Jane Roe"},"lines":{"sku":"JANE-1"},"state":"LOST"}
`

// redactRules returns the v1 rules directory, and a v2 that adds LOST to
// the enum.
func redactRules(t *testing.T) (v1, v2, schemas string) {
	t.Helper()
	v1 = filepath.Join(redactTestdata, "rules")
	b, err := os.ReadFile(filepath.Join(v1, "orders.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	v2 = t.TempDir()
	b = bytes.Replace(b, []byte("version: 1"), []byte("version: 2"), 1)
	b = bytes.Replace(b, []byte("PAID: paid }"), []byte("PAID: paid, LOST: lost }"), 1)
	if err := os.WriteFile(filepath.Join(v2, "orders.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return v1, v2, filepath.Join(redactTestdata, "schemas")
}

// noTrace fails t if out holds any part of the address.
func noTrace(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range []string{"jane", "Jane", "JANE", "example.org"} {
		if strings.Contains(out, s) {
			t.Errorf("%s holds %q:\n%s", what, s, out)
		}
	}
}

// addDrifted imports driftedLines with the v1 rules into a new samples
// directory.
func addDrifted(t *testing.T) (dir, v2, schemas string) {
	t.Helper()
	v1, v2, schemas := redactRules(t)
	in := filepath.Join(t.TempDir(), "drifted.jsonl")
	if err := os.WriteFile(in, []byte(driftedLines), 0o644); err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(t.TempDir(), "samples")
	code, out, errOut := runMapperCLI(t, nil, "samples", "add", "--samples", dir, "--source", "orders", "--rules", v1, "--schemas", schemas, in)
	if code != exitOK || !strings.Contains(out, "mapped 3 payloads") {
		t.Fatalf("samples add: exit %d\n%s%s", code, out, errOut)
	}
	noTrace(t, "samples add output", out+errOut)
	return dir, v2, schemas
}

func TestSamplesAddKeepsNoTraceOfARedactedAddress(t *testing.T) {
	dir, _, _ := addDrifted(t)
	files := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		files++
		noTrace(t, p, string(b))
		return err
	})
	if err != nil || files < 3 {
		t.Fatalf("walked %d files: %v", files, err)
	}
	code, out, errOut := runMapperCLI(t, nil, "samples", "--samples", dir, "show", "--source", "orders", "--category", "type_mismatch:customer")
	if code != exitOK || !strings.Contains(out, "type_mismatch") {
		t.Fatalf("samples show: exit %d\n%s%s", code, out, errOut)
	}
	noTrace(t, "samples show", out)
}

func TestReplayShowKeepsNoTraceOfARedactedAddress(t *testing.T) {
	dir, v2, schemas := addDrifted(t)
	for _, format := range []string{"text", "json"} {
		args := []string{"replay", "--samples", dir, "--rules", v2, "--schemas", schemas, "--show", "5"}
		if format == "json" {
			args = append(args, "--json")
		}
		_, out, errOut := runMapperCLI(t, nil, args...)
		if !strings.Contains(out, "failing_differently") && !strings.Contains(out, "failing differently") {
			t.Fatalf("replay --show %s shows no changed example:\n%s%s", format, out, errOut)
		}
		noTrace(t, "replay --show ("+format+")", out+errOut)
	}
}

func TestReplayFromTopicShowKeepsNoTraceOfARedactedAddress(t *testing.T) {
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			addr := target.Start(t).Addr
			topic := createTestTopic(t, addr, "orders.dlq")
			var msgs []kafka.Message
			for _, line := range strings.Split(strings.TrimSpace(driftedLines), "\n") {
				msgs = append(msgs, kafka.Message{Value: []byte(line), Headers: []kafka.Header{
					{Key: dlq.HeaderSource, Value: []byte("orders")},
					{Key: dlq.HeaderRulesVersion, Value: []byte("1")},
					{Key: dlq.HeaderFailure, Value: []byte("unknown_enum:state")},
					{Key: dlq.HeaderFailureDetail, Value: []byte(`"LOST" is not one of OPEN, PAID`)},
					{Key: dlq.HeaderOriginTopic, Value: []byte("orders.raw")},
				}})
			}
			(&kafkatest.Broker{Addr: addr, Transport: &kafka.Transport{}}).Produce(t, topic, msgs...)
			_, v2, schemas := redactRules(t)
			for _, format := range []string{"text", "json"} {
				args := []string{"replay", "--from-topic", topic, "--brokers", addr, "--rules", v2, "--schemas", schemas, "--show", "5"}
				if format == "json" {
					args = append(args, "--json")
				}
				_, out, errOut := runMapperCLI(t, nil, args...)
				if !strings.Contains(errOut, "read 3 records") || !strings.Contains(out, "output") {
					t.Fatalf("replay --from-topic --show %s:\n%s%s", format, out, errOut)
				}
				noTrace(t, "replay --from-topic --show ("+format+")", out+errOut)
			}
		})
	}
}

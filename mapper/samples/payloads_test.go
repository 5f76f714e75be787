package samples_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mapperhq/mapper/mapper/samples"
)

func TestReadPayloads(t *testing.T) {
	long := `{"body":"` + strings.Repeat("x", 100<<10) + `"}`
	tests := []struct {
		name    string
		file    string
		content string
		want    []samples.Payload
		wantErr string
	}{
		{
			name:    "one JSON value spread over lines is one payload",
			file:    "push.json",
			content: "{\n  \"ref\": \"refs/heads/main\",\n  \"size\": 1\n}\n",
			want:    []samples.Payload{{Ref: "push.json", Data: []byte("{\n  \"ref\": \"refs/heads/main\",\n  \"size\": 1\n}")}},
		},
		{
			name:    "JSON lines give one payload a line, blank lines skipped, line numbers kept",
			file:    "dump.txt",
			content: "{\"a\":1}\n\n  {\"a\":2}  \n",
			want: []samples.Payload{
				{Ref: "dump.txt:1", Data: []byte(`{"a":1}`)},
				{Ref: "dump.txt:3", Data: []byte(`{"a":2}`)},
			},
		},
		{
			name:    "a .jsonl file holding one value is still read a line at a time",
			file:    "one.jsonl",
			content: "{\"a\":1}\n",
			want:    []samples.Payload{{Ref: "one.jsonl:1", Data: []byte(`{"a":1}`)}},
		},
		{
			name:    "a line that is not JSON is kept for the mapper to classify",
			file:    "mixed.ndjson",
			content: "{\"a\":1}\nnot json\n",
			want: []samples.Payload{
				{Ref: "mixed.ndjson:1", Data: []byte(`{"a":1}`)},
				{Ref: "mixed.ndjson:2", Data: []byte(`not json`)},
			},
		},
		{
			name:    "a line longer than the scanner's default buffer is read whole",
			file:    "long.jsonl",
			content: long + "\n",
			want:    []samples.Payload{{Ref: "long.jsonl:1", Data: []byte(long)}},
		},
		{
			name:    "a file of blank lines is an error naming the file",
			file:    "empty.jsonl",
			content: "\n  \n",
			wantErr: "empty.jsonl: no payload in the file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := samples.ReadPayloads(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadPayloads error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadPayloads = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadPayloadsMissingFileIsNotExist(t *testing.T) {
	_, err := samples.ReadPayloads(filepath.Join(t.TempDir(), "nope.json"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadPayloads error = %v, want one wrapping fs.ErrNotExist", err)
	}
}

// TestReadPayloadsRefusesAFileOverTheLimit gives a (sparse) file one byte
// over the limit: it is refused by its size, before any of it is read.
func TestReadPayloadsRefusesAFileOverTheLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(samples.MaxPayloadFileBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = samples.ReadPayloads(path)
	if err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("ReadPayloads error = %v, want the file refused over the limit", err)
	}
}

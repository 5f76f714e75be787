package progress

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSilentOffATerminal(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var buf bytes.Buffer
	for name, out := range map[string]interface{ Write([]byte) (int, error) }{"a buffer": &buf, "a file": file, "a pipe": w} {
		t.Run(name+" gets no bar", func(t *testing.T) {
			b := New(out, 1_000_000, "mapping")
			if b != nil {
				t.Fatalf("a bar on %s", name)
			}
			b.Add(10) // a nil bar does nothing
			b.Finish()
		})
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
	if st, _ := file.Stat(); st.Size() != 0 {
		t.Errorf("wrote %d bytes to the file", st.Size())
	}
}

func TestBarShowsRateAndTimeLeft(t *testing.T) {
	var buf bytes.Buffer
	b := newBar(&buf, 2000, "mapping orders")
	b.Add(1000)
	got := buf.String()
	for _, want := range []string{"mapping orders", "50%", "1000/2000", "records/s"} {
		if !bytes.Contains([]byte(got), []byte(want)) {
			t.Errorf("bar %q lacks %q", got, want)
		}
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    int64
	}{
		{"lines ending in a newline", "a\nb\nc\n", 3},
		{"a last line without one", "a\nb", 2},
		{"an empty file", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "in.jsonl")
			if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := Lines(f); got != tt.want {
				t.Errorf("Lines = %d, want %d", got, tt.want)
			}
			rest := make([]byte, len(tt.content)+1)
			n, _ := f.Read(rest)
			if string(rest[:n]) != tt.content {
				t.Errorf("the file was not read from its start after counting: %q", rest[:n])
			}
		})
	}
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	if got := Lines(r); got != -1 {
		t.Errorf("Lines of a pipe = %d, want -1", got)
	}
}

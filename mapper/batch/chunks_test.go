package batch

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// The reader makes at most maxChunks chunks, however long the input, and
// reuses those given back.
func TestReadChunksReusesAtMostMaxChunks(t *testing.T) {
	const lines, maxChunks = 5000, 3
	in := strings.NewReader(strings.Repeat(`{"a":1}`+"\n", lines))
	todo := make(chan *chunk, 1)
	free := make(chan *chunk, maxChunks)
	errc := make(chan error, 1)
	go func() {
		defer close(todo)
		errc <- readChunks(context.Background(), in, 7, 1<<20, maxChunks, todo, free)
	}()
	seen := map[*chunk]bool{}
	n := 0
	for c := range todo {
		seen[c] = true
		n += len(c.lines)
		free <- c
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n != lines {
		t.Errorf("read %d lines, want %d", n, lines)
	}
	if len(seen) > maxChunks {
		t.Errorf("made %d chunks, want at most %d", len(seen), maxChunks)
	}
}

// A reader waiting for a chunk to come back stops when its context ends.
func TestReadChunksWaitingStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	in := strings.NewReader(strings.Repeat(`{"a":1}`+"\n", 100))
	todo := make(chan *chunk, 10)
	errc := make(chan error, 1)
	go func() { errc <- readChunks(ctx, in, 1, 1<<20, 2, todo, make(chan *chunk, 2)) }()
	// Nothing is given back: the reader sends two chunks, then waits
	// (todo has room for more: only the missing chunk holds it).
	<-todo
	<-todo
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

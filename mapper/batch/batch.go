package batch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"

	"github.com/mapperhq/mapper/mapper"
)

// Options configures Run. The zero value maps on every core and discards
// the results.
type Options struct {
	// Workers is the number of mapping goroutines; zero means GOMAXPROCS.
	Workers int
	// ChunkLines is how many lines travel together; zero means 512.
	ChunkLines int
	// Out receives one result per line as JSON, in input order; nil
	// writes nothing.
	Out io.Writer
	// Summary, when set, has every result added to it.
	Summary *Summary
	// Progress, when set, is told how many more lines were mapped, in
	// order, from the goroutine that called Run (for a progress bar).
	Progress func(lines int)
	// Each, when set, is called for every line after it is mapped, from
	// the mapping goroutine numbered worker (0 to Workers-1; one goroutine
	// per number, so per-worker state needs no lock). line and res are
	// valid only during the call; line is nil for a line past
	// MaxLineBytes, which is not held (res says malformed_payload).
	Each func(worker int, line []byte, res *mapper.Result)
	// Headers are the record headers every line carries, for the source's
	// accept predicates (a line the source does not accept is
	// unknown_source); nil means none.
	Headers []mapper.Header
	// MaxLineBytes bounds a line: a longer one is not held in memory but
	// read past, and its result is malformed_payload. Zero means 1 MiB
	// (the engine's default payload limit).
	MaxLineBytes int
}

// tooLarge is the result of a line past the limit, read past unheld.
func tooLarge(size, limit int) mapper.Result {
	return mapper.Result{
		Outcome: mapper.OutcomeRejected,
		Output:  []byte("null"),
		Failures: []mapper.Failure{{Reason: mapper.ReasonMalformedPayload,
			Detail: "line of " + strconv.Itoa(size) + " bytes is over the limit of " + strconv.Itoa(limit) + "; skipped without being kept"}},
	}
}

type chunk struct {
	seq   int
	data  []byte
	lines [][2]int // start, end of each line in data
	out   []byte
	sum   Summary
}

// Run maps every line of in with src. It returns the first read or write
// error, or ctx's error when cancelled; results already written stay written.
func Run(ctx context.Context, src *mapper.Source, in io.Reader, opts Options) error {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	chunkLines := opts.ChunkLines
	if chunkLines <= 0 {
		chunkLines = 512
	}
	maxLine := opts.MaxLineBytes
	if maxLine <= 0 {
		maxLine = 1 << 20
	}
	maxCats := 0
	if opts.Summary != nil {
		maxCats = opts.Summary.MaxCategories
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	todo := make(chan *chunk, workers*2)
	done := make(chan *chunk, workers*2)
	// At most maxChunks chunks exist: the reader reuses those the writer
	// is done with, so that the lines' buffers are not allocated anew.
	maxChunks := workers*4 + 2
	free := make(chan *chunk, maxChunks)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m mapper.Mapper
			var res mapper.Result
			for c := range todo {
				c.out = c.out[:0]
				c.sum.MaxCategories = maxCats
				for _, ln := range c.lines {
					var line []byte // nil for a line past the limit
					if ln[1] < 0 {  // a line past the limit: its size, not its bytes
						res = tooLarge(-ln[1], maxLine)
					} else {
						line = c.data[ln[0]:ln[1]]
						m.MapRecord(src, opts.Headers, line, &res)
					}
					if opts.Out != nil {
						c.out = res.AppendJSON(c.out)
						c.out = append(c.out, '\n')
					}
					if opts.Summary != nil {
						c.sum.Add(&res)
					}
					if opts.Each != nil {
						opts.Each(w, line, &res)
					}
				}
				select {
				case done <- c:
				case <-ctx.Done():
					return
				}
			}
		}()
	}

	// Reader: split input into chunks of lines.
	readErr := make(chan error, 1)
	go func() {
		defer close(todo)
		readErr <- readChunks(ctx, in, chunkLines, maxLine, maxChunks, todo, free)
	}()
	go func() {
		wg.Wait()
		close(done)
	}()

	// Writer: put chunks back in order.
	var writeErr error
	pending := map[int]*chunk{}
	next := 0
	for c := range done {
		pending[c.seq] = c
		for {
			c, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if opts.Out != nil && writeErr == nil {
				if _, err := opts.Out.Write(c.out); err != nil {
					writeErr = fmt.Errorf("write results: %w", err)
					cancel()
				}
			}
			if opts.Summary != nil {
				opts.Summary.Merge(&c.sum)
				c.sum.Reset()
			}
			if opts.Progress != nil {
				opts.Progress(len(c.lines))
			}
			free <- c // room for every chunk: never blocks
		}
	}
	if err := <-readErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if writeErr != nil {
		return writeErr
	}
	return ctx.Err()
}

// readChunks splits in into chunks of lines, making at most maxChunks
// chunks and then waiting for one to come back on free. A line longer than
// maxLine is read past without being held: its entry is {0, -size}.
func readChunks(ctx context.Context, in io.Reader, chunkLines, maxLine, maxChunks int, todo chan<- *chunk, free chan *chunk) error {
	r := bufio.NewReaderSize(in, 1<<20)
	seq, made := 0, 0
	get := func() (*chunk, error) {
		var c *chunk
		if made < maxChunks {
			select {
			case c = <-free:
			default:
				made++
				return &chunk{}, nil
			}
		} else {
			// Every chunk is on its way to the writer, which gives each
			// back once written: the lowest numbered always gets there.
			select {
			case c = <-free:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		c.data, c.lines = c.data[:0], c.lines[:0]
		return c, nil
	}
	c, _ := get()
	send := func() error {
		c.seq = seq
		seq++
		select {
		case todo <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		var err error
		c, err = get()
		return err
	}
	for {
		line, err := r.ReadSlice('\n')
		size := len(line)
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it whole while it is
			// within the limit, then only count what is left of it.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				size += len(line)
				if size <= maxLine+2 {
					long = append(long, line...)
				} else {
					long = nil
				}
			}
			line = long
		}
		if trimmed := bytes.TrimRight(line, "\r\n"); size > maxLine+2 || len(trimmed) > maxLine {
			c.lines = append(c.lines, [2]int{0, -max(len(trimmed), size-1)})
			if len(c.lines) >= chunkLines {
				if err := send(); err != nil {
					return err
				}
			}
			line = nil
		}
		if len(line) > 0 {
			trimmed := bytes.TrimRight(line, "\r\n")
			if len(bytes.TrimSpace(trimmed)) > 0 {
				start := len(c.data)
				c.data = append(c.data, trimmed...)
				c.lines = append(c.lines, [2]int{start, len(c.data)})
				if len(c.lines) >= chunkLines {
					if err := send(); err != nil {
						return err
					}
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return fmt.Errorf("read input: %w", err)
			}
			break
		}
	}
	if len(c.lines) > 0 {
		return send()
	}
	return nil
}

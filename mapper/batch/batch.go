package batch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
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
	// valid only during the call.
	Each func(worker int, line []byte, res *mapper.Result)
	// Headers are the record headers every line carries, for the source's
	// accept predicates (a line the source does not accept is
	// unknown_source); nil means none.
	Headers []mapper.Header
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	todo := make(chan *chunk, workers*2)
	done := make(chan *chunk, workers*2)
	free := make(chan *chunk, workers*4+2)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m mapper.Mapper
			var res mapper.Result
			for c := range todo {
				c.out = c.out[:0]
				for _, ln := range c.lines {
					m.MapRecord(src, opts.Headers, c.data[ln[0]:ln[1]], &res)
					if opts.Out != nil {
						c.out = res.AppendJSON(c.out)
						c.out = append(c.out, '\n')
					}
					if opts.Summary != nil {
						c.sum.Add(&res)
					}
					if opts.Each != nil {
						opts.Each(w, c.data[ln[0]:ln[1]], &res)
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
		readErr <- readChunks(ctx, in, chunkLines, todo, free)
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
			select {
			case free <- c:
			default:
			}
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

func readChunks(ctx context.Context, in io.Reader, chunkLines int, todo chan<- *chunk, free chan *chunk) error {
	r := bufio.NewReaderSize(in, 1<<20)
	seq := 0
	get := func() *chunk {
		select {
		case c := <-free:
			c.data, c.lines = c.data[:0], c.lines[:0]
			return c
		default:
			return &chunk{}
		}
	}
	c := get()
	send := func() error {
		c.seq = seq
		seq++
		select {
		case todo <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		c = get()
		return nil
	}
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it whole.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
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

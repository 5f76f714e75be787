// Package progress draws a progress bar with records per second and the
// time left on a terminal, for long work over many records (map --lines,
// samples add, replay). It draws nothing when its writer is not a
// terminal, so logs, pipes and CI output stay clean.
package progress

import (
	"bytes"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// MinRecords is the least work worth a bar: below it, none is drawn.
const MinRecords = 1000

// Bar is a progress bar. A nil *Bar is valid and does nothing; its methods
// are safe for concurrent use.
type Bar struct {
	pb *progressbar.ProgressBar
}

// New returns a bar on w for total records (negative: unknown, a counter
// with a rate is drawn instead), described by what, or nil when w is not a
// terminal or total is known and below MinRecords.
func New(w io.Writer, total int64, what string) *Bar {
	if !IsTerminal(w) || (total >= 0 && total < MinRecords) {
		return nil
	}
	return newBar(w, total, what)
}

func newBar(w io.Writer, total int64, what string) *Bar {
	return &Bar{pb: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("records"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
	)}
}

// Add counts n more records done.
func (b *Bar) Add(n int) {
	if b != nil {
		_ = b.pb.Add(n)
	}
}

// Finish removes the bar from the terminal.
func (b *Bar) Finish() {
	if b != nil {
		_ = b.pb.Finish()
	}
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Lines counts the lines of a regular file and seeks back to where it was,
// for a bar's total; it returns -1 for anything else (a pipe, standard
// input) or on error.
func Lines(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return -1
	}
	defer f.Seek(pos, io.SeekStart)
	buf := make([]byte, 1<<20)
	var n int64
	last := byte('\n')
	for {
		k, err := f.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if k > 0 {
			last = buf[k-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return -1
		}
	}
	if last != '\n' {
		n++ // a last line without a newline
	}
	return n
}

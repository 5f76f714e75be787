package registry

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/mapperhq/mapper/mapper"
)

// HeaderLen is the length of the Confluent wire-format header: the magic
// byte 0 and the schema id as 4 big-endian bytes.
const HeaderLen = 5

// AppendHeader appends the wire-format header of schema id to dst.
func AppendHeader(dst []byte, id int) []byte {
	return binary.BigEndian.AppendUint32(append(dst, 0), uint32(id))
}

// Unframe returns the payload of a value in the wire format and its
// schema id. A value that is not framed (JSON never starts with a zero
// byte) is returned as is, with id 0. It does not copy.
func Unframe(value []byte) (payload []byte, id int) {
	if len(value) < HeaderLen || value[0] != 0 {
		return value, 0
	}
	return value[HeaderLen:], int(binary.BigEndian.Uint32(value[1:HeaderLen]))
}

// Unframe is the package's Unframe, so that a Client frames both ways.
func (c *Client) Unframe(value []byte) ([]byte, int) { return Unframe(value) }

// Prefix returns the wire-format header of src's output records, nil when
// src was not prepared (then its records would be plain JSON; Prepare
// installs every source of a rule set before the set maps a record). Safe
// for concurrent use; it does not allocate.
func (c *Client) Prefix(src *mapper.Source) []byte {
	return (*c.prefixes.Load())[src]
}

// Status is what /status shows: the registry's URL (no credentials) and
// each source's subject, version and schema id.
type Status struct {
	URL      string    `json:"url"`
	Subjects []Binding `json:"subjects"`
	NotReady string    `json:"not_ready,omitempty"`
}

// Status returns the client's Status.
func (c *Client) Status() any {
	return Status{URL: c.url, Subjects: c.Bindings(), NotReady: c.NotReady()}
}

// Describe says what the registry holds under schema id: "subject S
// version V" for each, or why it cannot say. Answers are cached per id.
func (c *Client) Describe(ctx context.Context, id int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.described[id]; ok {
		return d
	}
	vs, err := c.cl.SchemaVersionsByID(ctx, id)
	var d string
	switch {
	case notFound(err):
		d = "not in the registry"
	case err != nil:
		return "the registry cannot be asked: " + err.Error() // not cached: it may come back
	default:
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = fmt.Sprintf("subject %s version %d", v.Subject, v.Version)
		}
		d = strings.Join(parts, ", ")
	}
	if len(c.described) < 10000 {
		c.described[id] = d
	}
	return d
}

// UnframeLines returns a reader of r's lines with each line's wire-format
// header removed: a line that starts with the magic byte 0 loses its first
// HeaderLen bytes, whatever they are (an id's bytes may be a newline), and
// the rest of the line is passed through. Other lines are passed through
// as they are. It is how a capture of framed records, one a line, is read
// as payload lines.
func UnframeLines(r io.Reader) io.Reader {
	return &lineUnframer{r: bufio.NewReaderSize(r, 64<<10), start: true}
}

type lineUnframer struct {
	r     *bufio.Reader
	start bool // at the start of a line
}

func (u *lineUnframer) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if u.start {
			hdr, err := u.r.Peek(HeaderLen)
			if len(hdr) == 0 {
				if n > 0 {
					return n, nil
				}
				return 0, err
			}
			if len(hdr) == HeaderLen && hdr[0] == 0 {
				_, _ = u.r.Discard(HeaderLen)
			}
			u.start = false
		}
		if u.r.Buffered() == 0 {
			if _, err := u.r.Peek(1); err != nil {
				if n > 0 {
					return n, nil
				}
				return 0, err
			}
		}
		buf, _ := u.r.Peek(min(u.r.Buffered(), len(p)-n))
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[:i+1]
			u.start = true
		}
		n += copy(p[n:], buf)
		_, _ = u.r.Discard(len(buf))
	}
	return n, nil
}

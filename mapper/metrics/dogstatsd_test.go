package metrics_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// datagram is one DogStatsD metric line as received on the wire.
type datagram struct {
	Name   string
	Values []float64
	Type   string // c, g, d, h, ms, s
	Rate   float64
	Tags   []string
	Raw    string
}

func (d datagram) tag(key string) (string, bool) {
	for _, t := range d.Tags {
		if k, v, ok := strings.Cut(t, ":"); ok && k == key {
			return v, true
		}
	}
	return "", false
}

func (d datagram) hasTags(want ...string) bool {
	for _, w := range want {
		if !slices.Contains(d.Tags, w) {
			return false
		}
	}
	return true
}

// parseDatagram parses one line of the DogStatsD protocol:
// name:value[:value…]|type[|@rate][|#tag,tag…][|c:…][|T…].
func parseDatagram(line string) (datagram, error) {
	d := datagram{Raw: line, Rate: 1}
	parts := strings.Split(line, "|")
	if len(parts) < 2 {
		return d, fmt.Errorf("no type in %q", line)
	}
	name, values, ok := strings.Cut(parts[0], ":")
	if !ok || name == "" {
		return d, fmt.Errorf("no name:value in %q", line)
	}
	d.Name = name
	for _, v := range strings.Split(values, ":") {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return d, fmt.Errorf("value %q in %q: %w", v, line, err)
		}
		d.Values = append(d.Values, f)
	}
	d.Type = parts[1]
	switch d.Type {
	case "c", "g", "d", "h", "ms", "s":
	default:
		return d, fmt.Errorf("unknown type %q in %q", d.Type, line)
	}
	for _, p := range parts[2:] {
		switch {
		case strings.HasPrefix(p, "@"):
			r, err := strconv.ParseFloat(p[1:], 64)
			if err != nil {
				return d, fmt.Errorf("rate %q in %q: %w", p, line, err)
			}
			d.Rate = r
		case strings.HasPrefix(p, "#"):
			d.Tags = strings.Split(p[1:], ",")
		}
	}
	return d, nil
}

// agent is a DogStatsD listener that records every datagram it receives.
type agent struct {
	t    *testing.T
	conn net.PacketConn
	addr string // as given to the client

	mu    sync.Mutex
	lines []datagram
	bad   []error
	done  chan struct{}
}

// listenUDP starts an agent on a loopback UDP port.
func listenUDP(t *testing.T) *agent {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	return startAgent(t, conn, conn.LocalAddr().String())
}

// listenUnixgram starts an agent on a Unix datagram socket.
func listenUnixgram(t *testing.T) *agent {
	t.Helper()
	// Socket paths are limited to ~100 bytes; t.TempDir() can be longer.
	dir, err := os.MkdirTemp("", "dsd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "dsd.socket")
	conn, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Skipf("unix datagram sockets unavailable: %v", err)
	}
	return startAgent(t, conn, "unixgram://"+path)
}

func startAgent(t *testing.T, conn net.PacketConn, addr string) *agent {
	a := &agent{t: t, conn: conn, addr: addr, done: make(chan struct{})}
	go a.read()
	t.Cleanup(a.close)
	return a
}

func (a *agent) read() {
	defer close(a.done)
	buf := make([]byte, 1<<16)
	for {
		n, _, err := a.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		a.mu.Lock()
		for _, line := range strings.Split(string(buf[:n]), "\n") {
			if line == "" {
				continue
			}
			d, err := parseDatagram(line)
			if err != nil {
				a.bad = append(a.bad, err)
				continue
			}
			a.lines = append(a.lines, d)
		}
		a.mu.Unlock()
	}
}

func (a *agent) close() {
	a.conn.Close()
	<-a.done
}

// settle waits until no datagram has arrived for a while, so that what the
// client sent on Close has been read, and returns every datagram so far.
func (a *agent) settle() []datagram {
	a.t.Helper()
	last := -1
	for i := 0; i < 200; i++ {
		time.Sleep(20 * time.Millisecond)
		a.mu.Lock()
		n := len(a.lines) + len(a.bad)
		a.mu.Unlock()
		if n == last {
			break
		}
		last = n
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, err := range a.bad {
		a.t.Errorf("malformed datagram: %v", err)
	}
	return slices.Clone(a.lines)
}

// named returns the datagrams of one metric (full name, with namespace).
func named(ds []datagram, name string) []datagram {
	var out []datagram
	for _, d := range ds {
		if d.Name == name {
			out = append(out, d)
		}
	}
	return out
}

// sum adds every value of the datagrams that carry all the given tags,
// scaling sampled values by their rate.
func sum(ds []datagram, name string, tags ...string) float64 {
	var s float64
	for _, d := range named(ds, name) {
		if !d.hasTags(tags...) {
			continue
		}
		for _, v := range d.Values {
			s += v / d.Rate
		}
	}
	return s
}

// tagValues returns the distinct values of one tag key among the datagrams of name.
func tagValues(ds []datagram, name, key string) []string {
	seen := map[string]bool{}
	for _, d := range named(ds, name) {
		if v, ok := d.tag(key); ok {
			seen[v] = true
		}
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func TestParseDatagram(t *testing.T) {
	tests := []struct {
		name string
		line string
		want datagram
		err  bool
	}{
		{"count with tags", "mapper.records:3|c|#source:orders,outcome:mapped",
			datagram{Name: "mapper.records", Values: []float64{3}, Type: "c", Rate: 1, Tags: []string{"source:orders", "outcome:mapped"}}, false},
		{"distribution with several values and a rate", "mapper.map.duration:0.5:0.25|d|@0.5|#source:a",
			datagram{Name: "mapper.map.duration", Values: []float64{0.5, 0.25}, Type: "d", Rate: 0.5, Tags: []string{"source:a"}}, false},
		{"missing type is an error", "mapper.records:1", datagram{}, true},
		{"non-numeric value is an error", "mapper.records:x|c", datagram{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDatagram(tt.line)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %t", err, tt.err)
			}
			if tt.err {
				return
			}
			got.Raw = ""
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

var errNotFound = errors.New("not found")

// only returns the single datagram of name with the given tags.
func only(ds []datagram, name string, tags ...string) (datagram, error) {
	var found []datagram
	for _, d := range named(ds, name) {
		if d.hasTags(tags...) {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return datagram{}, fmt.Errorf("%s %v: %w", name, tags, errNotFound)
	case 1:
		return found[0], nil
	}
	return datagram{}, fmt.Errorf("%s %v: %d datagrams, want 1: %v", name, tags, len(found), found)
}

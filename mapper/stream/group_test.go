package stream_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/internal/syncbuf"
	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/stream"
)

// workerProcessEnv, when set, makes the test binary a worker process (see
// workerProcess) instead of running the tests.
const workerProcessEnv = "MAPPER_STREAM_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerProcessEnv) != "" {
		os.Exit(workerProcess())
	}
	os.Exit(m.Run())
}

// workerSettings is what a worker process runs with, passed as JSON in
// workerProcessEnv.
type workerSettings struct {
	Brokers        string        `json:"brokers"`
	Group          string        `json:"group"`
	Topic          string        `json:"topic"`
	Output         string        `json:"output"`
	DeadLetter     string        `json:"dead_letter"`
	Rules          string        `json:"rules"`
	Schemas        string        `json:"schemas"`
	SessionTimeout time.Duration `json:"session_timeout"`
}

// workerProcess runs one worker until SIGTERM (or SIGKILL): it prints its
// status listener's address on the first line of stdout and logs to
// stderr.
func workerProcess() int {
	var s workerSettings
	if err := json.Unmarshal([]byte(os.Getenv(workerProcessEnv)), &s); err != nil {
		fmt.Fprintln(os.Stderr, "worker settings:", err)
		return 2
	}
	e, err := mapper.Load(s.Rules, s.Schemas, mapper.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "rules:", err)
		return 2
	}
	w, err := stream.New(stream.Config{
		Kafka: kafkaconn.Config{Brokers: []string{s.Brokers}}, GroupID: s.Group, Topics: []string{s.Topic},
		OutputTopic: s.Output, DeadLetterTopic: s.DeadLetter, Engine: e, SessionTimeout: s.SessionTimeout,
		RetryBackoffMin: 20 * time.Millisecond, RetryBackoffMax: 500 * time.Millisecond, JoinGroupBackoff: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 2
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		return 1
	}
	fmt.Println(l.Addr().String())
	go func() { _ = http.Serve(l, w.Handler()) }()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := w.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	return 0
}

// workerProc is a worker process started by startWorkerProcess.
type workerProc struct {
	cmd    *exec.Cmd
	status string // host:port of /healthz, /readyz, /status
	log    *syncbuf.Buffer
}

// startWorkerProcess starts the test binary as a worker process and waits
// for its status address.
func startWorkerProcess(t *testing.T, s workerSettings) *workerProc {
	t.Helper()
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), workerProcessEnv+"="+string(js))
	p := &workerProc{cmd: cmd, log: &syncbuf.Buffer{}}
	cmd.Stderr = p.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start worker process: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("worker process %d log:\n%s", cmd.Process.Pid, p.log.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("worker process status address: %v (log: %s)", err, p.log.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	p.status = strings.TrimSpace(line)
	return p
}

// readyz asks the process's /readyz: the status code and the body.
func (p *workerProc) readyz() (int, string) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + p.status + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// statusOf reads the process's /status.
func (p *workerProc) statusOf(t *testing.T) stream.Status {
	t.Helper()
	resp, err := http.Get("http://" + p.status + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st stream.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitReady polls /readyz until 200 and returns every answer before it.
func (p *workerProc) waitReady(t *testing.T, timeout time.Duration) (before []string, took time.Duration) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		code, body := p.readyz()
		if code == http.StatusOK {
			return before, time.Since(start)
		}
		before = append(before, fmt.Sprintf("%d %s", code, body))
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("worker process not ready within %v; answers: %q", timeout, before)
	return nil, 0
}

// TestKilledWorkerRestartedResumesWithinSessionTimeout SIGKILLs a worker
// process that holds every partition of its group, so it never leaves the
// group, and starts another one in the same group at once. The new worker
// answers /readyz with 503 "no partitions held" while the dead member
// still holds them, holds every partition again within the session
// timeout (plus a join's round trips), and consumes what came meanwhile.
func TestKilledWorkerRestartedResumesWithinSessionTimeout(t *testing.T) {
	// 6s is the smallest session timeout Kafka accepts by default.
	const session = 6 * time.Second
	// A join and a sync after the dead member expired, the assignment's
	// offsets fetched: well under this on a busy machine, and well under
	// the 30s a restarted worker waited before the session timeout was set.
	const joinRounds = 4 * time.Second
	for _, target := range kafkatest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			b := target.Start(t)
			in := b.Topic(t, "orders", 2)
			out, dlq := b.Topic(t, "out", 1), b.Topic(t, "dlq", 1)
			settings := workerSettings{
				Brokers: b.Addr, Group: kafkatest.UniqueName("g"), Topic: in, Output: out, DeadLetter: dlq,
				Rules: writeRules(t, in), Schemas: "testdata/schemas", SessionTimeout: session,
			}
			probe, err := stream.New(testConfig(b, loadEngine(t, in), settings.Group, []string{in}, out, dlq))
			if err != nil {
				t.Fatal(err)
			}
			b.Produce(t, in, mixed(60)...)

			first := startWorkerProcess(t, settings)
			first.waitReady(t, 60*time.Second)
			waitLagZero(t, probe, 60*time.Second)
			if st := first.statusOf(t); st.Partitions != 2 {
				t.Fatalf("first worker holds %d partitions, want 2", st.Partitions)
			}

			if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = first.cmd.Wait()
			b.Produce(t, in, mixed(60)...)

			second := startWorkerProcess(t, settings)
			before, took := second.waitReady(t, 3*session)
			if len(before) == 0 {
				t.Fatalf("/readyz answered 200 at once, while the killed member still held the partitions")
			}
			for _, a := range before {
				if !strings.HasPrefix(a, "503 ") && !strings.HasPrefix(a, "0 ") {
					t.Fatalf("/readyz answered %q before the worker held partitions, want 503", a)
				}
			}
			sawReason := false
			for _, a := range before {
				sawReason = sawReason || strings.Contains(a, "no partitions held while the input topics have lag")
			}
			if !sawReason {
				t.Errorf("no /readyz answer said the worker holds no partitions of topics with lag: %q", before)
			}
			if took > session+joinRounds {
				t.Errorf("restarted worker was ready after %v, want within the session timeout %v (+%v for the join)", took, session, joinRounds)
			}
			if st := second.statusOf(t); st.Partitions != 2 {
				t.Errorf("restarted worker holds %d partitions, want 2", st.Partitions)
			}
			waitLagZero(t, probe, 60*time.Second)
			t.Logf("restarted worker ready after %v; /readyz before: %d answers, first %q", took, len(before), before[0])
		})
	}
}

package stream_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mapperhq/mapper/internal/kafkatest"
)

// readyzAnswer is one answer of /readyz and when it came.
type readyzAnswer struct {
	at   time.Duration
	code int
	body string
}

func (a readyzAnswer) String() string {
	return fmt.Sprintf("%.1fs %d %s", a.at.Seconds(), a.code, a.body)
}

// pollReadyz asks url's /readyz every 100ms, from since, until done says
// the last answer is the awaited one or timeout passes, and returns every
// answer.
func pollReadyz(t *testing.T, url string, since time.Time, timeout time.Duration, done func(readyzAnswer) bool) []readyzAnswer {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	var answers []readyzAnswer
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var a readyzAnswer
		if resp, err := c.Get(url + "/readyz"); err != nil {
			a.body = err.Error()
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			a.code, a.body = resp.StatusCode, strings.TrimSpace(string(b))
		}
		a.at = time.Since(since)
		answers = append(answers, a)
		if done(a) {
			return answers
		}
	}
	t.Fatalf("/readyz never gave the awaited answer within %v; answers:\n%s", timeout, answersText(answers))
	return nil
}

// answersText gives the answers one line per run of the same answer.
func answersText(as []readyzAnswer) string {
	var b strings.Builder
	for i, a := range as {
		if i > 0 && as[i-1].code == a.code && as[i-1].body == a.body {
			continue
		}
		b.WriteString(a.String() + "\n")
	}
	return b.String()
}

const brokersDown = "the brokers do not answer"

// TestReadyzFollowsTheBrokersThroughARestart stops the embedded broker
// under a running worker and starts it again on the same port and data,
// with records waiting. While the broker is down /readyz answers 503
// saying that the brokers do not answer; once it is back, it says within
// one readiness measurement (not after the worker's own retries) that the
// worker waits for its group, and the worker is ready again and consumes
// what waited.
func TestReadyzFollowsTheBrokersThroughARestart(t *testing.T) {
	dir := t.TempDir()
	port := kafkatest.FreePort(t)
	c, err := kafkatest.NewKfake(kafkatest.Persist(dir, port)...)
	if err != nil {
		t.Fatal(err)
	}
	b := kafkatest.FromKfake(c)
	in := b.Topic(t, "orders", 2)
	out, dlq := b.Topic(t, "out", 1), b.Topic(t, "dlq", 1)
	cfg := testConfig(b, loadEngine(t, in), kafkatest.UniqueName("g"), []string{in}, out, dlq)
	cfg.SessionTimeout = 6 * time.Second
	r := start(t, cfg)
	srv := httptest.NewServer(r.w.Handler())
	defer srv.Close()

	b.Produce(t, in, mixed(60)...)
	waitLagZero(t, r.w, 60*time.Second)
	pollReadyz(t, srv.URL, time.Now(), 30*time.Second, func(a readyzAnswer) bool { return a.code == http.StatusOK })

	c.Close()
	stopped := time.Now()
	down := pollReadyz(t, srv.URL, stopped, 60*time.Second, func(a readyzAnswer) bool {
		return a.code == http.StatusServiceUnavailable && strings.Contains(a.body, brokersDown)
	})
	t.Logf("broker down: /readyz said %q after %v", down[len(down)-1].body, down[len(down)-1].at)

	c, err = kafkatest.NewKfake(kafkatest.Persist(dir, port)...)
	if err != nil {
		t.Fatalf("restart broker: %v", err)
	}
	defer c.Close()
	back := time.Now()
	b = kafkatest.FromKfake(c)
	b.Produce(t, in, mixed(60)...)
	answers := pollReadyz(t, srv.URL, back, 60*time.Second, func(a readyzAnswer) bool { return a.code == http.StatusOK })
	// A measurement begun just before the broker came back may still time
	// out (readinessProbeTimeout, 3s); any later answer says what the
	// worker waits for now.
	const stale = 5 * time.Second
	for _, a := range answers {
		if a.at > stale && a.code != http.StatusOK && !strings.Contains(a.body, "waiting for group") {
			t.Errorf("/readyz said %q %v after the broker was back; want, after %v, the group it waits for:\n%s", a.body, a.at, stale, answersText(answers))
			break
		}
	}
	t.Logf("broker back: ready after %v; answers before:\n%s", answers[len(answers)-1].at, answersText(answers))
	waitLagZero(t, r.w, 60*time.Second)
}

package alerts_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/alerts"
)

// fakeLedger says the categories in known were announced; err, when set,
// is its answer to everything.
type fakeLedger struct {
	mu    sync.Mutex
	known map[string]bool
	asked []string
	err   error
}

func (l *fakeLedger) Announce(_ context.Context, source string, version int, category string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := source + "/" + category
	l.asked = append(l.asked, k)
	if l.err != nil {
		return false, l.err
	}
	if l.known[k] {
		return false, nil
	}
	l.known[k] = true
	return true, nil
}

func TestLedgerKeepsCategoriesTheGroupAnnouncedQuiet(t *testing.T) {
	for _, tt := range []struct {
		name       string
		ledger     *fakeLedger
		wantEvents int
		wantQuiet  uint64
	}{
		{"a category the group announced sends nothing", &fakeLedger{known: map[string]bool{"unknown/unknown_source": true}}, 0, 1},
		{"a new category is announced", &fakeLedger{known: map[string]bool{}}, 1, 0},
		{"a ledger that cannot tell lets the event through", &fakeLedger{err: errors.New("brokers down")}, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSentryServer(t, "ok")
			a := newAlerter(t, alerts.Config{DSN: s.dsn, Ledger: tt.ledger})
			res := mapper.UnknownSource("partner.unknown")
			for i := range 100 {
				a.Observe(&mapper.Origin{Topic: "partner.unknown", Offset: int64(i)}, nil, []byte(`{}`), &res, 0)
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if got := len(s.received()); got != tt.wantEvents {
				t.Errorf("%d events; want %d", got, tt.wantEvents)
			}
			if c := a.Counts(); c.AlreadyAnnounced != tt.wantQuiet {
				t.Errorf("AlreadyAnnounced %d; want %d", c.AlreadyAnnounced, tt.wantQuiet)
			}
			if len(tt.ledger.asked) != 1 || tt.ledger.asked[0] != "unknown/unknown_source" {
				t.Errorf("ledger asked %v; want once, for the category's first event", tt.ledger.asked)
			}
		})
	}
}

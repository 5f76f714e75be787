package samples

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/profile"
)

// profileSink keeps what a Values profiler shares.
type profileSink struct {
	mu  sync.Mutex
	got []ValueProfile
}

func (s *profileSink) Profile(p ValueProfile) {
	s.mu.Lock()
	s.got = append(s.got, p)
	s.mu.Unlock()
}

func (s *profileSink) take() []ValueProfile {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.got
	s.got = nil
	return out
}

func TestValuesShareChangedProfilesOnly(t *testing.T) {
	src := testSource(t)
	sink := &profileSink{}
	v, err := OpenValues(ValuesConfig{Dir: t.TempDir(), FlushInterval: time.Hour, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	feed := func(state string, n int) { feedState(v, src, state, n) }
	feed("on-hold", 3)
	v.flush()
	got := sink.take()
	if len(got) != 1 || got[0].Category != "unknown_enum:state" || got[0].Total != 3 {
		t.Fatalf("first flush shared %+v; want the unknown_enum:state profile of 3", got)
	}
	for _, p := range got {
		for _, e := range p.Values {
			if strings.Contains(e.Value, "secret") || strings.Contains(e.Value, "Ana") {
				t.Errorf("a redacted value was shared: %s", e.Value)
			}
		}
	}
	v.flush()
	if got := sink.take(); len(got) != 0 {
		t.Errorf("a flush with nothing new shared %+v", got)
	}
	feed("PAID_OUT", 1)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	got = sink.take()
	if len(got) != 1 || got[0].Total != 4 {
		t.Errorf("Close shared %+v; want the profile of 4", got)
	}
}

func TestMergeProfilesAddsTheWorkersCounts(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := ValueProfile{Source: "s", Category: "unknown_enum:state", Total: 5, Capacity: 32, UpdatedAt: at,
		Values: []profile.Entry{{Value: `"on-hold"`, Count: 4}, {Value: `"x"`, Count: 1}}}
	b := ValueProfile{Source: "s", Category: "unknown_enum:state", Total: 2, Capacity: 32, UpdatedAt: at.Add(time.Minute),
		Values: []profile.Entry{{Value: `"on-hold"`, Count: 2}}}
	got := MergeProfiles([]ValueProfile{a, b})
	if got.Total != 7 || !got.UpdatedAt.Equal(at.Add(time.Minute)) || len(got.Values) != 2 ||
		got.Values[0] != (profile.Entry{Value: `"on-hold"`, Count: 6}) || got.Values[1] != (profile.Entry{Value: `"x"`, Count: 1}) {
		t.Errorf("merged %+v", got)
	}
}

// feedState has v observe n orders in the given state, each mapped by src.
func feedState(v *Values, src *mapper.Source, state string, n int) {
	p := orderPayload("secret@example.com", "Ana Secret", "+351 999", state)
	var m mapper.Mapper
	var res mapper.Result
	m.Map(src, p, &res)
	for range n {
		v.Observe(nil, src, p, &res, 0)
	}
}

package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/mapperhq/mapper/mapper"
)

// Set is the rule sets a worker writes one output topic with.
type Set struct {
	// Topic is the output topic. Required.
	Topic string
	// Live is the live rule set. Required.
	Live *mapper.Engine
	// Candidate is the candidate rule set; nil for none.
	Candidate *mapper.Engine
	// WriteCandidate says the candidate's records are written to the
	// output topic (canary): its schemas are registered like the live
	// ones. False (shadow) only checks them.
	WriteCandidate bool
}

// item is one source's output schema to resolve.
type item struct {
	src       *mapper.Source
	candidate bool
	subject   string
	name      string
	schema    sr.Schema
}

func (c *Client) items(set Set) ([]item, error) {
	if set.Live == nil || set.Topic == "" {
		return nil, errors.New("schema registry: no output topic or no rules")
	}
	shared := len(set.Live.Sources()) > 1
	var out []item
	add := func(e *mapper.Engine, candidate bool) error {
		for _, s := range e.Sources() {
			name, doc := s.OutputSchema()
			if len(doc) == 0 {
				return fmt.Errorf("source %s: no output schema to register", s.Name())
			}
			out = append(out, item{
				src: s, candidate: candidate, name: name,
				subject: c.strategy.Subject(set.Topic, s.Name(), shared),
				schema:  sr.Schema{Schema: string(doc), Type: sr.TypeJSON},
			})
		}
		return nil
	}
	if err := add(set.Live, false); err != nil {
		return nil, err
	}
	if set.Candidate != nil {
		if err := add(set.Candidate, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func cacheKey(it item) string { return it.subject + "\x00" + it.schema.Schema }

// Check asks the registry, for each output schema of set, whether it is
// registered under its subject and, if not, whether it is compatible with
// the subject's latest version under the subject's level. It registers
// nothing. The bindings of schemas not yet registered have Version and
// SchemaID 0. The error is Problems listing every incompatible schema, or
// an *UnreachableError.
func (c *Client) Check(ctx context.Context, set Set) ([]Binding, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	items, err := c.items(set)
	if err != nil {
		return nil, err
	}
	bs, _, err := c.check(ctx, items)
	return bs, err
}

// check resolves items from the cache or the registry; todo are the
// indexes of those not registered yet (compatible ones).
func (c *Client) check(ctx context.Context, items []item) ([]Binding, []int, error) {
	bs := make([]Binding, len(items))
	var todo []int
	var problems Problems
	seen := map[string]int{}
	for i, it := range items {
		bs[i] = Binding{Source: it.src.Name(), Candidate: it.candidate, Schema: it.name, Subject: it.subject}
		key := cacheKey(it)
		if b, ok := c.cache[key]; ok {
			bs[i].Version, bs[i].SchemaID = b.Version, b.SchemaID
			continue
		}
		if j, ok := seen[key]; ok { // the same schema under the same subject
			if bs[j].SchemaID == 0 {
				todo = append(todo, i)
			}
			bs[i].Version, bs[i].SchemaID = bs[j].Version, bs[j].SchemaID
			continue
		}
		seen[key] = i
		ss, err := c.cl.LookupSchema(ctx, it.subject, it.schema)
		switch {
		case err == nil:
			bs[i].Version, bs[i].SchemaID = ss.Version, ss.ID
			c.cache[key] = bs[i]
			continue
		case !notFound(err):
			return nil, nil, &UnreachableError{URL: c.url, Err: err}
		}
		ie, err := c.compatible(ctx, it)
		if err != nil {
			return nil, nil, err
		}
		if ie != nil {
			problems = append(problems, ie)
			continue
		}
		todo = append(todo, i)
	}
	if len(problems) > 0 {
		return bs, nil, problems
	}
	return bs, todo, nil
}

// compatible asks the registry whether it is compatible with the latest
// version of its subject; nil when it is (or the subject has none).
func (c *Client) compatible(ctx context.Context, it item) (*IncompatibleError, error) {
	res, err := c.cl.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), it.subject, -1, it.schema)
	if notFound(err) {
		return nil, nil // a new subject: nothing to be compatible with
	}
	if err != nil {
		return nil, &UnreachableError{URL: c.url, Err: err}
	}
	if res.Is {
		return nil, nil
	}
	ie := &IncompatibleError{Source: it.src.Name(), Candidate: it.candidate, Schema: it.name, Subject: it.subject,
		Answer: `{"is_compatible":false}`}
	if len(res.Messages) > 0 {
		ie.Answer = strings.Join(res.Messages, "; ")
	}
	if vs, err := c.cl.SubjectVersions(ctx, it.subject); err == nil && len(vs) > 0 {
		ie.Latest = vs[len(vs)-1]
	}
	ie.Level = c.level(ctx, it.subject)
	return ie, nil
}

// level is the subject's compatibility level, its own or the global one;
// "" if neither can be read.
func (c *Client) level(ctx context.Context, subject string) string {
	for _, r := range c.cl.Compatibility(sr.WithParams(ctx, sr.DefaultToGlobal), subject) {
		if r.Err == nil && r.Level.String() != "" {
			return r.Level.String()
		}
	}
	for _, r := range c.cl.Compatibility(ctx) {
		if r.Err == nil {
			return r.Level.String()
		}
	}
	return ""
}

// notFound reports whether err is the registry saying a subject, version
// or schema does not exist.
func notFound(err error) bool {
	var re *sr.ResponseError
	return errors.As(err, &re) && (re.StatusCode == http.StatusNotFound || sr.IsNotFoundError(re.ErrorCode))
}

// Prepare checks set like Check and then registers each schema not yet
// registered (the live ones, and the candidate's when set.WriteCandidate)
// as the next version of its subject, and makes Prefix frame the records
// of set's sources with their ids. On an error nothing is framed
// differently: the running rules keep their ids. A schema that must be
// registered while the registry cannot be reached is also said by
// NotReady until a later Prepare succeeds.
func (c *Client) Prepare(ctx context.Context, set Set) ([]Binding, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	items, err := c.items(set)
	if err != nil {
		return nil, err
	}
	bs, todo, err := c.check(ctx, items)
	if err != nil {
		c.notePending(err)
		return bs, err
	}
	var problems Problems
	for _, i := range todo {
		it := items[i]
		if it.candidate && !set.WriteCandidate {
			continue
		}
		if b, ok := c.cache[cacheKey(it)]; ok { // registered for an earlier item
			bs[i].Version, bs[i].SchemaID = b.Version, b.SchemaID
			continue
		}
		id, err := c.cl.RegisterSchema(ctx, it.subject, it.schema, -1, -1)
		if err != nil {
			var re *sr.ResponseError
			if errors.As(err, &re) && re.StatusCode == http.StatusConflict {
				problems = append(problems, &IncompatibleError{Source: it.src.Name(), Candidate: it.candidate,
					Schema: it.name, Subject: it.subject, Level: c.level(ctx, it.subject), Answer: re.Error()})
				continue
			}
			err = &UnreachableError{URL: c.url, Err: err}
			c.notePending(err)
			return bs, err
		}
		bs[i].SchemaID, bs[i].New = id, true
		if ss, err := c.cl.LookupSchema(ctx, it.subject, it.schema); err == nil {
			bs[i].Version = ss.Version
		}
		b := bs[i]
		b.New = false
		c.cache[cacheKey(it)] = b
	}
	if len(problems) > 0 {
		return bs, problems
	}
	c.install(items, bs)
	none := ""
	c.pending.Store(&none)
	return bs, nil
}

// notePending remembers why a schema could not be registered when the
// registry could not be reached.
func (c *Client) notePending(err error) {
	var ue *UnreachableError
	if errors.As(err, &ue) {
		msg := "a new output schema waits for the schema registry: " + err.Error()
		c.pending.Store(&msg)
	}
}

// install makes Prefix frame items' sources with their bindings' ids. The
// previous generation's sources stay framed too, for batches mapped with
// the rules just swapped out; older ones are dropped.
func (c *Client) install(items []item, bs []Binding) {
	fresh := make(map[*mapper.Source][]byte, len(items))
	for i, it := range items {
		if bs[i].SchemaID == 0 {
			continue // a shadow candidate's schema: its records are not written
		}
		fresh[it.src] = AppendHeader(nil, bs[i].SchemaID)
	}
	next := make(map[*mapper.Source][]byte, len(fresh)+len(c.last))
	for k, v := range c.last {
		next[k] = v
	}
	for k, v := range fresh {
		next[k] = v
	}
	c.last = fresh
	c.prefixes.Store(&next)
	shown := make([]Binding, 0, len(bs))
	for _, b := range bs {
		b.New = false
		shown = append(shown, b)
	}
	c.bindings.Store(&shown)
}

// Bindings are the sources' subjects and ids as last prepared.
func (c *Client) Bindings() []Binding { return *c.bindings.Load() }

// NotReady says why the worker should not be called ready: a new output
// schema could not be registered because the registry could not be
// reached ("" when none waits).
func (c *Client) NotReady() string { return *c.pending.Load() }

package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"

	"github.com/aymanbagabas/go-udiff"

	"github.com/mapperhq/mapper/mapper"
)

// exactPick is one record an exact replay may show: the hash of its line
// (which picks it, and finds its file and line afterwards) and the two
// views of it.
type exactPick struct {
	hash          uint64
	verdict       mapper.Verdict
	before, after View
}

// exampleHash is the hash that picks examples: a fixed function of the
// line, so that the same capture shows the same examples whatever the
// order the workers map it in.
func exampleHash(line []byte) uint64 {
	h := fnv.New64a()
	h.Write(line)
	return h.Sum64()
}

// picker keeps, per verdict, the show records with the smallest hashes: a
// uniform sample of the records with that verdict that does not depend on
// scheduling.
type picker struct {
	show  int
	picks [5][]exactPick // by verdict index
	// headers are the records' headers (ExactOptions.Headers): the views
	// are mapped as the real results were, accept predicates included.
	headers []mapper.Header
	m       mapper.Mapper
	res     mapper.Result
}

// offer considers a record with verdict index vi for an example. before
// and after are the two rule sets' real results; the views shown are made
// here, from the payload with the other rule set's redact paths masked
// (see views).
func (p *picker) offer(vi int, line []byte, baseline, candidate *mapper.Source, before, after *mapper.Result) {
	h := exampleHash(line)
	list := p.picks[vi]
	worst := -1
	for i := range list {
		if list[i].hash == h {
			return // the same line again: one example of it is enough
		}
		if worst < 0 || list[i].hash > list[worst].hash {
			worst = i
		}
	}
	if len(list) >= p.show && h > list[worst].hash {
		return
	}
	pk := exactPick{hash: h, verdict: mapper.Verdicts()[vi]}
	pk.before = p.view(baseline, candidate, line, before)
	pk.after = p.view(candidate, baseline, line, after)
	if len(list) < p.show {
		p.picks[vi] = append(list, pk)
	} else {
		list[worst] = pk
	}
}

// view is what src made of line, fit to show: the outcome of the real
// result real, and the failures and output src gives for the payload with
// other's redact paths masked too, each then masked by both rule sets. So
// no value at a path either rule set redacts can show, whatever the rules
// compute from it. A line that is not held (past the line limit) shows
// the real result.
func (p *picker) view(src, other *mapper.Source, line []byte, real *mapper.Result) View {
	v := View{RulesVersion: src.Version(), Outcome: real.Outcome}
	res := real
	if line != nil {
		if p.headers != nil {
			p.m.MapRecord(src, p.headers, other.Redact(line), &p.res)
		} else {
			p.m.Map(src, other.Redact(line), &p.res)
		}
		res = &p.res
	}
	v.Failures = other.RedactFailures(src.RedactFailures(append([]mapper.Failure(nil), res.Failures...)))
	if len(res.Output) > 0 {
		out := other.RedactOutput(src.RedactOutput(res.Output))
		var buf bytes.Buffer
		if json.Compact(&buf, out) == nil {
			out = buf.Bytes()
		}
		v.Output = out
	}
	return v
}

// merge adds another worker's picks, keeping the show smallest hashes per
// verdict.
func (p *picker) merge(o *picker) {
	for vi := range p.picks {
		p.picks[vi] = append(p.picks[vi], o.picks[vi]...)
	}
}

// examples returns the picks as examples, verdict by verdict in the
// engine's order, each verdict's by hash, with the hash of each one's line;
// Ref is left for Locate.
func (p *picker) examples() ([]Example, []uint64) {
	var out []Example
	var hashes []uint64
	for vi := range p.picks {
		list := p.picks[vi]
		sort.Slice(list, func(i, j int) bool { return list[i].hash < list[j].hash })
		n := 0
		for i, pk := range list {
			if n == p.show {
				break
			}
			if i > 0 && pk.hash == list[i-1].hash {
				continue // two workers met the same line
			}
			n++
			bt, at := pk.before.Text(), pk.after.Text()
			out = append(out, Example{
				Verdict: pk.verdict, Before: pk.before, After: pk.after,
				Diff: udiff.Unified(fmt.Sprintf("rules v%d", pk.before.RulesVersion), fmt.Sprintf("rules v%d", pk.after.RulesVersion), bt, at),
			})
			hashes = append(hashes, pk.hash)
		}
	}
	return out, hashes
}

// Locate names where the examples' records are: each example whose Ref is
// not set yet and whose line is line gets ref (a file and line number,
// say). Give it the lines of the capture, each as mapper map --lines reads
// it (trimmed of its line end), in order.
func (r *ExactReport) Locate(ref string, line []byte) {
	var h uint64
	hashed := false
	for i := range r.Examples {
		if r.Examples[i].Ref != "" || i >= len(r.exampleHashes) {
			continue
		}
		if !hashed {
			h, hashed = exampleHash(line), true
		}
		if r.exampleHashes[i] == h {
			r.Examples[i].Ref = ref
		}
	}
}

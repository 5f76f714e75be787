package suggest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// acceptAlternatives are the edits of the accept lists of g's topic's
// sources that would take g's records: for each source with a top-level
// header predicate on one of g's routing headers, that predicate's list
// gains g's value.
func acceptAlternatives(eng *mapper.Engine, g samples.ShapeGroup, what string, read func(*mapper.Source) ([]byte, error)) ([]AcceptAlternative, error) {
	var out []AcceptAlternative
	for _, src := range eng.SourcesForTopic(g.Topic) {
		for _, ah := range src.AcceptHeaders() {
			var value string
			found := false
			for _, r := range g.Routing {
				if strings.EqualFold(r.Header, ah.Header) {
					value, found = r.Value, true
				}
			}
			if !found {
				continue
			}
			text, err := read(src)
			if err != nil {
				return nil, fmt.Errorf("read the rules of %s: %w", src.Name(), err)
			}
			edited, err := widenAccept(text, ah.Index, value, src.Version()+1, src.Name(), what)
			if err != nil {
				return nil, fmt.Errorf("widen the accept list of %s: %w", src.Name(), err)
			}
			a := AcceptAlternative{Source: src.Name(), RuleFile: baseName(src.File()), Rules: edited}
			a.Kind, a.Category, a.Records = KindAcceptPredicate, string(mapper.ReasonUnknownSource), g.Records
			a.Edit = fmt.Sprintf("%s: accept %s in [%s] → add %s (rules v%d → v%d)", src.Name(), ah.Header, strings.Join(ah.In, ", "), value, src.Version(), src.Version()+1)
			a.Review = []string{fmt.Sprintf("sends the %s to %s, whose rules were written for %s=%s: its fields and input schema may not fit them (they would fail there instead)",
				what, src.Name(), ah.Header, strings.Join(ah.In, "|"))}
			out = append(out, a)
			break
		}
	}
	return out, nil
}

// widenAccept edits a rule file in place: the list of the index-th accept
// predicate gains value, the version becomes version, and a REVIEW header
// says why. Every other line is kept as written.
func widenAccept(text []byte, index int, value string, version int, source, what string) ([]byte, error) {
	rf, err := parseRuleFile(text)
	if err != nil {
		return nil, err
	}
	kv := keyOf(rf.top, "accept")
	if kv == nil {
		return nil, fmt.Errorf("no accept list")
	}
	seq, ok := unwrapNode(kv.Value).(*ast.SequenceNode)
	if !ok || index >= len(seq.Values) {
		return nil, fmt.Errorf("accept is not a list of %d predicates", index+1)
	}
	pred, ok := mappingOf(seq.Values[index])
	if !ok {
		return nil, fmt.Errorf("accept[%d] is not a mapping", index)
	}
	inKV := keyOf(pred, "in")
	if inKV == nil {
		return nil, fmt.Errorf("accept[%d] has no in list", index)
	}
	d := rf.doc
	switch in := unwrapNode(inKV.Value).(type) {
	case *ast.SequenceNode:
		err = d.addItem(in, yamlScalar(value))
	default:
		// A single value: the list of it and the new one.
		if s, ok := scalarText(in); ok {
			err = d.replace(in, flowList([]string{s, value}))
		} else {
			err = fmt.Errorf("accept[%d].in is neither a value nor a list", index)
		}
	}
	if err != nil {
		return nil, err
	}
	if v := keyOf(rf.top, "version"); v != nil {
		if err := d.replace(v.Value, strconv.Itoa(version)); err != nil {
			return nil, err
		}
	}
	body, err := d.bytes()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	if strings.HasPrefix(string(body), "# yaml-language-server:") {
		nl := strings.IndexByte(string(body), '\n') + 1
		b.Write(body[:nl])
		body = body[nl:]
	}
	fmt.Fprintf(&b, "# Alternative written by `mapper suggest --source unrouted`: REVIEW before shipping.\n")
	fmt.Fprintf(&b, "# The %s match no source.\n", what)
	fmt.Fprintf(&b, "# This edit of the accept list sends them to %s, whose rules were written for other\n", source)
	fmt.Fprintf(&b, "# records and may not fit them. It replaces the shipped rule file, instead of the starter\n")
	fmt.Fprintf(&b, "# source (both would accept the same records).\n")
	b.Write(body)
	return []byte(b.String()), nil
}

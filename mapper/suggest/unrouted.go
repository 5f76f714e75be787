package suggest

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// DefaultMinUnrouted is how many records a group of unrouted records
// needs before ProposeUnrouted starts a source for it.
const DefaultMinUnrouted = 10

// UnroutedInput is what ProposeUnrouted works from: the live rules and the
// structural profiles of the records none of their sources accepts.
type UnroutedInput struct {
	// Engine is the live rules. Their sources tell which topics are
	// claimed and by which accept lists: a starter source must not
	// overlap them, and an alternative widens one of them. Required.
	Engine *mapper.Engine
	// Shapes are the unrouted records' profiles (samples.ReadShapes).
	Shapes samples.Shapes
	// RuleFile reads a source's rule file, for the alternatives' edits.
	// Nil reads the file the source was loaded from.
	RuleFile func(src *mapper.Source) ([]byte, error)
	// MinRecords is how many records of a topic and routing values make
	// a starter source worth proposing; fewer get a no_fix line. Zero
	// means DefaultMinUnrouted.
	MinRecords int
}

// UnroutedSuggestion is what ProposeUnrouted proposes for one group of
// unrouted records (one topic, one set of routing header values): a
// starter source (Kind KindNewSource), or why none (KindNoFix), and the
// alternatives that widen an existing source's accept list instead.
type UnroutedSuggestion struct {
	Suggestion
	Topic   string                 `json:"topic"`
	Routing []samples.RoutingValue `json:"routing,omitempty"`
	// Starter is the new source's files; nil with KindNoFix.
	Starter *Starter `json:"starter,omitempty"`
	// Alternatives widen the accept list of a source of the topic to take
	// these records (one per source whose top-level header predicate names
	// a routing header of the group). Each is for review: it sends the
	// records to rules written for other records.
	Alternatives []AcceptAlternative `json:"alternatives,omitempty"`
}

// Starter is a starter source: its rule file and schemas, each a file
// name (relative to the rules or schemas directory) and its text.
type Starter struct {
	Source           string `json:"source"`
	RuleFile         string `json:"rule_file"`
	Rules            []byte `json:"-"`
	InputSchemaFile  string `json:"input_schema_file"`
	InputSchema      []byte `json:"-"`
	OutputSchemaFile string `json:"output_schema_file"`
	OutputSchema     []byte `json:"-"`
	// Fields are the output fields mapped (the top-level scalars).
	Fields []string `json:"fields"`
	// Redact are the paths the starter redacts, guessed from key names.
	Redact []string `json:"redact,omitempty"`
}

// AcceptAlternative is the edit of an existing source's accept list that
// would take a group of unrouted records (Kind KindAcceptPredicate).
type AcceptAlternative struct {
	Suggestion
	// Source is the source whose accept list is widened; RuleFile its rule
	// file's name and Rules that file edited in place (the predicate's
	// list and the version line change, under a REVIEW header).
	Source   string `json:"source"`
	RuleFile string `json:"rule_file"`
	Rules    []byte `json:"-"`
}

// ProposeUnrouted proposes, for every group of unrouted records with at
// least MinRecords records, a starter source built by package infer from
// the group's structural profile — accepting the group's routing header
// values on its topic, an input schema with the types and required
// properties the profile shows, and fields mapping the top-level scalars
// as they are, with an output schema to match, so that it loads as written
// — and the alternative edits of existing accept lists. Smaller groups,
// and groups no accept list can tell apart, get a no_fix line. The result
// is ordered by records, most first. It reads no payload value: the
// profiles hold none.
func ProposeUnrouted(in UnroutedInput) ([]UnroutedSuggestion, error) {
	if in.Engine == nil {
		return nil, fmt.Errorf("propose for unrouted records: no rules")
	}
	minRecords := in.MinRecords
	if minRecords <= 0 {
		minRecords = DefaultMinUnrouted
	}
	readRules := in.RuleFile
	if readRules == nil {
		readRules = func(src *mapper.Source) ([]byte, error) { return os.ReadFile(src.File()) }
	}
	groups := slices.Clone(in.Shapes.Groups)
	samples.SortShapeGroups(groups)
	// Groups of one topic without routing values cannot be told apart
	// from those with them by an accept list.
	perTopic := map[string]int{}
	for _, g := range groups {
		if g.Records >= uint64(minRecords) {
			perTopic[g.Topic]++
		}
	}
	taken := map[string]bool{}
	for _, s := range in.Engine.Sources() {
		taken[s.Name()] = true
		taken[strings.TrimSuffix(baseName(s.File()), ".yaml")] = true
	}
	var out []UnroutedSuggestion
	for _, g := range groups {
		us := UnroutedSuggestion{Topic: g.Topic, Routing: g.Routing}
		us.Category, us.Records = string(mapper.ReasonUnknownSource), g.Records
		what := groupText(g)
		why := ""
		claimed := len(in.Engine.SourcesForTopic(g.Topic)) > 0
		switch {
		case g.Records < uint64(minRecords):
			why = fmt.Sprintf("%s: too few to start a source from (at least %d)", what, minRecords)
		case g.Objects == 0:
			why = fmt.Sprintf("%s: no payload is a JSON object within the limits, so there is no structure to start from", what)
		case g.Topic == "":
			why = fmt.Sprintf("%s: their topic is not known (imported payloads), so no source can claim them", what)
		case withheld(g.Routing):
			why = fmt.Sprintf("%s: a routing header's value is too long or not text, not a name an accept list can test", what)
		case len(g.Routing) == 0 && (claimed || perTopic[g.Topic] > 1):
			why = fmt.Sprintf("%s: they carry no header the rules route on, so no accept list tells them from the topic's other records; look at them with mapper tap and accept them by a path", what)
		}
		if why != "" {
			us.Kind, us.NoFix, us.Edit = KindNoFix, why, "no_fix: "+why
			out = append(out, us)
			continue
		}
		name := starterName(g, taken)
		taken[name] = true
		st, review, err := newStarter(g, name)
		if err != nil {
			return nil, fmt.Errorf("propose a source for %s: %w", what, err)
		}
		us.Kind, us.Starter, us.Review = KindNewSource, st, review
		us.Edit = fmt.Sprintf("%s match no source: a starter source %s (%s, mapping %s)",
			what, name, acceptText(g), fieldsText(st.Fields))
		alts, err := acceptAlternatives(in.Engine, g, what, readRules)
		if err != nil {
			return nil, err
		}
		us.Alternatives = alts
		out = append(out, us)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Fixes() != out[j].Fixes() {
			return out[i].Fixes()
		}
		return out[i].Records > out[j].Records
	})
	return out, nil
}

// groupText is "N records on topic T with H=V".
func groupText(g samples.ShapeGroup) string {
	s := fmt.Sprintf("%d records on topic %s", g.Records, orNone(g.Topic))
	if len(g.Routing) > 0 {
		parts := make([]string, len(g.Routing))
		for i, r := range g.Routing {
			parts[i] = r.String()
		}
		s += " with " + strings.Join(parts, ", ")
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func withheld(rs []samples.RoutingValue) bool {
	return slices.ContainsFunc(rs, func(r samples.RoutingValue) bool { return r.Withheld })
}

// acceptText is the starter's accept list as a person reads it.
func acceptText(g samples.ShapeGroup) string {
	if len(g.Routing) == 0 {
		return "every record of " + g.Topic
	}
	parts := make([]string, len(g.Routing))
	for i, r := range g.Routing {
		parts[i] = fmt.Sprintf("%s in [%s]", r.Header, r.Value)
	}
	return "accept " + strings.Join(parts, " and ")
}

func fieldsText(fields []string) string {
	switch len(fields) {
	case 0:
		return "no field"
	case 1:
		return "1 top-level field"
	}
	return fmt.Sprintf("%d top-level fields", len(fields))
}

// starterName is a source name from the topic and routing values
// ("github-webhooks-issue-comment"), not yet taken.
func starterName(g samples.ShapeGroup, taken map[string]bool) string {
	parts := []string{g.Topic}
	for _, r := range g.Routing {
		parts = append(parts, r.Value)
	}
	base := slug(strings.Join(parts, "-"))
	if base == "" {
		base = "new-source"
	}
	name := base
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return name
}

// slug lower-cases s and joins its letters and digits with single '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > 64 {
		out = strings.TrimRight(out[:64], "-")
	}
	return out
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

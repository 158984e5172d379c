package labels

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chaintrace/chaintrace/graph"
)

type addrKey struct {
	chain graph.Chain
	addr  graph.Address
}

// Set holds labels from any number of sources and answers the questions the tracer asks:
// who is behind an address (as of a date), which addresses seed a trace, which are sinks.
// A Set is not safe for concurrent modification; concurrent queries on a Set nobody adds to
// are safe.
type Set struct {
	labels   []Label
	index    map[addrKey][]int
	warnings []Warning
	sorted   []addrKey // index's keys in order; nil after an Add
	mu       sync.Mutex
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{index: map[addrKey][]int{}} }

// Add adds labels, checking each is well-formed: a known chain, a canonical address, an
// entity, a known category and confidence, and withdrawn (if set) after listed.
func (s *Set) Add(ls ...Label) error {
	for i := range ls {
		if err := validLabel(&ls[i]); err != nil {
			return err
		}
	}
	for _, l := range ls {
		k := addrKey{l.Chain, l.Address}
		if _, seen := s.index[k]; !seen {
			s.sorted = nil
		}
		s.index[k] = append(s.index[k], len(s.labels))
		s.labels = append(s.labels, l)
	}
	return nil
}

// AddBatch adds a loader's labels and keeps its warnings (see Warnings).
func (s *Set) AddBatch(b *Batch) error {
	if err := s.Add(b.Labels...); err != nil {
		return err
	}
	s.warnings = append(s.warnings, b.Warnings...)
	return nil
}

func validLabel(l *Label) error {
	where := fmt.Sprintf("label %s %.100s", l.Chain, l.Address)
	a, err := parseAddress(l.Chain, string(l.Address))
	if err != nil {
		return fmt.Errorf("%s: %w: %w", where, ErrBadAddress, err)
	}
	if a != l.Address {
		return fmt.Errorf("%s: %w: not canonical (want %s)", where, ErrBadAddress, a)
	}
	if strings.TrimSpace(l.Entity) == "" {
		return fmt.Errorf("%s: %w: no entity", where, ErrMalformed)
	}
	if !categories[l.Category] {
		return fmt.Errorf("%s: %w: %q", where, ErrUnknownCategory, l.Category)
	}
	if _, ok := confidenceLevels[l.Confidence]; !ok {
		return fmt.Errorf("%s: %w: %q", where, ErrUnknownConfidence, l.Confidence)
	}
	if !l.Withdrawn.IsZero() && !l.Listed.IsZero() && l.Withdrawn.Before(l.Listed) {
		return fmt.Errorf("%s: %w: withdrawn before listed", where, ErrBadDate)
	}
	return nil
}

// Len is the number of labels.
func (s *Set) Len() int { return len(s.labels) }

// Labels returns a copy of all labels, in the order they were added.
func (s *Set) Labels() []Label { return append([]Label(nil), s.labels...) }

// Warnings returns the warnings of every batch added with AddBatch.
func (s *Set) Warnings() []Warning { return append([]Warning(nil), s.warnings...) }

// Addresses is the number of distinct (chain, address) pairs labelled.
func (s *Set) Addresses() int { return len(s.index) }

// LabelsOf returns the labels of an address that hold on day asOf (all of them when asOf is
// zero), in the order they were added. The address is canonicalized first, so an EIP-55 or
// upper-case spelling finds the same labels.
func (s *Set) LabelsOf(c graph.Chain, a graph.Address, asOf time.Time) []Label {
	if ca, err := parseAddress(c, string(a)); err == nil {
		a = ca
	}
	var out []Label
	for _, i := range s.index[addrKey{c, a}] {
		if s.labels[i].ActiveAt(asOf) {
			out = append(out, s.labels[i])
		}
	}
	return out
}

// Seed is one address to start a trace from, with the source name its taint carries (one
// per incident or per actor). Package trace takes these as trace.Seed{Address, Source}.
type Seed struct {
	Chain   graph.Chain
	Address graph.Address
	Source  string
	// Origin cites the label that made the seed (document, URL, file:line), for
	// trace.Seed.Origin: every result can say why an address was a seed.
	Origin string
}

// SeedQuery selects the labels that make seeds. Every non-empty field must match.
type SeedQuery struct {
	Nexus    string // state nexus, e.g. NexusDPRK: labels with that nexus
	Program  string // sanctions program prefix: "DPRK" matches DPRK, DPRK3, …
	Entity   string // case-insensitive substring of the entity or exact entity id
	Incident string // exact incident
	Chain    graph.Chain
	// Categories the label must have; default actor and sanctioned (the attributions of a
	// thief or a sanctioned party; not mixers, whose pools hold everyone's funds).
	Categories []Category
	// MinConfidence is the lowest confidence level accepted (Confidence.Level); 0 accepts all.
	MinConfidence int
}

func (q *SeedQuery) match(l *Label) bool {
	cats := q.Categories
	if len(cats) == 0 {
		cats = []Category{CategoryActor, CategorySanctioned}
	}
	okCat := false
	for _, c := range cats {
		okCat = okCat || l.Category == c
	}
	if !okCat || (q.Chain != "" && l.Chain != q.Chain) || l.Confidence.Level() < q.MinConfidence {
		return false
	}
	if q.Nexus != "" && !strings.EqualFold(l.Nexus, q.Nexus) {
		return false
	}
	if q.Program != "" {
		found := false
		for _, p := range l.Programs {
			found = found || strings.HasPrefix(p, strings.ToUpper(q.Program))
		}
		if !found {
			return false
		}
	}
	if q.Entity != "" && !strings.Contains(strings.ToLower(l.Entity), strings.ToLower(q.Entity)) && l.EntityID != q.Entity {
		return false
	}
	return q.Incident == "" || l.Incident == q.Incident
}

// better reports whether label a should name a seed's source rather than b: a label with an
// incident beats one without (an incident is the most specific source), then the higher
// confidence, then the earlier listing, then the document name (for determinism).
func better(a, b *Label) bool {
	if (a.Incident != "") != (b.Incident != "") {
		return a.Incident != ""
	}
	if a.Confidence.Level() != b.Confidence.Level() {
		return a.Confidence.Level() > b.Confidence.Level()
	}
	if !a.Listed.Equal(b.Listed) {
		if a.Listed.IsZero() || b.Listed.IsZero() {
			return !a.Listed.IsZero()
		}
		return a.Listed.Before(b.Listed)
	}
	if a.Source.Document != b.Source.Document {
		return a.Source.Document < b.Source.Document
	}
	return a.SeedSource() < b.SeedSource()
}

// Conflict is an address the labels disagree about in a way that must not be guessed: an
// exchange that is also sanctioned or a threat actor's, or claimed by two exchanges.
type Conflict struct {
	Chain   graph.Chain
	Address graph.Address
	Reason  string
	Labels  []Label
}

// Seeds returns one seed per address matching q on day asOf (zero: ignoring dates), sorted by
// chain and address. An address that is also an exchange on that day is not a seed: it is
// returned as a conflict.
func (s *Set) Seeds(q SeedQuery, asOf time.Time) ([]Seed, []Conflict) {
	var seeds []Seed
	var conflicts []Conflict
	for _, k := range s.sortedKeys() {
		var best *Label
		for _, i := range s.index[k] {
			l := &s.labels[i]
			if l.ActiveAt(asOf) && q.match(l) && (best == nil || better(l, best)) {
				best = l
			}
		}
		if best == nil {
			continue
		}
		if c, ok := s.conflictAt(k, asOf); ok {
			conflicts = append(conflicts, c)
			continue
		}
		seeds = append(seeds, Seed{Chain: k.chain, Address: k.addr, Source: best.SeedSource(), Origin: best.Source.String()})
	}
	return seeds, conflicts
}

// Sinks returns the addresses of category cat on day asOf (zero: ignoring dates), grouped by
// entity (of the most confident such label of each address; the first added on a tie), each
// list sorted; chain "" means every chain. This is the shape of trace.Config's
// Exchanges. Addresses the labels disagree about (see Conflict) are left out and returned as
// conflicts.
func (s *Set) Sinks(c graph.Chain, cat Category, asOf time.Time) (map[string][]graph.Address, []Conflict) {
	out := map[string][]graph.Address{}
	var conflicts []Conflict
	for _, k := range s.sortedKeys() {
		if c != "" && k.chain != c {
			continue
		}
		var best *Label
		for _, i := range s.index[k] {
			l := &s.labels[i]
			if l.Category == cat && l.ActiveAt(asOf) && (best == nil || l.Confidence.Level() > best.Confidence.Level()) {
				best = l
			}
		}
		if best == nil {
			continue
		}
		if cf, ok := s.conflictAt(k, asOf); ok {
			conflicts = append(conflicts, cf)
			continue
		}
		out[best.Entity] = append(out[best.Entity], k.addr)
	}
	return out, conflicts
}

// Conflicts returns every address the labels disagree about on day asOf (zero: ignoring
// dates), sorted by chain and address.
func (s *Set) Conflicts(asOf time.Time) []Conflict {
	var out []Conflict
	for _, k := range s.sortedKeys() {
		if c, ok := s.conflictAt(k, asOf); ok {
			out = append(out, c)
		}
	}
	return out
}

// conflictAt decides whether the active labels of one address conflict: an exchange's label
// together with a sanctioned or threat-actor one. (Two exchange labels with different names
// are not a conflict: the sources spell one exchange many ways, "Gate.io" and "Gate"; Sinks
// takes the most confident.)
func (s *Set) conflictAt(k addrKey, asOf time.Time) (Conflict, bool) {
	var active []Label
	exchange, bad := "", ""
	for _, i := range s.index[k] {
		l := s.labels[i]
		if !l.ActiveAt(asOf) {
			continue
		}
		active = append(active, l)
		switch l.Category {
		case CategoryExchange:
			if exchange == "" {
				exchange = l.Entity
			}
		case CategorySanctioned, CategoryActor:
			if bad == "" {
				bad = string(l.Category) + " (" + l.Entity + ")"
			}
		}
	}
	if exchange != "" && bad != "" {
		return Conflict{Chain: k.chain, Address: k.addr, Reason: "exchange (" + exchange + ") and " + bad, Labels: active}, true
	}
	return Conflict{}, false
}

// sortedKeys returns the labelled addresses in order. The order is computed on the first
// query after an Add and kept; a Set is not modified concurrently with queries (see Set),
// but queries may run concurrently, so the computation is guarded.
func (s *Set) sortedKeys() []addrKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sorted != nil {
		return s.sorted
	}
	keys := make([]addrKey, 0, len(s.index))
	for k := range s.index {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].chain != keys[j].chain {
			return keys[i].chain < keys[j].chain
		}
		return keys[i].addr < keys[j].addr
	})
	s.sorted = keys
	return keys
}

// ListVersion is one dated snapshot of a list (e.g. OFAC's Ethereum addresses on 2024-08-20).
type ListVersion struct {
	Date   time.Time
	Labels []Label
}

// Versioned merges successive snapshots of one list into labels with listing intervals: a
// label first present in a version is Listed on its own date if it has one, else on that
// version's date; a label missing from a later version is Withdrawn on that version's date
// (the first date the list is known not to hold it: the delisting happened on or before it).
// A label that comes back opens a new interval. Labels are matched on chain, address, entity
// (case-insensitive) and category. Versions must have distinct non-zero dates.
func Versioned(versions ...ListVersion) ([]Label, error) {
	vs := append([]ListVersion(nil), versions...)
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Date.Before(vs[j].Date) })
	for i, v := range vs {
		if v.Date.IsZero() {
			return nil, fmt.Errorf("%w: list version without a date", ErrBadDate)
		}
		if i > 0 && v.Date.Equal(vs[i-1].Date) {
			return nil, fmt.Errorf("%w: two list versions dated %s", ErrBadDate, v.Date.Format(time.DateOnly))
		}
	}
	type vkey struct {
		addrKey
		entity string
		cat    Category
	}
	var out []Label
	open := map[vkey]int{} // → index in out
	for _, v := range vs {
		present := map[vkey]bool{}
		for _, l := range v.Labels {
			k := vkey{addrKey{l.Chain, l.Address}, strings.ToLower(l.Entity), l.Category}
			present[k] = true
			if _, ok := open[k]; ok {
				continue
			}
			l.Withdrawn = time.Time{}
			if l.Listed.IsZero() || l.Listed.After(v.Date) {
				l.Listed = v.Date
			}
			open[k] = len(out)
			out = append(out, l)
		}
		for k, i := range open {
			if !present[k] {
				out[i].Withdrawn = v.Date
				delete(open, k)
			}
		}
	}
	return out, nil
}

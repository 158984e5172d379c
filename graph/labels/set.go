package labels

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
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
//
// The labels are kept in one compact form (see PERFORMANCE.md): each label is a record of
// numbers into tables of the entities, documents, URLs, files and dates the labels share,
// plus its address; the loaders that read into a Set (ReadFile, Read, LoadSet) write
// those records as they parse, with no intermediate []Label.
type Set struct {
	t        *table
	warnings []Warning
	mu       sync.Mutex            // serializes building the index
	ix       atomic.Pointer[index] // nil after a change; built by the first query
}

// index orders the records by chain and address (then in the order added): the records of
// one address are adjacent, and an address is found by binary search.
type index struct {
	order  []uint32 // record numbers
	groups []uint32 // where each address's records start in order, then len(order)
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{t: newTable()} }

// Add adds labels, checking each is well-formed: a known chain, a canonical address, an
// entity, a known category and confidence, and withdrawn (if set) after listed.
func (s *Set) Add(ls ...Label) error {
	for i := range ls {
		if err := validLabel(&ls[i]); err != nil {
			return err
		}
	}
	for i := range ls {
		s.t.put(&ls[i])
	}
	if len(ls) > 0 {
		s.changed()
	}
	return nil
}

func (s *Set) changed() { s.ix.Store(nil) }

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
	return validFields(l, where)
}

// validFields is validLabel but for the address, which the loaders have canonicalized.
func validFields(l *Label, where string) error {
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
func (s *Set) Len() int { return len(s.t.recs) }

// Labels returns a copy of all labels, in the order they were added.
func (s *Set) Labels() []Label {
	out := make([]Label, len(s.t.recs))
	for i := range s.t.recs {
		out[i] = s.t.label(i)
	}
	return out
}

// Warnings returns the warnings of every batch added with AddBatch and of every file read
// with ReadFile or Read.
func (s *Set) Warnings() []Warning { return append([]Warning(nil), s.warnings...) }

// Addresses is the number of distinct (chain, address) pairs labelled.
func (s *Set) Addresses() int { return len(s.index().groups) - 1 }

// index returns the index, building it after a change. Queries may run concurrently, so
// the building is guarded.
func (s *Set) index() *index {
	if ix := s.ix.Load(); ix != nil {
		return ix
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ix := s.ix.Load(); ix != nil {
		return ix
	}
	t := s.t
	// Records sort by chain, address, then the order added. The chains are few: each
	// record's chain is ranked once, so the comparisons are of a number and an address.
	chains := map[uint32]bool{}
	for i := range t.profs {
		chains[t.profs[i].chain] = true
	}
	ids := make([]uint32, 0, len(chains))
	for id := range chains {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b uint32) int { return strings.Compare(t.strs[a], t.strs[b]) })
	rankOf := make(map[uint32]uint32, len(ids))
	for r, id := range ids {
		rankOf[id] = uint32(r)
	}
	profRank := make([]uint32, len(t.profs))
	for i := range t.profs {
		profRank[i] = rankOf[t.profs[i].chain]
	}
	order := make([]uint32, len(t.recs))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(i, j uint32) int {
		a, b := &t.recs[i], &t.recs[j]
		if ra, rb := profRank[a.prof], profRank[b.prof]; ra != rb {
			return cmp.Compare(ra, rb)
		}
		if c := strings.Compare(string(a.addr), string(b.addr)); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	var groups []uint32
	for k, i := range order {
		if k == 0 || !t.sameAddr(&t.recs[order[k-1]], &t.recs[i]) {
			groups = append(groups, uint32(k))
		}
	}
	groups = append(groups, uint32(len(order)))
	ix := &index{order: order, groups: groups}
	s.ix.Store(ix)
	return ix
}

func (t *table) sameAddr(a, b *rec) bool { return a.addr == b.addr && t.p(a).chain == t.p(b).chain }

// group returns the record numbers of the g-th address (in chain, address order).
func (ix *index) group(g int) []uint32 { return ix.order[ix.groups[g]:ix.groups[g+1]] }

// find returns the group of (c, a), or -1.
func (s *Set) find(ix *index, c graph.Chain, a graph.Address) int {
	t := s.t
	n := len(ix.groups) - 1
	g, found := sort.Find(n, func(g int) int {
		r := &t.recs[ix.order[ix.groups[g]]]
		if rc := string(t.chainOf(r)); string(c) != rc {
			return strings.Compare(string(c), rc)
		}
		return strings.Compare(string(a), string(r.addr))
	})
	if !found {
		return -1
	}
	return g
}

// key returns the chain and address of the g-th group.
func (s *Set) key(ix *index, g int) addrKey {
	r := &s.t.recs[ix.order[ix.groups[g]]]
	return addrKey{s.t.chainOf(r), r.addr}
}

// Has reports whether the set labels the canonical address a of chain c (with any label,
// on any date): the cheap test a caller makes for every address of a block, to find the
// few of a large attribution list that the data touches.
func (s *Set) Has(c graph.Chain, a graph.Address) bool {
	return s.find(s.index(), c, a) >= 0
}

// LabelsOf returns the labels of an address that hold on day asOf (all of them when asOf is
// zero), in the order they were added. The address is canonicalized first, so an EIP-55 or
// upper-case spelling finds the same labels.
func (s *Set) LabelsOf(c graph.Chain, a graph.Address, asOf time.Time) []Label {
	if ca, err := parseAddress(c, string(a)); err == nil {
		a = ca
	}
	ix := s.index()
	g := s.find(ix, c, a)
	if g < 0 {
		return nil
	}
	var out []Label
	for _, i := range ix.group(g) {
		if s.t.activeAt(&s.t.recs[i], asOf) {
			out = append(out, s.t.label(int(i)))
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
	// Only, if set, limits the query to the addresses it accepts — those a block window
	// touches, say: with a million-address list and a few hundred blocks, the other seeds
	// would match nothing yet cost their Seed (and its Origin text) each.
	Only func(graph.Chain, graph.Address) bool
}

func (q *SeedQuery) match(t *table, r *rec) bool {
	cats := q.Categories
	if len(cats) == 0 {
		cats = []Category{CategoryActor, CategorySanctioned}
	}
	okCat := false
	for _, c := range cats {
		okCat = okCat || t.categoryOf(r) == c
	}
	if !okCat || (q.Chain != "" && t.chainOf(r) != q.Chain) || t.level(r) < q.MinConfidence {
		return false
	}
	if q.Nexus != "" && !strings.EqualFold(t.strs[t.p(r).nexus], q.Nexus) {
		return false
	}
	if q.Program != "" {
		found := false
		for _, p := range t.lists[t.p(r).programs] {
			found = found || strings.HasPrefix(p, strings.ToUpper(q.Program))
		}
		if !found {
			return false
		}
	}
	if q.Entity != "" && !strings.Contains(strings.ToLower(t.entityOf(r)), strings.ToLower(q.Entity)) && t.strs[t.p(r).entityID] != q.Entity {
		return false
	}
	return q.Incident == "" || t.incidentOf(r) == q.Incident
}

// better reports whether record a should name a seed's source rather than b: a label with
// an incident beats one without (an incident is the most specific source), then the higher
// confidence, then the earlier listing, then the document name (for determinism).
func (t *table) better(a, b *rec) bool {
	if ai, bi := t.p(a).incident != 0, t.p(b).incident != 0; ai != bi {
		return ai
	}
	if t.level(a) != t.level(b) {
		return t.level(a) > t.level(b)
	}
	al, bl := t.listedOf(a), t.listedOf(b)
	if !al.Equal(bl) {
		if al.IsZero() || bl.IsZero() {
			return !al.IsZero()
		}
		return al.Before(bl)
	}
	if ad, bd := t.strs[t.p(a).document], t.strs[t.p(b).document]; ad != bd {
		return ad < bd
	}
	return t.seedSource(a) < t.seedSource(b)
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
	t, ix := s.t, s.index()
	for g := 0; g < len(ix.groups)-1; g++ {
		if q.Only != nil {
			if k := s.key(ix, g); !q.Only(k.chain, k.addr) {
				continue
			}
		}
		var best *rec
		bestI := 0
		for _, i := range ix.group(g) {
			r := &t.recs[i]
			if t.activeAt(r, asOf) && q.match(t, r) && (best == nil || t.better(r, best)) {
				best, bestI = r, int(i)
			}
		}
		if best == nil {
			continue
		}
		if c, ok := s.conflictAt(ix, g, asOf); ok {
			conflicts = append(conflicts, c)
			continue
		}
		seeds = append(seeds, Seed{Chain: t.chainOf(best), Address: best.addr, Source: t.seedSource(best), Origin: t.origin(bestI)})
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
	t, ix := s.t, s.index()
	for g := 0; g < len(ix.groups)-1; g++ {
		var best *rec
		for _, i := range ix.group(g) {
			r := &t.recs[i]
			if (c != "" && t.chainOf(r) != c) || t.categoryOf(r) != cat || !t.activeAt(r, asOf) {
				continue
			}
			if best == nil || t.level(r) > t.level(best) {
				best = r
			}
		}
		if best == nil {
			continue
		}
		if cf, ok := s.conflictAt(ix, g, asOf); ok {
			conflicts = append(conflicts, cf)
			continue
		}
		out[t.entityOf(best)] = append(out[t.entityOf(best)], best.addr)
	}
	return out, conflicts
}

// Conflicts returns every address the labels disagree about on day asOf (zero: ignoring
// dates), sorted by chain and address.
func (s *Set) Conflicts(asOf time.Time) []Conflict {
	var out []Conflict
	ix := s.index()
	for g := 0; g < len(ix.groups)-1; g++ {
		if c, ok := s.conflictAt(ix, g, asOf); ok {
			out = append(out, c)
		}
	}
	return out
}

// conflictAt decides whether the active labels of one address conflict: an exchange's label
// together with a sanctioned or threat-actor one. (Two exchange labels with different names
// are not a conflict: the sources spell one exchange many ways, "Gate.io" and "Gate"; Sinks
// takes the most confident.)
func (s *Set) conflictAt(ix *index, g int, asOf time.Time) (Conflict, bool) {
	t := s.t
	exchange, bad := "", ""
	for _, i := range ix.group(g) {
		r := &t.recs[i]
		if !t.activeAt(r, asOf) {
			continue
		}
		switch t.categoryOf(r) {
		case CategoryExchange:
			if exchange == "" {
				exchange = t.entityOf(r)
			}
		case CategorySanctioned, CategoryActor:
			if bad == "" {
				bad = string(t.categoryOf(r)) + " (" + t.entityOf(r) + ")"
			}
		}
	}
	if exchange == "" || bad == "" {
		return Conflict{}, false
	}
	var active []Label
	for _, i := range ix.group(g) {
		if t.activeAt(&t.recs[i], asOf) {
			active = append(active, t.label(int(i)))
		}
	}
	k := s.key(ix, g)
	return Conflict{Chain: k.chain, Address: k.addr, Reason: "exchange (" + exchange + ") and " + bad, Labels: active}, true
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

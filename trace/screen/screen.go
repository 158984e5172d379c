package screen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/holiman/uint256"
)

// Screening errors.
var (
	// ErrNotReady: the screener has no trace yet (Update was never called).
	ErrNotReady = errors.New("screener has no trace yet")
	// ErrWrongChain: the query names a chain this screener does not serve.
	ErrWrongChain = errors.New("screener does not serve this chain")
	// ErrBadQuery: an empty or malformed address or deposit reference.
	ErrBadQuery = errors.New("bad screening query")
)

// Options configure a Screener.
type Options struct {
	// Chain is the chain the screener serves; addresses are canonicalized for it.
	Chain graph.Chain
	// Policy decides risk levels and scores; nil means DefaultPolicy().
	Policy *Policy
	// Labels supply the subject's own labels and the labels of the sources (the seed
	// addresses' labels); nil screens on the trace alone.
	Labels *labels.Set
	// EvidencePaths is how many evidence paths a verdict carries: those of the largest
	// components of the explaining movement's taint. 0 means DefaultEvidencePaths; a
	// negative value means all of them. Verdicts are cached per subject, and on a deep
	// haircut history all paths of one subject can take hundreds of kilobytes;
	// Result.Evidence gives the rest.
	EvidencePaths int
}

// DefaultEvidencePaths is how many evidence paths a verdict carries by default.
const DefaultEvidencePaths = 3

// Screener answers exchange screening questions — is this withdrawal address, or this
// deposit, exposed to a listed source; how much, how far, and why — from an immutable
// in-memory index of a trace Result. Update swaps in a new index atomically, so checks take
// no locks, never wait for an update and never recompute history; a Screener is safe for
// any number of concurrent checks while one goroutine (usually a Follower) updates it.
type Screener struct {
	chain  graph.Chain
	policy *Policy
	// addrLabels holds the labels of the chain's addresses (all dates); fixed at creation.
	addrLabels map[graph.Address][]labels.Label
	evPaths    int
	cur        atomic.Pointer[screenIndex]
}

// New returns a screener with no trace: call Update before checking.
func New(opts Options) (*Screener, error) {
	if opts.Policy == nil {
		opts.Policy = DefaultPolicy()
	}
	if len(opts.Policy.Rules) == 0 {
		return nil, fmt.Errorf("%w: no policy", ErrBadPolicy)
	}
	if opts.Chain == "" {
		return nil, fmt.Errorf("%w: screen.Options.Chain is empty", trace.ErrBadConfig)
	}
	s := &Screener{chain: opts.Chain, policy: opts.Policy, addrLabels: map[graph.Address][]labels.Label{}, evPaths: opts.EvidencePaths}
	if s.evPaths == 0 {
		s.evPaths = DefaultEvidencePaths
	}
	if opts.Labels != nil {
		for _, l := range opts.Labels.Labels() {
			if l.Chain == opts.Chain {
				s.addrLabels[l.Address] = append(s.addrLabels[l.Address], l)
			}
		}
	}
	return s, nil
}

// Chain is the chain the screener serves.
func (s *Screener) Chain() graph.Chain { return s.chain }

// Policy is the screener's policy.
func (s *Screener) Policy() *Policy { return s.policy }

// Head returns the block the current index was built at (ok false before the first Update).
func (s *Screener) Head() (height uint64, hash string, ok bool) {
	ix := s.cur.Load()
	if ix == nil {
		return 0, "", false
	}
	return ix.height, ix.hash, true
}

// Update builds the index of res — the trace's state after the block at height (hash) — and
// makes it the one checks answer from. Checks already running finish on the old index. A
// Follower calls it after every Advance; call it yourself only with a Result you traced
// (trace.Engine.Result after its last block, or a scenario's Run), height and hash being
// that block's (the hash may be empty; verdicts report both).
func (s *Screener) Update(res *trace.Result, height uint64, hash string) {
	s.cur.Store(s.build(res, height, hash))
}

// ---- the index ----

type sourceInfo struct {
	labels []labels.Label // labels of the source's seed addresses (deduplicated)
}

// active reports whether the source counts at asOf: an unlabelled source always does
// (scenario seeds); a labelled one when one of its labels holds on that day.
func (si *sourceInfo) active(asOf time.Time) bool {
	if si == nil || len(si.labels) == 0 {
		return true
	}
	for i := range si.labels {
		if si.labels[i].ActiveAt(asOf) {
			return true
		}
	}
	return false
}

func (si *sourceInfo) matches(asOf time.Time, cats []labels.Category, programs []string, nexus string) bool {
	if len(cats) == 0 && len(programs) == 0 && nexus == "" {
		return si.active(asOf)
	}
	if si == nil {
		return false
	}
	for i := range si.labels {
		l := &si.labels[i]
		if l.ActiveAt(asOf) && labelMatches(l, cats, programs, nexus) {
			return true
		}
	}
	return false
}

// subjectEntry is what the index knows about one address or deposit. Everything but the
// two caches is written once, at build time; the caches are filled by the first check
// that needs them (idempotent, so a race between two fillers is harmless).
type subjectEntry struct {
	kind     string
	subject  string
	address  graph.Address
	exchange string
	seed     string
	known    bool
	// amounts is what the subject received and how much of it was tainted, per asset
	// (sorted by asset; a deposit has one).
	amounts []trace.AssetTotals
	// in and out reference the taint compositions (shared with the Result, not copied) of
	// what the subject received and passed on, with their assets; they are merged into
	// exposure lines when its verdict is first computed.
	in, out []assetComps
	labels  []labels.Label // the subject address's own labels (all dates)
	evRef   string         // the tainted movement whose evidence explains the subject
	indexed bool           // part of the index (not made up for an unknown subject)

	verdict  atomic.Pointer[Verdict] // the verdict at the zero date
	evidence atomic.Pointer[evidenceCache]

	// While the index is built: the taint and least hop of evRef's movement.
	evBest    uint256.Int
	evBestHop uint32
}

type screenIndex struct {
	height  uint64
	hash    string
	res     *trace.Result
	addrs   map[graph.Address]*subjectEntry
	deps    map[string]*subjectEntry
	sources map[string]*sourceInfo
}

// assetComps is a taint composition in one asset.
type assetComps struct {
	asset graph.Asset
	cs    []trace.Component
}

// add references a composition in asset that the subject received or passed on (while
// the index is built).
func (e *subjectEntry) add(asset graph.Asset, cs []trace.Component, d Direction) {
	if len(cs) == 0 {
		return
	}
	if d == Incoming {
		e.in = append(e.in, assetComps{asset, cs})
	} else {
		e.out = append(e.out, assetComps{asset, cs})
	}
}

// consider makes ref the evidence reference if it carried more taint (then fewer hops, then
// the smaller reference).
func (e *subjectEntry) consider(ref string, tainted *uint256.Int, cs []trace.Component) {
	if tainted.IsZero() || e.evRef != "" && tainted.Lt(&e.evBest) {
		return // the common case on a long history: decided without reading cs
	}
	minHop := ^uint32(0)
	for _, c := range cs {
		minHop = min(minHop, c.Hop)
	}
	// Ties go to the smaller reference: outputs come from a map, in no fixed order.
	if e.evRef == "" || tainted.Gt(&e.evBest) || minHop < e.evBestHop || minHop == e.evBestHop && ref < e.evRef {
		e.evRef, e.evBest, e.evBestHop = ref, *tainted, minHop
	}
}

// mergedLines returns the subject's exposure lines: one per (direction, source, hop),
// sorted incoming first, then by source and hop.
func (e *subjectEntry) mergedLines() []ExposureLine {
	n := 0
	for _, ac := range e.in {
		n += len(ac.cs)
	}
	for _, ac := range e.out {
		n += len(ac.cs)
	}
	if n == 0 {
		return nil
	}
	lines := make([]ExposureLine, 0, n)
	for d, acs := range [2][]assetComps{e.in, e.out} {
		dir := Incoming
		if d == 1 {
			dir = Outgoing
		}
		for _, ac := range acs {
			for _, c := range ac.cs {
				lines = append(lines, ExposureLine{Asset: ac.asset, Source: c.Source, Hop: c.Hop, Amount: c.Amount, Direction: dir, SourceActive: true})
			}
		}
	}
	sortLines(lines)
	out := lines[:1]
	for _, x := range lines[1:] {
		last := &out[len(out)-1]
		if x.Direction == last.Direction && x.Asset == last.Asset && x.Source == last.Source && x.Hop == last.Hop {
			last.Amount.Add(&last.Amount, &x.Amount)
			continue
		}
		out = append(out, x)
	}
	return slices.Clip(out)
}

func compareLines(a, b ExposureLine) int {
	if a.Direction != b.Direction {
		if a.Direction == Incoming {
			return -1
		}
		return 1
	}
	if c := strings.Compare(string(a.Asset), string(b.Asset)); c != 0 {
		return c
	}
	if c := strings.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	return cmp.Compare(a.Hop, b.Hop)
}

func sortLines(lines []ExposureLine) { slices.SortFunc(lines, compareLines) }

func (s *Screener) build(res *trace.Result, height uint64, hash string) *screenIndex {
	ix := &screenIndex{height: height, hash: hash, res: res, sources: map[string]*sourceInfo{}}
	ix.addrs = make(map[graph.Address]*subjectEntry, len(res.Addresses)+len(s.addrLabels))
	// Entries come from slabs: one allocation per few thousand addresses.
	var entSlab []subjectEntry
	entry := func(a graph.Address) *subjectEntry {
		e := ix.addrs[a]
		if e == nil {
			if len(entSlab) == cap(entSlab) {
				entSlab = make([]subjectEntry, 0, 4096)
			}
			entSlab = append(entSlab, subjectEntry{kind: KindAddress, subject: string(a), address: a, labels: s.addrLabels[a], indexed: true})
			e = &entSlab[len(entSlab)-1]
			ix.addrs[a] = e
		}
		return e
	}
	// The deposit index does not depend on the address index: it is built on a goroutine
	// of its own meanwhile (an index is rebuilt after every Advance of a Follower).
	absorbing := map[graph.Address]bool{}
	for _, x := range res.Exposure {
		for _, ax := range x.Assets {
			for _, d := range ax.Deposits {
				absorbing[d.Address] = true
			}
		}
	}
	deps := make(chan map[string]*subjectEntry)
	go func() { deps <- buildDeposits(res) }()
	for a, st := range res.Addresses {
		e := entry(a)
		e.known, e.amounts = true, st.Assets
	}
	if res.Model == graph.UTXO {
		for ref, o := range res.Outputs {
			b := entry(o.Address)
			b.add(graph.BTC, o.Taint, Incoming)
			b.consider(ref, &o.Tainted, o.Taint)
			// A UTXO output is spent whole: if it is no longer held, its taint went on
			// from this address (except where an exchange absorbed it).
			if _, held := res.Unspent[ref]; !held && !absorbing[o.Address] && !o.Tainted.IsZero() {
				b.add(graph.BTC, o.Taint, Outgoing)
			}
		}
	} else {
		for ref, x := range res.Transfers {
			if x.To == trace.FeeSink {
				continue
			}
			b := entry(x.To)
			b.add(x.Asset, x.Taint, Incoming)
			b.consider(ref, &x.Tainted, x.Taint)
			if x.From != "" && x.From != graph.ZeroAddress {
				entry(x.From).add(x.Asset, x.Taint, Outgoing)
			}
		}
	}
	ix.deps = <-deps
	// Seeds, and the labels of each source (its seed addresses' labels).
	seenLabel := map[string]map[string]bool{}
	unusedSeed := map[string]bool{}
	for _, u := range res.Stats.UnusedSeeds {
		unusedSeed[u] = true
	}
	for _, sd := range res.Seeds() {
		si := ix.sources[sd.Source]
		if si == nil {
			si = &sourceInfo{}
			ix.sources[sd.Source] = si
			seenLabel[sd.Source] = map[string]bool{}
		}
		if sd.Address == "" {
			continue
		}
		b := entry(sd.Address)
		if b.seed == "" {
			b.seed = sd.Source
		}
		// A seed the trace met is known, though the per-address figures leave seeds out
		// (spec §10.3): its verdict must not read like an unseen address's.
		if len(b.in) > 0 || len(b.out) > 0 || !unusedSeed[sd.String()] {
			b.known = true
		}
		ls := s.addrLabels[sd.Address]
		pick := ls[:0:0]
		for _, l := range ls {
			if l.SeedSource() == sd.Source {
				pick = append(pick, l)
			}
		}
		if len(pick) == 0 {
			pick = ls
		}
		for _, l := range pick {
			// One SDN entry lists many addresses: keep one label per entity, category,
			// document and dates, which is what a reader needs.
			k := strings.Join([]string{l.Entity, string(l.Category), l.Source.Document, dateText(l.Listed), dateText(l.Withdrawn)}, "\x00")
			if !seenLabel[sd.Source][k] {
				seenLabel[sd.Source][k] = true
				si.labels = append(si.labels, l)
			}
		}
	}
	// Labelled addresses the trace never saw are answered from the index too.
	for a := range s.addrLabels {
		entry(a)
	}
	for _, e := range ix.deps {
		e.labels = s.addrLabels[e.address]
		e.indexed = true
	}
	return ix
}

// buildDeposits indexes res's deposits at exchanges, then every other tainted arrival,
// by reference.
func buildDeposits(res *trace.Result) map[string]*subjectEntry {
	deps := map[string]*subjectEntry{}
	for name, x := range res.Exposure {
		for _, ax := range x.Assets {
			for _, d := range ax.Deposits {
				deps[d.Ref] = depositEntry(d.Ref, d.Address, name, d.Asset, &d.Value, &d.Tainted, d.Taint)
			}
		}
	}
	if res.Model == graph.UTXO {
		for ref, o := range res.Outputs {
			if deps[ref] == nil {
				deps[ref] = depositEntry(ref, o.Address, "", graph.BTC, &o.Value, &o.Tainted, o.Taint)
			}
		}
	} else {
		for ref, x := range res.Transfers {
			if x.To != trace.FeeSink && deps[ref] == nil {
				deps[ref] = depositEntry(ref, x.To, "", x.Asset, &x.Amount, &x.Tainted, x.Taint)
			}
		}
	}
	return deps
}

func depositEntry(ref string, addr graph.Address, exchange string, asset graph.Asset, value, tainted *uint256.Int, cs []trace.Component) *subjectEntry {
	e := &subjectEntry{kind: KindDeposit, subject: ref, address: addr, exchange: exchange, known: true,
		amounts: []trace.AssetTotals{{Asset: asset, Received: *value, Tainted: *tainted}}, evRef: ref}
	if len(cs) > 0 {
		e.in = []assetComps{{asset, cs}}
	}
	return e
}

// ---- checks ----

// CheckAddress screens an address (a withdrawal destination) against every label, at the
// zero date (all labels count regardless of their dates).
func (s *Screener) CheckAddress(ctx context.Context, chain graph.Chain, address string) (*Verdict, error) {
	return s.CheckAddressAt(ctx, chain, address, time.Time{})
}

// CheckAddressAt screens an address as of a day: labels not yet listed, or already
// withdrawn, on that day do not match (see labels.Label.ActiveAt).
func (s *Screener) CheckAddressAt(ctx context.Context, chain graph.Chain, address string, asOf time.Time) (*Verdict, error) {
	ix, err := s.index(chain)
	if err != nil {
		return nil, err
	}
	e := ix.addrs[graph.Address(address)] // canonical input: no parsing on the hot path
	if e == nil {
		if address == "" {
			return nil, fmt.Errorf("%w: empty address", ErrBadQuery)
		}
		a, perr := graph.ParseAddress(s.chain, address)
		if perr != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadQuery, perr)
		}
		if e = ix.addrs[a]; e == nil {
			e = &subjectEntry{kind: KindAddress, subject: string(a), address: a, labels: s.addrLabels[a]}
		}
	}
	return s.verdict(ix, e, asOf), nil
}

// CheckDeposit screens a deposit by its reference: a Bitcoin output "txid:vout" or an
// Ethereum transfer id ("<tx hash>.<n>", "<tx hash>.log<n>"), at the zero date.
func (s *Screener) CheckDeposit(ctx context.Context, chain graph.Chain, ref string) (*Verdict, error) {
	return s.CheckDepositAt(ctx, chain, ref, time.Time{})
}

// CheckDepositAt screens a deposit as of a day (see CheckAddressAt).
func (s *Screener) CheckDepositAt(ctx context.Context, chain graph.Chain, ref string, asOf time.Time) (*Verdict, error) {
	ix, err := s.index(chain)
	if err != nil {
		return nil, err
	}
	e := ix.deps[ref]
	if e == nil {
		canon, err := depositRef(s.chain, ref)
		if err != nil {
			return nil, err
		}
		if e = ix.deps[canon]; e == nil {
			e = &subjectEntry{kind: KindDeposit, subject: canon}
		}
	}
	return s.verdict(ix, e, asOf), nil
}

func (s *Screener) index(chain graph.Chain) (*screenIndex, error) {
	if chain != s.chain {
		return nil, fmt.Errorf("%w: %q (this one serves %s)", ErrWrongChain, chain, s.chain)
	}
	ix := s.cur.Load()
	if ix == nil {
		return nil, ErrNotReady
	}
	return ix, nil
}

// verdict returns e's verdict at asOf: the cached one at the zero date.
func (s *Screener) verdict(ix *screenIndex, e *subjectEntry, asOf time.Time) *Verdict {
	if asOf.IsZero() {
		if v := e.verdict.Load(); v != nil {
			return v
		}
		v := s.evaluate(ix, e, asOf)
		if e.indexed || len(e.labels) > 0 {
			v.enc = &encCache{}
			e.verdict.Store(v)
		}
		return v
	}
	return s.evaluate(ix, e, asOf)
}

func (s *Screener) evaluate(ix *screenIndex, e *subjectEntry, asOf time.Time) *Verdict {
	v := &Verdict{
		Chain: s.chain, Kind: e.kind, Subject: e.subject, AsOf: asOf, Height: ix.height, BlockHash: ix.hash,
		Known: e.known, Amounts: e.amounts, Seed: e.seed,
	}
	if e.kind == KindDeposit {
		v.Address, v.Exchange = e.address, e.exchange
	}
	if asOf.IsZero() {
		v.Exposures = e.mergedLines()
	} else if base := s.verdict(ix, e, time.Time{}); len(base.Exposures) > 0 {
		v.Exposures = slices.Clone(base.Exposures)
	}
	if len(v.Exposures) > 0 {
		for i := range v.Exposures {
			v.Exposures[i].SourceActive = ix.sources[v.Exposures[i].Source].active(asOf)
		}
	}
	for _, l := range e.labels {
		if l.ActiveAt(asOf) {
			v.Labels = append(v.Labels, MatchedLabel{Role: "subject", Label: l})
		}
	}
	seen := map[string]bool{}
	for _, x := range v.Exposures {
		if seen[x.Source] || !x.SourceActive {
			continue
		}
		seen[x.Source] = true
		if si := ix.sources[x.Source]; si != nil {
			for _, l := range si.labels {
				if l.ActiveAt(asOf) {
					v.Labels = append(v.Labels, MatchedLabel{Role: "source", Source: x.Source, Label: l})
				}
			}
		}
	}
	for i := range s.policy.Rules {
		r := &s.policy.Rules[i]
		if s.ruleMatches(ix, r, e, v, asOf) {
			v.Risk, v.Score, v.Rule = r.Risk, r.Score, r.Name
			break
		}
	}
	if e.evRef != "" {
		ev := e.paths(ix.res, s.evPaths)
		v.Evidence, v.EvidenceComponents = ev.paths, ev.total
	}
	return v
}

type evidenceCache struct {
	paths []trace.Path
	total int
}

func (e *subjectEntry) paths(res *trace.Result, n int) *evidenceCache {
	if p := e.evidence.Load(); p != nil {
		return p
	}
	var ev evidenceCache
	var err error
	ev.paths, ev.total, err = res.EvidenceLargest(e.evRef, n)
	if err != nil {
		ev = evidenceCache{}
	}
	e.evidence.Store(&ev)
	return &ev
}

func (s *Screener) ruleMatches(ix *screenIndex, r *Rule, e *subjectEntry, v *Verdict, asOf time.Time) bool {
	if c := r.Subject; c != nil {
		if c.Seed {
			if e.seed == "" || e.kind != KindAddress {
				return false
			}
		} else {
			ok := false
			for i := range e.labels {
				l := &e.labels[i]
				if l.ActiveAt(asOf) && labelMatches(l, c.Categories, c.Programs, c.Nexus) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
	}
	c := r.Exposure
	if c == nil {
		return true
	}
	// The selected lines are summed per asset (amounts of two assets are never added); the
	// rule matches when one asset's sum passes every threshold.
	var sum uint256.Int
	var asset graph.Asset
	matched := false
	flush := func() {
		if matched || sum.IsZero() || sum.Lt(&c.MinAmount) {
			return
		}
		matched = c.MinShare == nil || shareAtLeast(&sum, &v.Totals(asset).Received, c.MinShare)
	}
	for i := range v.Exposures {
		x := &v.Exposures[i]
		if x.Direction != c.Direction || !x.SourceActive || c.Asset != "" && x.Asset != c.Asset {
			continue
		}
		if c.Direct != nil && *c.Direct != x.Direct() || c.MaxHop != nil && x.Hop > *c.MaxHop {
			continue
		}
		if len(c.Sources) > 0 {
			ok := false
			for _, name := range c.Sources {
				ok = ok || name == x.Source
			}
			if !ok {
				continue
			}
		}
		if !ix.sources[x.Source].matches(asOf, c.Categories, c.Programs, c.Nexus) {
			continue
		}
		if x.Asset != asset {
			flush() // lines are sorted by direction, then asset
			sum.Clear()
			asset = x.Asset
		}
		sum.Add(&sum, &x.Amount)
	}
	flush()
	return matched
}

// Rescreen checks the subjects of earlier verdicts again (same kind, subject and date) and
// returns those whose verdict changed, in the order given.
func (s *Screener) Rescreen(ctx context.Context, prev []*Verdict) ([]Change, error) {
	var out []Change
	for i, p := range prev {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
		var now *Verdict
		var err error
		if p.Kind == KindDeposit {
			now, err = s.CheckDepositAt(ctx, p.Chain, p.Subject, p.AsOf)
		} else {
			now, err = s.CheckAddressAt(ctx, p.Chain, p.Subject, p.AsOf)
		}
		if err != nil {
			return out, fmt.Errorf("rescreening %s %s: %w", p.Kind, p.Subject, err)
		}
		if changed(p, now) {
			out = append(out, Change{Before: p, After: now})
		}
	}
	return out, nil
}

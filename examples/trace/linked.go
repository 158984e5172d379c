package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/report"
)

// Several chains, or one with links, are traced as one history (trace.Multi): the links
// the adapters found in the blocks (swaps, wraps, THORChain, kept on each stored block) and
// those of -links files carry taint from one asset or chain to another, so a Bitcoin
// exchange's exposure can come from an Ethereum theft, with the evidence path through the
// link.

// linkSet is what a linked trace needs besides the blocks.
type linkSet struct {
	links   []graph.Link
	venues  map[graph.Chain][]graph.Address
	orphans []graph.LinkPart
}

// collectLinks reads the link parts of the blocks to trace, adds the declared ones, joins
// them and adds the venues the labels name.
func collectLinks(ctx context.Context, st *graph.Store, set *labels.Set, runs []chainRun, declared []graph.LinkPart, asOf time.Time, u *ui) (linkSet, error) {
	var parts []graph.LinkPart
	for _, r := range runs {
		if r.blocks != nil {
			// Blocks streamed from blk files without a store: reading them twice would
			// double the run's cost. Their THORChain memos need the inputs' addresses,
			// which only a store's ingest fills in; with -store they are read.
			continue
		}
		err := st.Blocks(ctx, r.chain, r.from, r.to, func(b *graph.Block) error {
			parts = append(parts, b.Links...)
			return nil
		})
		if err != nil {
			return linkSet{}, fmt.Errorf("read the links of %s blocks %d..%d: %w", r.chain, r.from, r.to, err)
		}
	}
	parts = append(parts, declared...)
	j, err := graph.JoinLinks(parts)
	if err != nil {
		return linkSet{}, err
	}
	ls := linkSet{links: j.Links, venues: j.Venues, orphans: j.Orphans}
	if ls.venues == nil {
		ls.venues = map[graph.Chain][]graph.Address{}
	}
	for _, r := range runs {
		vs, conflicts := set.Venues(r.chain, asOf)
		for _, c := range conflicts {
			u.warn("%s: %s is not taken as a venue (%s)", r.chain, c.Address, c.Reason)
		}
		for _, v := range vs {
			if !slices.Contains(ls.venues[r.chain], v) {
				ls.venues[r.chain] = append(ls.venues[r.chain], v)
			}
		}
		slices.Sort(ls.venues[r.chain])
	}
	return ls, nil
}

// linkedMethods splits the methods to run: those valid on every chain of the runs (traced
// across the chains, through the links) and, per chain, those valid on it alone (TIHO on
// Bitcoin, seniority on Ethereum), traced on that chain by itself.
func linkedMethods(o *options, runs []chainRun) (common []string, alone map[graph.Chain][]string, err error) {
	alone = map[graph.Chain][]string{}
	valid := func(c graph.Chain, m string) bool { return slices.Contains(trace.Methods(c.Model()), m) }
	for _, m := range []string{trace.Poison, trace.Haircut, trace.FIFO, trace.LIFO, trace.TIHO, trace.Seniority} {
		if o.method != "all" && o.method != m {
			continue
		}
		all := true
		for _, r := range runs {
			all = all && valid(r.chain, m)
		}
		if all {
			common = append(common, m)
			continue
		}
		for _, r := range runs {
			if valid(r.chain, m) {
				alone[r.chain] = append(alone[r.chain], m)
			}
		}
	}
	if len(common) == 0 && len(alone) == 0 {
		return nil, nil, fmt.Errorf("-method %s applies to none of the traced chains", o.method)
	}
	return common, alone, nil
}

// oneChainLinks are the links a trace of chain c by itself can follow, with the legs
// naming no chain (a one-chain trace): links within c, and links whose in-legs are on c
// (pending: what came out elsewhere is not traced). Links that only come out on c are left
// out: their out-legs are payments by a venue, clean.
func oneChainLinks(links []graph.Link, c graph.Chain) []graph.Link {
	var out []graph.Link
	for _, l := range links {
		if len(l.In) == 0 || l.In[0].Chain != c {
			continue
		}
		k := graph.Link{ID: l.ID, Kind: l.Kind, Evidence: l.Evidence}
		for _, leg := range l.In {
			k.In = append(k.In, graph.Leg{Ref: leg.Ref})
		}
		for _, leg := range l.Out {
			if leg.Chain == c {
				k.Out = append(k.Out, graph.Leg{Ref: leg.Ref})
			}
		}
		out = append(out, k)
	}
	return out
}

// storeBlocks hands a chain's stored blocks to trace.Multi one at a time.
type storeBlocks struct {
	st       *graph.Store
	chain    graph.Chain
	next, to uint64
}

func (s *storeBlocks) Next(ctx context.Context) (*graph.Block, error) {
	if s.next > s.to {
		return nil, io.EOF
	}
	b, err := s.st.Block(ctx, s.chain, s.next)
	if err != nil {
		return nil, err
	}
	s.next++
	return b, nil
}

// traceLinked traces runs as one history with ls's links and venues, under every method
// valid on all of them, and returns one report run per chain.
func traceLinked(ctx context.Context, o *options, st *graph.Store, set *labels.Set, runs []chainRun, ls linkSet, u *ui, params map[string]string) ([]report.Run, error) {
	methods, alone, err := linkedMethods(o, runs)
	if err != nil {
		return nil, err
	}
	var allSeeds []trace.Seed
	chainSeeds := map[graph.Chain][]trace.Seed{}
	exchanges := map[graph.Chain]map[string][]graph.Address{}
	names := map[string]bool{}
	for _, r := range runs {
		ss, conflicts := seeds(set, o, r.chain, nil)
		for _, c := range conflicts {
			u.warn("%s: %s left out of the seeds (%s)", r.chain, c.Address, c.Reason)
		}
		chainSeeds[r.chain] = ss
		for _, s := range ss {
			s.Chain = r.chain
			allSeeds = append(allSeeds, s)
		}
		ex, exConflicts := set.Sinks(r.chain, labels.CategoryExchange, o.asOfV)
		for _, c := range exConflicts {
			u.warn("%s: %s left out of the exchanges (%s)", r.chain, c.Address, c.Reason)
		}
		exchanges[r.chain] = ex
		for n := range ex {
			names[n] = true
		}
	}
	if len(allSeeds) == 0 {
		return nil, fmt.Errorf("no seeds: the labels attribute no address of the traced chains to DPRK actors")
	}
	// Every exchange label is listed on every chain (a label without addresses there is
	// listed all the same), so a report row says "received nothing" rather than vanishing.
	for _, ex := range exchanges {
		for n := range names {
			if _, ok := ex[n]; !ok {
				ex[n] = nil
			}
		}
	}
	tp := trace.DefaultParams()
	tp.MinTaint = o.minTaintV
	if o.maxHops >= 0 {
		h := uint32(o.maxHops)
		tp.MaxHops = &h
	}
	if len(ls.orphans) > 0 {
		u.status("%d THORChain outbound(s) name an inbound outside the traced blocks: their payments are traced as clean", len(ls.orphans))
	}
	results := map[graph.Chain][]*trace.Result{}
	for _, m := range methods {
		cfgs := make([]trace.Config, len(runs))
		for i, r := range runs {
			p := tp
			p.ImplicitBalances = r.implicit
			cfgs[i] = trace.Config{Chain: r.chain, Model: r.chain.Model(), Method: m, Exchanges: exchanges[r.chain],
				Params: p, Venues: ls.venues[r.chain], OpeningBalances: r.opening}
		}
		mt, err := trace.NewMulti(cfgs, allSeeds, ls.links)
		if err != nil {
			return nil, fmt.Errorf("trace %s: %w", m, err)
		}
		srcs := map[graph.Chain]trace.ChainBlocks{}
		mctx, cancel := context.WithCancel(ctx)
		for _, r := range runs {
			if err := setGenesis(mt.Engine(r.chain), r); err != nil {
				cancel()
				return nil, err
			}
			if r.blocks != nil {
				srcs[r.chain] = newPushedBlocks(mctx, r, st)
			} else {
				srcs[r.chain] = &storeBlocks{st: st, chain: r.chain, next: r.from, to: r.to}
			}
		}
		u.status("tracing %s across %d chain(s) with %d link(s) …", m, len(runs), len(ls.links))
		err = mt.Replay(mctx, srcs)
		cancel() // ends a streamed source's reader if the replay stopped early
		if err != nil {
			return nil, fmt.Errorf("trace %s: %w", m, err)
		}
		res := mt.Result()
		if err := res.CheckConservation(); err != nil {
			return nil, fmt.Errorf("trace %s: %w", m, err)
		}
		for _, r := range runs {
			cr := res.Results[r.chain]
			if n := len(cr.UnknownOpeningBalances); n > 0 {
				u.warn("%s %s: %d tainted holding(s) rest on an unknown opening balance: their figures overstate taint; report.json lists them", r.chain, m, n)
			}
			results[r.chain] = append(results[r.chain], cr)
		}
	}
	// The methods valid on one chain only, on the chains that have seeds.
	for _, r := range runs {
		if len(chainSeeds[r.chain]) == 0 {
			continue
		}
		for _, m := range alone[r.chain] {
			p := tp
			p.ImplicitBalances = r.implicit
			eng, err := trace.NewEngine(trace.Config{Model: r.chain.Model(), Method: m, Seeds: chainSeeds[r.chain], Exchanges: exchanges[r.chain],
				Params: p, Venues: ls.venues[r.chain], Links: oneChainLinks(ls.links, r.chain), OpeningBalances: r.opening})
			if err != nil {
				return nil, fmt.Errorf("trace %s (%s): %w", r.chain, m, err)
			}
			if err := setGenesis(eng, r); err != nil {
				return nil, err
			}
			u.status("tracing %s on %s alone …", m, r.chain)
			err = r.replay(ctx, st, func(b *graph.Block) error { return eng.ApplyBlockContext(ctx, b) })
			if err == nil {
				err = eng.CheckLinks()
			}
			if err != nil {
				return nil, fmt.Errorf("trace %s (%s): %w", r.chain, m, err)
			}
			res := eng.Result()
			if err := res.CheckConservation(); err != nil {
				return nil, fmt.Errorf("trace %s (%s): %w", r.chain, m, err)
			}
			if len(res.Injected) == 0 {
				// No seed of this chain moved in its blocks: the chain's taint came only
				// through links from the others, which this method cannot follow. A row
				// of zeros would read as "clean".
				u.status("%s on %s alone: no seed of %s moved in its blocks, and %s cannot follow taint across chains: not shown", m, r.chain, r.chain, m)
				continue
			}
			results[r.chain] = append(results[r.chain], res)
		}
	}
	params["links"] = fmt.Sprintf("%d (found in the blocks and declared), %d venue address(es)", len(ls.links), countVenues(ls.venues))
	var out []report.Run
	for _, r := range runs {
		tip, _, _, err := st.Tip(ctx, r.chain)
		if err != nil {
			return nil, err
		}
		assets := report.KnownTokens()
		for a, i := range r.tokens {
			assets[a] = i
		}
		out = append(out, report.Run{Chain: r.chain, StoreHeight: tip, From: r.from, To: r.to, Results: results[r.chain], Labels: set, AsOf: o.asOfV, Assets: assets})
	}
	u.status("traced %d chain(s) with %s across them", len(runs), strings.Join(methods, ", "))
	return out, nil
}

func countVenues(v map[graph.Chain][]graph.Address) int {
	n := 0
	for _, l := range v {
		n += len(l)
	}
	return n
}

// setGenesis gives the engine the run's initial balances, in address order.
func setGenesis(eng *trace.Engine, r chainRun) error {
	addrs := make([]graph.Address, 0, len(r.genesis))
	for a := range r.genesis {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
	for _, a := range addrs {
		if err := eng.SetBalance(a, r.chain.NativeAsset(), r.genesis[a]); err != nil {
			return err
		}
	}
	return nil
}

// pushedBlocks hands trace.Multi, which pulls one block at a time, the blocks of a source
// that pushes them (chainRun.replay: blk files streamed without a store). The source runs
// in its own goroutine and waits, after handing over each block, until the next is asked
// for: a streamed block's memory may be reused once its callback returns.
type pushedBlocks struct {
	ctx     context.Context
	run     chainRun
	st      *graph.Store
	blocks  chan *graph.Block
	next    chan struct{}
	done    chan error
	started bool
}

func newPushedBlocks(ctx context.Context, r chainRun, st *graph.Store) *pushedBlocks {
	return &pushedBlocks{ctx: ctx, run: r, st: st, blocks: make(chan *graph.Block), next: make(chan struct{}), done: make(chan error, 1)}
}

func (p *pushedBlocks) Next(ctx context.Context) (*graph.Block, error) {
	if !p.started {
		p.started = true
		go func() {
			p.done <- p.run.replay(p.ctx, p.st, func(b *graph.Block) error {
				select {
				case p.blocks <- b:
				case <-p.ctx.Done():
					return p.ctx.Err()
				}
				select {
				case <-p.next:
					return nil
				case <-p.ctx.Done():
					return p.ctx.Err()
				}
			})
		}()
	} else {
		select {
		case p.next <- struct{}{}:
		case err := <-p.done:
			p.done <- err
		}
	}
	select {
	case b := <-p.blocks:
		return b, nil
	case err := <-p.done:
		p.done <- err // Next may be called again after the end
		if err != nil {
			return nil, err
		}
		return nil, io.EOF
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

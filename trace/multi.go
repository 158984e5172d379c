package trace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace/internal/specjson"
)

// A multi-chain trace replays several chains as one history (docs/taint-spec.md §15.2):
// each chain keeps its own order, and the chains are merged on block time, the chain
// listed first going first on equal times. Links carry taint from one chain to another
// (a THORChain inbound on Ethereum, its outbound on Bitcoin).

// Multi replays several chains under one method, each with its own Engine, sharing the
// link buffers, the source table and the evidence, so that an evidence path can lead from
// a Bitcoin deposit back through a link to an Ethereum theft. Create it with NewMulti.
type Multi struct {
	chains  []graph.Chain
	engines map[graph.Chain]*Engine
	links   *linkBook
}

// NewMulti validates a multi-chain trace and returns it ready to replay. Each Config is
// one chain's: its Chain (the chain's name in this trace), Model, Venues, and its
// Exchanges (every exchange label of the trace, with its addresses on this chain; a label
// without any is listed all the same). Method and Params must be the same for all. seeds
// are the trace's seeds, each naming its chain; links its links, each leg naming its chain.
func NewMulti(cfgs []Config, seeds []Seed, links []graph.Link) (*Multi, error) {
	if len(cfgs) == 0 || len(cfgs) > 1<<16 {
		return nil, fmt.Errorf("%w: a multi-chain trace needs 1 to 65536 chains, not %d", ErrBadConfig, len(cfgs))
	}
	m := &Multi{engines: map[graph.Chain]*Engine{}}
	for i, c := range cfgs {
		if c.Chain == "" {
			return nil, fmt.Errorf("%w: chain %d has no name", ErrBadConfig, i)
		}
		if _, dup := m.engines[c.Chain]; dup {
			return nil, fmt.Errorf("%w: chain %q is listed twice", ErrBadConfig, c.Chain)
		}
		if c.Method != cfgs[0].Method {
			return nil, fmt.Errorf("%w: chain %q traces %s, chain %q %s: one method for all", ErrBadConfig, c.Chain, c.Method, cfgs[0].Chain, cfgs[0].Method)
		}
		m.chains = append(m.chains, c.Chain)
		m.engines[c.Chain] = nil
	}
	known := map[graph.Chain]bool{}
	for _, c := range m.chains {
		known[c] = true
	}
	var sources []string
	for i, s := range seeds {
		if !known[s.Chain] {
			return nil, fmt.Errorf("%w: seed %d (%s) names unknown chain %q", ErrBadConfig, i, s, s.Chain)
		}
		sources = append(sources, s.Source)
	}
	lb, err := newLinkBook(links, m.chains)
	if err != nil {
		return nil, err
	}
	m.links = lb
	ev := &evidence{}
	for i, c := range cfgs {
		c.Seeds, c.Links = seeds, nil
		e, err := newEngine(c, lb, ev, sources)
		if err != nil {
			return nil, fmt.Errorf("chain %s: %w", c.Chain, err)
		}
		e.engID = uint16(i)
		m.engines[c.Chain] = e
	}
	return m, nil
}

// Chains returns the chains in the trace's order.
func (m *Multi) Chains() []graph.Chain { return append([]graph.Chain(nil), m.chains...) }

// Engine returns the engine of a chain (nil for an unknown one): to declare its initial
// holdings (Fund, SetBalance) before anything is replayed.
func (m *Multi) Engine(c graph.Chain) *Engine { return m.engines[c] }

// ApplyBlock replays one block of chain c. The caller keeps the merged order (Replay does
// it for block sources); a link's out-leg met before its in-legs is an error either way.
func (m *Multi) ApplyBlock(c graph.Chain, b *graph.Block) error {
	e := m.engines[c]
	if e == nil {
		return fmt.Errorf("%w: unknown chain %q", ErrBadConfig, c)
	}
	if err := e.ApplyBlock(b); err != nil {
		return fmt.Errorf("chain %s: %w", c, err)
	}
	return nil
}

// ChainBlocks is one chain's blocks for Replay, in the chain's own order: Next returns
// io.EOF after the last.
type ChainBlocks interface {
	Next(ctx context.Context) (*graph.Block, error)
}

// Replay merges the chains' blocks on block time (MergeBlocks) and replays them, then
// checks that every link leg was met (CheckLinks).
func (m *Multi) Replay(ctx context.Context, sources map[graph.Chain]ChainBlocks) error {
	for c := range sources {
		if m.engines[c] == nil {
			return fmt.Errorf("%w: blocks for unknown chain %q", ErrBadConfig, c)
		}
	}
	if err := MergeBlocks(ctx, m.chains, sources, m.ApplyBlock); err != nil {
		return err
	}
	return m.CheckLinks()
}

// MergeBlocks hands apply the blocks of several chains as one history (spec §15.2): the
// next block is the head with the smallest time (graph.Block.Time), the chain listed first
// in chains going first on equal times; each chain's own order is kept. A chain without a
// source has no blocks.
func MergeBlocks(ctx context.Context, chains []graph.Chain, sources map[graph.Chain]ChainBlocks, apply func(graph.Chain, *graph.Block) error) error {
	heads := make([]*graph.Block, len(chains))
	next := func(i int) error {
		heads[i] = nil
		src := sources[chains[i]]
		if src == nil {
			return nil
		}
		b, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("chain %s: %w", chains[i], err)
		}
		heads[i] = b
		return nil
	}
	for i := range chains {
		if err := next(i); err != nil {
			return err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		pick := -1
		for i, b := range heads {
			if b != nil && (pick < 0 || b.Time < heads[pick].Time) {
				pick = i
			}
		}
		if pick < 0 {
			return nil
		}
		if err := apply(chains[pick], heads[pick]); err != nil {
			return err
		}
		if err := next(pick); err != nil {
			return err
		}
	}
}

// CheckLinks reports a link leg that no chain's replay met (spec §15.9).
func (m *Multi) CheckLinks() error {
	for _, c := range m.chains {
		if err := m.engines[c].CheckLinks(); err != nil {
			return err
		}
	}
	return nil
}

// MultiResult is the result of a multi-chain trace: one Result per chain and the links.
// Its JSON encoding is the spec's multi-chain result object (§15.8).
type MultiResult struct {
	Chains  []graph.Chain
	Results map[graph.Chain]*Result
	Links   map[string]*LinkResult
}

// Result returns the result of everything replayed so far.
func (m *Multi) Result() *MultiResult {
	r := &MultiResult{Chains: m.Chains(), Results: map[graph.Chain]*Result{}}
	for _, c := range m.chains {
		r.Results[c] = m.engines[c].Result()
	}
	r.Links = m.engines[m.chains[0]].linkResults()
	for _, res := range r.Results {
		res.multiLinks = r.Links
	}
	return r
}

// MarshalJSON writes {"chains": {name: result}, "links": {…}} (spec §15.8).
func (r *MultiResult) MarshalJSON() ([]byte, error) {
	chains := make(map[string]json.RawMessage, len(r.Results))
	for c, res := range r.Results {
		b, err := res.MarshalJSON()
		if err != nil {
			return nil, err
		}
		chains[string(c)] = b
	}
	links := jsonLinks(r.Links, true)
	if links == nil {
		links = map[string]specjson.Link{}
	}
	return json.Marshal(map[string]any{"chains": chains, "links": links})
}

// CheckConservation checks every chain's result (spec §9.3 per chain, source and asset,
// with linked_in and linked_out).
func (r *MultiResult) CheckConservation() error {
	for _, c := range r.Chains {
		if err := r.Results[c].CheckConservation(); err != nil {
			return fmt.Errorf("chain %s: %w", c, err)
		}
	}
	return nil
}

// String renders every chain's tables, then the links.
func (r *MultiResult) String() string {
	var s string
	for _, c := range r.Chains {
		s += fmt.Sprintf("== chain %s ==\n%s\n", c, r.Results[c])
	}
	ids := make([]string, 0, len(r.Links))
	for id := range r.Links {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) > 0 {
		s += "links\n"
	}
	for _, id := range ids {
		l := r.Links[id]
		s += fmt.Sprintf("  %s (%s, %s): in %s %s on %s, %d out-leg(s)\n", id, l.Kind, l.Status, l.InValue.Dec(), l.AssetIn, l.ChainIn, len(l.Out))
	}
	return s
}

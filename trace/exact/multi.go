package exact

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// Multi replays several chains as one history in exact mode (docs/taint-spec.md §15.2),
// as trace.Multi does: one Engine per chain, sharing the link buffers and the source
// table, the chains merged on block time. Create it with NewMulti.
type Multi struct {
	chains  []graph.Chain
	engines map[graph.Chain]*Engine
}

// NewMulti validates a multi-chain trace as trace.NewMulti does (same arguments, same
// errors: *trace.LinkError for an invalid link set, trace.ErrBadConfig for the rest) and
// returns it ready to replay. Every chain's Method is one New accepts.
func NewMulti(cfgs []trace.Config, seeds []trace.Seed, links []graph.Link) (*Multi, error) {
	for _, c := range cfgs {
		if err := checkMethod(c.Method); err != nil {
			return nil, err
		}
	}
	if _, err := trace.NewMulti(cfgs, seeds, links); err != nil {
		return nil, err
	}
	lb := newLinkBook(links)
	m := &Multi{engines: map[graph.Chain]*Engine{}}
	for _, c := range cfgs {
		c.Seeds, c.Links = seeds, nil
		m.chains = append(m.chains, c.Chain)
		m.engines[c.Chain] = newEngine(c, lb)
	}
	return m, nil
}

// Chains returns the chains in the trace's order.
func (m *Multi) Chains() []graph.Chain { return append([]graph.Chain(nil), m.chains...) }

// Engine returns the engine of a chain (nil for an unknown one), to declare its initial
// holdings (Fund, SetBalance) before anything is replayed.
func (m *Multi) Engine(c graph.Chain) *Engine { return m.engines[c] }

// ApplyBlock replays one block of chain c. The caller keeps the merged order (Replay does
// it for block sources).
func (m *Multi) ApplyBlock(c graph.Chain, b *graph.Block) error {
	e := m.engines[c]
	if e == nil {
		return fmt.Errorf("%w: unknown chain %q", trace.ErrBadConfig, c)
	}
	if err := e.ApplyBlock(b); err != nil {
		return fmt.Errorf("chain %s: %w", c, err)
	}
	return nil
}

// Replay merges the chains' blocks on block time (the chain listed first goes first on
// equal times; each chain's own order is kept), replays them, and then checks that every
// link leg was met (CheckLinks), as trace.Multi.Replay does.
func (m *Multi) Replay(ctx context.Context, sources map[graph.Chain]trace.ChainBlocks) error {
	for c := range sources {
		if m.engines[c] == nil {
			return fmt.Errorf("%w: blocks for unknown chain %q", trace.ErrBadConfig, c)
		}
	}
	if err := trace.MergeBlocks(ctx, m.chains, sources, m.ApplyBlock); err != nil {
		return err
	}
	return m.CheckLinks()
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

// MultiResult is the exact result of a multi-chain trace: one Result per chain and the
// links. Its JSON encoding is the spec's multi-chain result object (§15.8).
type MultiResult struct {
	Chains  []graph.Chain
	Results map[graph.Chain]*Result
	Links   map[string]*LinkResult
}

// Result returns the result of everything replayed so far.
func (m *Multi) Result() *MultiResult {
	r := &MultiResult{Chains: m.Chains(), Results: map[graph.Chain]*Result{}}
	for _, c := range m.chains {
		res := m.engines[c].Result()
		res.multiChain = true
		r.Results[c] = res
	}
	r.Links = m.engines[m.chains[0]].linkResults()
	for _, res := range r.Results {
		res.Links = r.Links
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
	return json.Marshal(map[string]any{"chains": chains, "links": jsonLinks(r.Links, true)})
}

// CheckConservation checks every chain's result exactly (spec §9.3 per chain, source and
// asset, with linked_in and linked_out).
func (r *MultiResult) CheckConservation() error {
	for _, c := range r.Chains {
		if err := r.Results[c].CheckConservation(); err != nil {
			return fmt.Errorf("chain %s: %w", c, err)
		}
	}
	return nil
}

package trace_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/internal/randchain"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// pairReplay applies everything to two engines and, after every block, holds their
// Results equal: one keeps converted compositions between Results (as a Follower's engine
// does), the other converts everything each time.
type pairReplay struct {
	kept, fresh *trace.Engine
	fail        func(format string, args ...any)
}

func (p *pairReplay) Fund(op graph.Outpoint, addr graph.Address, value graph.Amount) error {
	if err := p.kept.Fund(op, addr, value); err != nil {
		return err
	}
	return p.fresh.Fund(op, addr, value)
}

func (p *pairReplay) SetBalance(addr graph.Address, asset graph.Asset, amount graph.Amount) error {
	if err := p.kept.SetBalance(addr, asset, amount); err != nil {
		return err
	}
	return p.fresh.SetBalance(addr, asset, amount)
}

func (p *pairReplay) ApplyBlock(b *graph.Block) error {
	if err := p.kept.ApplyBlock(b); err != nil {
		return err
	}
	if err := p.fresh.ApplyBlock(b); err != nil {
		return err
	}
	p.compare(fmt.Sprintf("block %d", b.Height))
	return nil
}

func (p *pairReplay) compare(at string) {
	got, want := p.kept.Result(), p.fresh.Result()
	gj, err := json.Marshal(got)
	if err != nil {
		p.fail("%s: %v", at, err)
	}
	wj, err := json.Marshal(want)
	if err != nil {
		p.fail("%s: %v", at, err)
	}
	if string(gj) != string(wj) {
		p.fail("%s: results differ:\nkept  %s\nfresh %s", at, gj, wj)
	}
	if !reflect.DeepEqual(got.Outputs, want.Outputs) || !reflect.DeepEqual(got.Transfers, want.Transfers) || !reflect.DeepEqual(got.Exposure, want.Exposure) {
		p.fail("%s: outputs, transfers or exposure differ", at)
	}
}

func newPair(cfg trace.Config, fail func(string, ...any)) (*pairReplay, error) {
	kept, err := trace.NewEngine(cfg)
	if err != nil {
		return nil, err
	}
	trace.SetKeepComps(kept, true)
	fresh, err := trace.NewEngine(cfg)
	if err != nil {
		return nil, err
	}
	return &pairReplay{kept: kept, fresh: fresh, fail: fail}, nil
}

// TestPropertyKeptComponents: on random chains of both models, under every method, a
// Result built after every block from kept compositions equals one converted afresh.
func TestPropertyKeptComponents(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var c *randchain.Case
		if rapid.Bool().Draw(t, "account") {
			c = randchain.Account(t)
		} else {
			c = randchain.UTXO(t)
		}
		m := rapid.SampledFrom(trace.Methods(c.Model)).Draw(t, "method")
		p, err := newPair(trace.Config{Model: c.Model, Method: m, Seeds: c.Seeds, Exchanges: c.Exchanges, Params: c.Params}, t.Fatalf)
		if err != nil {
			t.Fatalf("NewEngine: %v", err)
		}
		if err := c.Replay(p); err != nil {
			t.Fatalf("replay: %v", err)
		}
	})
}

// TestKeptComponentsLargeResults: the same on a generated history big enough that a
// Result converts its new movements on several goroutines, some of them reading kept ones.
func TestKeptComponentsLargeResults(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	c := genUTXOChain(40_000, 0.3)
	p, err := newPair(trace.Config{Model: graph.UTXO, Method: trace.Haircut, Seeds: c.seeds, Params: trace.DefaultParams()}, t.Fatalf)
	require.NoError(t, err)
	for _, f := range c.funding {
		require.NoError(t, p.Fund(f.op, f.addr, graph.NewAmount(f.value)))
	}
	first := 0
	for i := range c.blocks {
		// Results after the first block (a few kept movements), after 15 blocks (more
		// than 2^14 new ones: several goroutines) and at the end.
		if i == 0 || i == 14 || i == len(c.blocks)-1 {
			require.NoError(t, p.ApplyBlock(&c.blocks[i]))
			switch n := len(p.kept.Result().Outputs); i {
			case 0:
				first = n
			case 14:
				require.Greater(t, n-first, 1<<14, "enough new movements for several goroutines")
			}
			continue
		}
		require.NoError(t, p.kept.ApplyBlock(&c.blocks[i]))
		require.NoError(t, p.fresh.ApplyBlock(&c.blocks[i]))
	}
}

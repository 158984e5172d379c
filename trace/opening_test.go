package trace_test

import (
	"context"
	"errors"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/holiman/uint256"
	"github.com/stretchr/testify/require"
)

// openings is an OpeningBalances over a fixed table; an address listed in unknown answers
// as a node without the historical state does.
type openings struct {
	bal     map[graph.Address]uint64
	unknown map[graph.Address]bool
	asked   []graph.Address
}

func (o *openings) OpeningBalance(_ context.Context, a graph.Address, asset graph.Asset) (*uint256.Int, error) {
	o.asked = append(o.asked, a)
	if o.unknown[a] {
		return nil, &graph.OpeningBalanceError{Address: a, Asset: asset, Block: 99, Err: errors.New("missing trie node")}
	}
	return uint256.NewInt(o.bal[a]), nil
}

// An address that held 1,000 ETH before the window receives 1 tainted ETH and sends 1 ETH:
// with its opening balance the 1 ETH sent carries 1/1,001 of taint under haircut (what a
// full replay gives), without it (implicit clean funds only) all of it. A node that cannot
// give the balance leaves the figure overstated and says so.
func TestOpeningBalances(t *testing.T) {
	const eth = 1_000_000_000_000_000 // a milli-ETH in wei: 1,000 of them fit 64 bits
	thief, mule, dest := graph.Address("0x1111111111111111111111111111111111111111"), graph.Address("0x2222222222222222222222222222222222222222"), graph.Address("0x3333333333333333333333333333333333333333")
	x := func(h string, from, to graph.Address, v uint64) graph.AccountTx {
		return graph.AccountTx{Hash: h, From: from, Success: true, Transfers: []graph.Transfer{{ID: h + ".0", Asset: graph.ETH, From: from, To: to, Amount: graph.NewAmount(v), Kind: graph.KindCall}}}
	}
	// The window: the thief pays the mule 1 ETH, the mule sends 1 ETH on.
	window := []graph.Block{
		{Chain: graph.Ethereum, Height: 100, AccountTxs: []graph.AccountTx{x("0xa", thief, mule, eth)}},
		{Chain: graph.Ethereum, Height: 101, AccountTxs: []graph.AccountTx{x("0xb", mule, dest, eth)}},
	}
	run := func(ob graph.OpeningBalances, method string) *trace.Result {
		p := trace.DefaultParams()
		p.ImplicitBalances = true
		eng, err := trace.NewEngine(trace.Config{Model: graph.Account, Method: method, Params: p, OpeningBalances: ob,
			Seeds: []trace.Seed{{Address: thief, Source: "lazarus"}}})
		require.NoError(t, err)
		for i := range window {
			require.NoError(t, eng.ApplyBlockContext(context.Background(), &window[i]))
		}
		return eng.Result()
	}
	// The full replay: the mule's 1,000 ETH arrive in block 1.
	full := func(method string) *trace.Result {
		eng, err := trace.NewEngine(trace.Config{Model: graph.Account, Method: method, Params: trace.DefaultParams(),
			Seeds: []trace.Seed{{Address: thief, Source: "lazarus"}}})
		require.NoError(t, err)
		require.NoError(t, eng.SetBalance(thief, graph.ETH, graph.NewAmount(eth)))
		require.NoError(t, eng.SetBalance(mule, graph.ETH, graph.NewAmount(1000*eth)))
		for i := range window {
			require.NoError(t, eng.ApplyBlock(&window[i]))
		}
		return eng.Result()
	}
	for _, m := range []string{trace.Haircut, trace.FIFO, trace.LIFO, trace.Seniority} {
		ob := &openings{bal: map[graph.Address]uint64{mule: 1000 * eth, thief: eth}}
		got := run(ob, m)
		want := full(m)
		require.Equal(t, want.Transfers["0xb.0"], got.Transfers["0xb.0"], m)
		require.Empty(t, got.UnknownOpeningBalances)
		require.Equal(t, mule, ob.asked[0], "asked when taint first reached the mule")
		seen := map[graph.Address]bool{}
		for _, a := range ob.asked {
			require.False(t, seen[a], "asked twice for %s", a)
			seen[a] = true
		}
		if m == trace.Haircut {
			require.Equal(t, "999000999001", got.Transfers["0xb.0"].Tainted.Dec(), "1/1,001 of 1 ETH")
			// Without opening balances the whole 1 ETH is tainted: the overstatement.
			require.Equal(t, "1000000000000000", run(nil, m).Transfers["0xb.0"].Tainted.Dec())
			// A node without the state: the same overstatement, and the result says where.
			u := run(&openings{unknown: map[graph.Address]bool{mule: true}}, m)
			require.Equal(t, "1000000000000000", u.Transfers["0xb.0"].Tainted.Dec())
			require.Equal(t, []trace.HoldingRef{{Address: mule, Asset: graph.ETH}}, u.UnknownOpeningBalances)
		}
	}
	// Poison's figures do not depend on amounts: it never asks.
	ob := &openings{bal: map[graph.Address]uint64{mule: 1000 * eth}}
	run(ob, trace.Poison)
	require.Empty(t, ob.asked)
}

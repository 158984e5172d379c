package screen_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/screen"
	"github.com/stretchr/testify/require"
)

// The accounts of fakeTokenBlocks.
const (
	lazarus  = graph.Address("0x1a2a000000000000000000000000000000000001")
	mule     = graph.Address("0x1a2a000000000000000000000000000000000002")
	innocent = graph.Address("0x1a2a000000000000000000000000000000000003")
	spammer  = graph.Address("0x1a2a000000000000000000000000000000000004")
	fakeTok  = graph.Asset("0x1a2a00000000000000000000000000000000fa4e")
)

// fakeTokenBlocks: a source account sends real ETH to a mule; then a contract that is
// not a real token logs transfers "from" the source account to an innocent address,
// the second of which would take the innocent's balance past 2^256 (trace's
// TestAssetListSkipsFakeTokens replays the same blocks on the engine alone).
func fakeTokenBlocks() []graph.Block {
	max := graph.MustAmount("115792089237316195423570985008687907853269984665640564039457584007913129639935")
	return []graph.Block{
		{Chain: graph.Ethereum, Height: 1, AccountTxs: []graph.AccountTx{{Hash: "0x1", From: lazarus, Success: true,
			Transfers: []graph.Transfer{{ID: "0x1.0", Asset: graph.ETH, From: lazarus, To: mule, Amount: graph.NewAmount(5), Kind: graph.KindCall}}}}},
		{Chain: graph.Ethereum, Height: 2, AccountTxs: []graph.AccountTx{{Hash: "0x2", From: spammer, Success: true,
			Transfers: []graph.Transfer{
				{ID: "0x2.log0", Asset: fakeTok, From: lazarus, To: innocent, Amount: graph.NewAmount(1000), Kind: graph.KindERC20},
				{ID: "0x2.log1", Asset: fakeTok, From: lazarus, To: innocent, Amount: max, Kind: graph.KindERC20}}}}},
	}
}

// TestFollowerStopsAtFakeTokenOverflow: a follower that traces every asset cannot get
// past a fake token's overflow; it stays at the block before, says how to get past it,
// and one that lists its assets follows the same chain.
func TestFollowerStopsAtFakeTokenOverflow(t *testing.T) {
	ctx := context.Background()
	blocks := fakeTokenBlocks()
	for i := range blocks {
		blocks[i].Hash = fmt.Sprintf("0x%064x", i+1)
		if i > 0 {
			blocks[i].Parent = blocks[i-1].Hash
		}
	}
	pol, err := screen.LoadPolicy("default-policy.yaml")
	require.NoError(t, err)
	for _, assets := range [][]graph.Asset{nil, {graph.ETH}} {
		st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir(), WindowStarts: map[graph.Chain]uint64{graph.Ethereum: 1}})
		require.NoError(t, err)
		defer st.Close()
		s, err := screen.New(screen.Options{Chain: graph.Ethereum, Policy: pol})
		require.NoError(t, err)
		p := trace.DefaultParams()
		p.ImplicitBalances, p.Assets = true, assets
		f, err := screen.Follow(ctx, screen.FollowOptions{Name: "fake", Chain: graph.Ethereum, Start: 1,
			Config: trace.Config{Model: graph.Account, Method: trace.Haircut, Params: p, Seeds: []trace.Seed{{Address: lazarus, Source: "lazarus"}}},
			Init:   func(e *trace.Engine) error { return e.SetBalance(lazarus, graph.ETH, graph.NewAmount(100)) },
			Store:  st, Source: &chainSource{blocks: blocks}, Screener: s})
		require.NoError(t, err)
		for try := 0; try < 2; try++ {
			_, err = f.Advance(ctx)
			if assets != nil {
				break
			}
			var oe *trace.OverflowError
			require.ErrorAs(t, err, &oe)
			require.Equal(t, fakeTok, oe.Asset)
			require.ErrorContains(t, err, "Params.Assets")
			h, _, ok := f.Height()
			require.True(t, ok)
			require.Equal(t, uint64(1), h, "the follower stays at the block before")
		}
		if assets != nil {
			require.NoError(t, err)
			h, _, _ := f.Height()
			require.Equal(t, uint64(2), h)
			v, err := s.CheckAddress(ctx, graph.Ethereum, string(innocent))
			require.NoError(t, err)
			require.False(t, v.Known, "the fake token's logs do not reach the screener")
			v, err = s.CheckAddress(ctx, graph.Ethereum, string(mule))
			require.NoError(t, err)
			require.Equal(t, "5", v.Totals(graph.ETH).Tainted.Dec(), "the real ETH does")
		}
	}
}

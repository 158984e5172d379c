package trace_test

import (
	"encoding/json"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/stretchr/testify/require"
)

// fakeTokenBlocks: a source account sends real ETH to a mule; then a contract that is
// not a real token logs transfers "from" the source account to an innocent address,
// the second of which would take the innocent's balance past 2^256.
// The accounts of fakeTokenBlocks.
const (
	lazarus  = graph.Address("0x1a2a000000000000000000000000000000000001")
	mule     = graph.Address("0x1a2a000000000000000000000000000000000002")
	innocent = graph.Address("0x1a2a000000000000000000000000000000000003")
	spammer  = graph.Address("0x1a2a000000000000000000000000000000000004")
	fakeTok  = graph.Asset("0x1a2a00000000000000000000000000000000fa4e")
)

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

func replayFake(t *testing.T, p trace.Params, m string) (*trace.Engine, error) {
	t.Helper()
	eng, err := trace.NewEngine(trace.Config{Model: graph.Account, Method: m, Params: p, Seeds: []trace.Seed{{Address: lazarus, Source: "lazarus"}}})
	require.NoError(t, err)
	require.NoError(t, eng.SetBalance(lazarus, graph.ETH, graph.NewAmount(100)))
	for _, b := range fakeTokenBlocks() {
		if err := eng.ApplyBlock(&b); err != nil {
			return eng, err
		}
	}
	return eng, nil
}

// TestAssetListSkipsFakeTokens: with Params.Assets, a fake token's logs neither taint
// an innocent address nor fail the replay; without it they do both.
func TestAssetListSkipsFakeTokens(t *testing.T) {
	for _, m := range trace.Methods(graph.Account) {
		p := trace.DefaultParams()
		p.ImplicitBalances = true // the fake token's "sender" holds none of it
		_, err := replayFake(t, p, m)
		require.ErrorIs(t, err, trace.ErrOverflow, m)
		require.ErrorContains(t, err, "block 2 tx 0x2 transfer 0x2.log1 ("+string(fakeTok), m)

		p.Assets = []graph.Asset{graph.ETH}
		eng, err := replayFake(t, p, m)
		require.NoError(t, err, m)
		r := eng.Result()
		require.Equal(t, uint64(2), r.Stats.SkippedTransfers, m)
		require.Equal(t, uint64(1), r.Stats.Transfers, m)
		require.Contains(t, r.Holdings, string(mule)+"|ETH", m)
		require.NotContains(t, r.Addresses, innocent, m)
		for k := range r.Holdings {
			require.NotContains(t, k, fakeTok, m)
		}

		// The list is part of the configuration a checkpoint belongs to, and the count
		// survives a restore.
		cp, err := eng.Checkpoint()
		require.NoError(t, err)
		back, err := trace.RestoreEngine(eng.Config(), cp)
		require.NoError(t, err)
		require.Equal(t, r.Stats, back.Result().Stats)
		other := eng.Config()
		other.Params.Assets = nil
		_, err = trace.RestoreEngine(other, cp)
		require.ErrorIs(t, err, trace.ErrCheckpoint)
	}
	_, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut, Params: trace.Params{Assets: []graph.Asset{graph.BTC}}})
	require.ErrorIs(t, err, trace.ErrBadConfig)
}

// TestCheckpointSpecV1Refused: checkpoints of versions 3 and 4 hold spec v1 state
// (exposure summed over assets, arrivals v2 absorbs left in place) that cannot be migrated.
// They are refused with ErrCheckpointV1 (and ErrCheckpoint, so a Follower replays); the
// current version restores to the same result.
func TestCheckpointSpecV1Refused(t *testing.T) {
	eng := engineT(t, genUTXOChain(3_000, 0.3), graph.UTXO, trace.Haircut)
	cp, err := eng.Checkpoint()
	require.NoError(t, err)
	// "CTCK", then the version as a uvarint.
	require.Equal(t, "CTCK", string(cp[:4]))
	require.Equal(t, byte(5), cp[4])
	back, err := trace.RestoreEngine(eng.Config(), cp)
	require.NoError(t, err)
	want, err := json.Marshal(eng.Result())
	require.NoError(t, err)
	got, err := json.Marshal(back.Result())
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
	for _, v := range []byte{3, 4} {
		old := append([]byte(nil), cp...)
		old[4] = v
		_, err = trace.RestoreEngine(eng.Config(), old)
		require.ErrorIs(t, err, trace.ErrCheckpoint)
		require.ErrorIs(t, err, trace.ErrCheckpointV1)
		require.ErrorContains(t, err, "replay the trace")
	}
	old := append([]byte(nil), cp...)
	old[4] = 2
	_, err = trace.RestoreEngine(eng.Config(), old)
	require.ErrorIs(t, err, trace.ErrCheckpoint)
	require.NotErrorIs(t, err, trace.ErrCheckpointV1)
}

// Totals of two assets are never added (spec v2 A.1), so two tokens near 2^256 each at one
// address are no overflow: each asset's figures stand alone.
func TestAssetsNeverAddedNoOverflow(t *testing.T) {
	max := graph.Amount(*new(graph.Amount).SetAllOne())
	for _, m := range trace.Methods(graph.Account) {
		eng, err := trace.NewEngine(trace.Config{Model: graph.Account, Method: m, Params: trace.DefaultParams(),
			Seeds: []trace.Seed{{Address: "minter", Source: "s"}}})
		require.NoError(t, err)
		mint := func(h string, tok graph.Asset, v graph.Amount) graph.AccountTx {
			return graph.AccountTx{Hash: h, From: "minter", Success: true, Transfers: []graph.Transfer{
				{ID: h + ".log0", Asset: tok, From: graph.ZeroAddress, To: "bob", Amount: v, Kind: graph.KindERC20}}}
		}
		blocks := []graph.Block{
			{Chain: graph.Ethereum, Height: 1, AccountTxs: []graph.AccountTx{mint("0xa", "0xtoken1", max)}},
			{Chain: graph.Ethereum, Height: 2, AccountTxs: []graph.AccountTx{mint("0xb", "0xtoken2", max)}},
		}
		for i := range blocks {
			require.NoError(t, eng.ApplyBlock(&blocks[i]), m)
		}
		st := eng.Result().Addresses["bob"]
		require.Len(t, st.Assets, 2)
		require.True(t, st.Totals("0xtoken2").Received.Eq(&max))
	}
}

// TestOverflowErrorNamesTheTransfer: the error of a fake token's overflow says which
// block, transaction, transfer, asset and amount, for errors.As.
func TestOverflowErrorNamesTheTransfer(t *testing.T) {
	p := trace.DefaultParams()
	p.ImplicitBalances = true
	_, err := replayFake(t, p, trace.Haircut)
	var oe *trace.OverflowError
	require.ErrorAs(t, err, &oe)
	require.Equal(t, trace.OverflowError{Height: 2, Tx: "0x2", Transfer: "0x2.log1", Asset: fakeTok, Amount: fakeTokenBlocks()[1].AccountTxs[0].Transfers[1].Amount}, *oe)
	require.ErrorIs(t, err, trace.ErrOverflow)
}

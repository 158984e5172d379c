package trace_test

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/stretchr/testify/require"
)

// The spec's per-address and per-exchange totals add every asset's units together; the
// per-asset figures keep them apart. A source account sends 40 wei and 7 token units to
// a deposit address that also gets 60 clean wei: under haircut the address received 107
// units of which 47 are tainted, i.e. 40 of 100 wei and 7 of 7 token units.
func TestResultPerAssetTotals(t *testing.T) {
	const token = graph.Asset("0xdac17f958d2ee523a2206206994597c13d831ec7")
	thief := graph.Address("0x1111111111111111111111111111111111111111")
	clean := graph.Address("0x2222222222222222222222222222222222222222")
	dep := graph.Address("0x3333333333333333333333333333333333333333")
	eng, err := trace.NewEngine(trace.Config{
		Model: graph.Account, Method: trace.Haircut,
		Seeds:     []trace.Seed{{Address: thief, Source: "lazarus"}},
		Exchanges: map[string][]graph.Address{"ex": {dep}},
		Params:    trace.DefaultParams(),
	})
	require.NoError(t, err)
	require.NoError(t, eng.SetBalance(thief, graph.ETH, graph.NewAmount(100)))
	require.NoError(t, eng.SetBalance(thief, token, graph.NewAmount(10)))
	require.NoError(t, eng.SetBalance(clean, graph.ETH, graph.NewAmount(100)))
	xfer := func(h string, i uint32, from graph.Address, a graph.Asset, v uint64) graph.AccountTx {
		return graph.AccountTx{Hash: h, Index: i, From: from, To: dep, Success: true,
			Transfers: []graph.Transfer{{ID: h + ".0", Asset: a, From: from, To: dep, Amount: graph.NewAmount(v), Kind: graph.KindCall}}}
	}
	b := graph.Block{Chain: graph.Ethereum, Height: 1, AccountTxs: []graph.AccountTx{
		xfer("0xa1", 0, thief, graph.ETH, 40),
		xfer("0xa2", 1, thief, token, 7),
		xfer("0xa3", 2, clean, graph.ETH, 60),
	}}
	require.NoError(t, eng.ApplyBlock(&b))
	r := eng.Result()

	st := r.Addresses[dep]
	require.NotNil(t, st)
	require.Equal(t, "107", st.Received.Dec())
	require.Equal(t, "47", st.TaintedReceived.Dec())
	eth, tok := st.Totals(graph.ETH), st.Totals(token)
	require.Equal(t, [2]string{"100", "40"}, [2]string{eth.Received.Dec(), eth.Tainted.Dec()})
	require.Equal(t, [2]string{"7", "7"}, [2]string{tok.Received.Dec(), tok.Tainted.Dec()})
	require.Equal(t, st.ByAsset[graph.ETH], eth)

	x := r.Exposure["ex"]
	require.NotNil(t, x)
	require.Equal(t, "107", x.ReceivedTotal.Dec())
	require.Equal(t, "47", x.TaintedTotal.Dec())
	xe, xt := x.ByAsset[graph.ETH], x.ByAsset[token]
	require.Equal(t, [2]string{"100", "40"}, [2]string{xe.Received.Dec(), xe.Tainted.Dec()})
	require.Equal(t, [2]string{"7", "7"}, [2]string{xt.Received.Dec(), xt.Tainted.Dec()})
}

// On a UTXO chain there is one asset: ByAsset stays nil and Totals reads the totals.
func TestResultPerAssetTotalsUTXO(t *testing.T) {
	eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut,
		Seeds: []trace.Seed{{Address: "H", Source: "s"}}, Params: trace.DefaultParams()})
	require.NoError(t, err)
	require.NoError(t, eng.Fund(graph.Outpoint{TxID: "h0"}, "H", graph.NewAmount(30)))
	require.NoError(t, eng.Fund(graph.Outpoint{TxID: "c0"}, "C", graph.NewAmount(70)))
	b := graph.Block{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{{TxID: "t1",
		Inputs:  []graph.TxIn{{Prev: graph.Outpoint{TxID: "h0"}}, {Prev: graph.Outpoint{TxID: "c0"}}},
		Outputs: []graph.TxOut{{Address: "D", Value: graph.NewAmount(100)}}}}}
	require.NoError(t, eng.ApplyBlock(&b))
	st := eng.Result().Addresses["D"]
	require.NotNil(t, st)
	require.Nil(t, st.ByAsset)
	btc := st.Totals(graph.BTC)
	require.Equal(t, [2]string{"100", "30"}, [2]string{btc.Received.Dec(), btc.Tainted.Dec()})
	none := st.Totals(graph.ETH)
	require.True(t, none.Received.IsZero())
}

// A large Result is built on several cores; it must not depend on how many.
func TestResultParallelBuildSame(t *testing.T) {
	eng := engineT(t, genUTXOChain(30_000, 0.3), graph.UTXO, trace.Haircut)
	prev := runtime.GOMAXPROCS(1)
	one, err := json.Marshal(eng.Result())
	runtime.GOMAXPROCS(4)
	r := eng.Result()
	runtime.GOMAXPROCS(prev)
	require.NoError(t, err)
	require.Greater(t, len(r.Outputs), 1<<14, "the history must be large enough to build in parallel")
	four, err := json.Marshal(r)
	require.NoError(t, err)
	require.Equal(t, string(one), string(four))
	require.NoError(t, r.CheckConservation())
}

// TestTaintedTxsCountsTransactions: on account chains Stats.TaintedTxs counts
// transactions with a tainted debit, not their transfers (a tainted sender's fee and two
// transfers are one transaction).
func TestTaintedTxsCountsTransactions(t *testing.T) {
	for _, m := range trace.Methods(graph.Account) {
		eng, err := trace.NewEngine(trace.Config{Model: graph.Account, Method: m, Params: trace.DefaultParams(),
			Seeds: []trace.Seed{{Address: "src", Source: "s"}}})
		require.NoError(t, err)
		require.NoError(t, eng.SetBalance("src", graph.ETH, graph.NewAmount(1000)))
		require.NoError(t, eng.SetBalance("clean", graph.ETH, graph.NewAmount(1000)))
		require.NoError(t, eng.ApplyBlock(&graph.Block{Chain: graph.Ethereum, Height: 1, AccountTxs: []graph.AccountTx{
			{Hash: "0xa", Index: 0, From: "src", Fee: graph.NewAmount(1), Success: true, Transfers: []graph.Transfer{
				{ID: "0xa.0", Asset: graph.ETH, From: "src", To: "bob", Amount: graph.NewAmount(10), Kind: graph.KindCall},
				{ID: "0xa.1", Asset: graph.ETH, From: "src", To: "carol", Amount: graph.NewAmount(20), Kind: graph.KindInternal}}},
			{Hash: "0xb", Index: 1, From: "clean", Fee: graph.NewAmount(1), Success: true, Transfers: []graph.Transfer{
				{ID: "0xb.0", Asset: graph.ETH, From: "clean", To: "dave", Amount: graph.NewAmount(10), Kind: graph.KindCall}}},
		}}))
		s := eng.Result().Stats
		require.Equal(t, uint64(2), s.Txs, m)
		require.Equal(t, uint64(1), s.TaintedTxs, m)
	}
}

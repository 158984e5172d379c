package trace_test

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/stretchr/testify/require"
)

// Every aggregate is per asset (spec v2 A.1): a source account sends 40 wei and 7 token
// units to an exchange's deposit address that also gets 60 clean wei. Under haircut the
// address received 40 of 100 wei tainted and 7 of 7 token units; nothing adds the two.
func TestResultPerAssetTotals(t *testing.T) {
	const token = graph.Asset("0xdac17f958d2ee523a2206206994597c13d831ec7")
	thief := graph.Address("0x1111111111111111111111111111111111111111")
	clean := graph.Address("0x2222222222222222222222222222222222222222")
	dep := graph.Address("0x3333333333333333333333333333333333333333")
	eng, err := trace.NewEngine(trace.Config{
		Model: graph.Account, Method: trace.Haircut,
		Seeds:     []trace.Seed{{Address: thief, Source: "lazarus"}},
		Exchanges: map[string][]graph.Address{"ex": {dep}, "idle": {"0x4444444444444444444444444444444444444444"}},
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
	require.Len(t, st.Assets, 2)
	eth, tok := st.Totals(graph.ETH), st.Totals(token)
	require.Equal(t, [2]string{"100", "40"}, [2]string{eth.Received.Dec(), eth.Tainted.Dec()})
	require.Equal(t, [2]string{"7", "7"}, [2]string{tok.Received.Dec(), tok.Tainted.Dec()})
	require.Equal(t, "2/5", eth.Share())

	x := r.Exposure["ex"]
	require.NotNil(t, x)
	require.Len(t, x.Assets, 2)
	xe, xt := x.Assets[graph.ETH], x.Assets[token]
	require.Equal(t, [2]string{"100", "40"}, [2]string{xe.ReceivedTotal.Dec(), xe.TaintedTotal.Dec()})
	require.Equal(t, [2]string{"7", "7"}, [2]string{xt.ReceivedTotal.Dec(), xt.TaintedTotal.Dec()})
	require.Equal(t, "40", r.Sinks.Get(graph.ETH, trace.SinkExchangeAbsorbed, "lazarus").Dec())
	require.Equal(t, "7", r.Sinks.Get(token, trace.SinkExchangeAbsorbed, "lazarus").Dec())
	injETH, injTok := r.Injected[graph.ETH]["lazarus"], r.Injected[token]["lazarus"]
	require.Equal(t, "40", injETH.Dec())
	require.Equal(t, "7", injTok.Dec())
	require.NotNil(t, r.Exposure["idle"], "an exchange that received nothing is listed")
	require.Empty(t, r.Exposure["idle"].Assets)

	// The JSON is the spec's v2 shape: keyed by asset first.
	var obj map[string]map[string]any
	j, err := json.Marshal(r)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(j, &obj))
	require.Contains(t, obj["sinks"], string(token))
	require.Contains(t, obj["sinks"], string(graph.ETH))
	require.Equal(t, map[string]any{}, obj["exposure"]["idle"])
	ex := obj["exposure"]["ex"].(map[string]any)
	require.Equal(t, "40", ex["ETH"].(map[string]any)["tainted_total"])
	require.Equal(t, "2/5", ex["ETH"].(map[string]any)["share"])
	addr := obj["addresses"][string(dep)].(map[string]any)
	require.Equal(t, "7", addr[string(token)].(map[string]any)["tainted_received"])

	// trace.Exposure's own encoding is the spec's too: snake_case, decimal strings.
	xj, err := json.Marshal(x)
	require.NoError(t, err)
	require.Contains(t, string(xj), `"ETH":{"received_total":"100","tainted_total":"40"`)
}

// On a UTXO chain there is one asset, BTC.
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
	r := eng.Result()
	st := r.Addresses["D"]
	require.NotNil(t, st)
	require.Equal(t, []trace.AssetTotals{{Asset: graph.BTC, Received: graph.NewAmount(100), Tainted: graph.NewAmount(30)}}, st.Assets)
	none := st.Totals(graph.ETH)
	require.True(t, none.Received.IsZero())
	inj := r.Injected[graph.BTC]["s"]
	require.Equal(t, "30", inj.Dec())
}

// Spec v2 A.2: under stop semantics an exchange absorbs every taint that arrives, also on
// the output of a transaction that spends one of its own outputs, and such an output
// counts as received when it carries taint. v1 left that taint on the exchange's output,
// where it flowed on when the exchange spent it.
func TestExchangeAbsorbsArrivalWithOwnInputs(t *testing.T) {
	for _, m := range trace.Methods(graph.UTXO) {
		t.Run(m, func(t *testing.T) {
			eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: m,
				Seeds:     []trace.Seed{{Address: "H", Source: "s"}},
				Exchanges: map[string][]graph.Address{"EX": {"E1", "E2"}},
				Params:    trace.DefaultParams()})
			require.NoError(t, err)
			require.NoError(t, eng.Fund(graph.Outpoint{TxID: "h0"}, "H", graph.NewAmount(40)))
			require.NoError(t, eng.Fund(graph.Outpoint{TxID: "e0"}, "E1", graph.NewAmount(60)))
			blocks := []graph.Block{
				// The exchange's own output and a tainted one pay E2 and change to E1.
				{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{{TxID: "t1",
					Inputs:  []graph.TxIn{{Prev: graph.Outpoint{TxID: "e0"}}, {Prev: graph.Outpoint{TxID: "h0"}}},
					Outputs: []graph.TxOut{{Address: "E2", Value: graph.NewAmount(50)}, {Address: "E1", Value: graph.NewAmount(50)}}}}},
				// The exchange pays a customer: clean under stop semantics.
				{Chain: graph.Bitcoin, Height: 2, UTXOTxs: []graph.UTXOTx{{TxID: "t2",
					Inputs:  []graph.TxIn{{Prev: graph.Outpoint{TxID: "t1"}}, {Prev: graph.Outpoint{TxID: "t1", Index: 1}}},
					Outputs: []graph.TxOut{{Address: "C", Value: graph.NewAmount(100)}}}}},
			}
			for i := range blocks {
				require.NoError(t, eng.ApplyBlock(&blocks[i]))
			}
			r := eng.Result()
			require.NoError(t, r.CheckConservation())
			require.Empty(t, r.Unspent, "the customer's output is clean")
			x := r.Exposure["EX"].Assets[graph.BTC]
			require.NotNil(t, x)
			if m == trace.Poison {
				require.Equal(t, "100", x.TaintedTotal.Dec())
			} else {
				require.Equal(t, "40", x.TaintedTotal.Dec(), "every tainted unit that arrived")
				require.Equal(t, "40", r.Sinks.Get(graph.BTC, trace.SinkExchangeAbsorbed, "s").Dec())
			}
			require.False(t, x.TaintedTotal.Gt(&x.ReceivedTotal), "share ≤ 1")
			require.NotEmpty(t, x.Deposits)
		})
	}
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

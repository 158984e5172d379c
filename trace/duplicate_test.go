package trace_test

import (
	"errors"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/stretchr/testify/require"
)

// A coinbase that repeats an earlier coinbase's transaction id (Bitcoin before BIP 30 and
// 34: mainnet blocks 91842 and 91880) overwrites its unspent output, as Bitcoin Core does.
// Clean, the old output just goes; tainted, it would take its taint with it, so the block
// is refused. Any other repeated output is a double creation.
func TestDuplicateCoinbaseTxid(t *testing.T) {
	coinbase := func(h uint64, txid, addr string, v uint64) graph.Block {
		return graph.Block{Chain: graph.Bitcoin, Height: h, UTXOTxs: []graph.UTXOTx{{TxID: txid, Coinbase: true,
			Outputs: []graph.TxOut{{Address: graph.Address(addr), Value: graph.NewAmount(v)}}}}}
	}
	spend := func(h uint64, txid, prev, to string, v uint64) graph.UTXOTx {
		return graph.UTXOTx{TxID: txid, Index: 1, Inputs: []graph.TxIn{{Prev: graph.Outpoint{TxID: prev}}},
			Outputs: []graph.TxOut{{Address: graph.Address(to), Value: graph.NewAmount(v)}}}
	}
	for _, m := range trace.Methods(graph.UTXO) {
		t.Run(m, func(t *testing.T) {
			eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: m, Params: trace.DefaultParams(),
				Seeds: []trace.Seed{{Outpoint: &graph.Outpoint{TxID: "seeded"}, Source: "s"}}})
			require.NoError(t, err)
			require.NoError(t, eng.Fund(graph.Outpoint{TxID: "seeded"}, "S", graph.NewAmount(70)))
			b1 := coinbase(1, "dup", "A", 50)
			require.NoError(t, eng.ApplyBlock(&b1))
			b2 := coinbase(2, "dup", "B", 60) // overwrites A's clean 50
			b2.UTXOTxs = append(b2.UTXOTxs, spend(2, "pay", "seeded", "T", 70))
			require.NoError(t, eng.ApplyBlock(&b2))
			b3 := coinbase(3, "cb3", "C", 50)
			b3.UTXOTxs = append(b3.UTXOTxs, spend(3, "use", "dup", "D", 60)) // spends the second creation
			require.NoError(t, eng.ApplyBlock(&b3))
			r := eng.Result()
			require.NoError(t, r.CheckConservation())
			require.Equal(t, "70", r.Unspent["pay:0"].Tainted.Dec())
			require.Equal(t, "60", r.Addresses["D"].Totals(graph.BTC).Received.Dec(), "D got the second creation's 60")

			// A repeated coinbase output that carries taint (a seeded coinbase) is refused.
			eng, err = trace.NewEngine(trace.Config{Model: graph.UTXO, Method: m, Params: trace.DefaultParams(),
				Seeds: []trace.Seed{{Outpoint: &graph.Outpoint{TxID: "dup"}, Source: "s"}}})
			require.NoError(t, err)
			require.NoError(t, eng.ApplyBlock(&b1))
			b2 = coinbase(2, "dup", "B", 60)
			require.True(t, errors.Is(eng.ApplyBlock(&b2), trace.ErrDoubleSpend))

			// A spending transaction cannot repeat an unspent output.
			eng, err = trace.NewEngine(trace.Config{Model: graph.UTXO, Method: m, Params: trace.DefaultParams()})
			require.NoError(t, err)
			require.NoError(t, eng.Fund(graph.Outpoint{TxID: "f"}, "F", graph.NewAmount(10)))
			require.NoError(t, eng.Fund(graph.Outpoint{TxID: "g"}, "G", graph.NewAmount(10)))
			b1 = graph.Block{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{spend(1, "x", "f", "X", 10)}}
			require.NoError(t, eng.ApplyBlock(&b1))
			b2 = graph.Block{Chain: graph.Bitcoin, Height: 2, UTXOTxs: []graph.UTXOTx{spend(2, "x", "g", "Y", 10)}}
			require.True(t, errors.Is(eng.ApplyBlock(&b2), trace.ErrDoubleSpend))
		})
	}
}

package trace_test

import (
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/stretchr/testify/require"
)

// TestReplayErrors feeds the engine bad histories, under every method of the model: each
// must fail with its sentinel (errors.Is) and name the block, transaction and entry —
// never wrap a figure silently or panic.
func TestReplayErrors(t *testing.T) {
	max := graph.MustAmount("115792089237316195423570985008687907853269984665640564039457584007913129639935")
	one := graph.NewAmount(1)
	fund := graph.Outpoint{TxID: "f", Index: 0}
	utxoTx := func(id string, index uint32, prev graph.Outpoint, in graph.Amount, to graph.Address, outs ...graph.Amount) graph.UTXOTx {
		tx := graph.UTXOTx{TxID: id, Index: index, Inputs: []graph.TxIn{{Prev: prev, Address: "A", Value: in, Resolved: true}}}
		for _, v := range outs {
			tx.Outputs = append(tx.Outputs, graph.TxOut{Address: to, Value: v})
		}
		return tx
	}
	mint := func(hash string, index uint32, asset graph.Asset, to graph.Address, amount graph.Amount) graph.AccountTx {
		return graph.AccountTx{Hash: hash, Index: index, From: "minter", Success: true, Transfers: []graph.Transfer{
			{ID: hash + ".log0", Asset: asset, From: graph.ZeroAddress, To: to, Amount: amount, Kind: graph.KindERC20}}}
	}
	cases := []struct {
		name    string
		model   graph.Model
		fund    graph.Amount // UTXO: the value of outpoint fund, owned by A
		exch    map[string][]graph.Address
		blocks  []graph.Block
		err     error
		mention string
	}{
		{name: "double spend", model: graph.UTXO, fund: graph.NewAmount(100), err: trace.ErrUnknownOutpoint, mention: "block 2 tx t2 input 1",
			blocks: []graph.Block{
				{Height: 1, UTXOTxs: []graph.UTXOTx{utxoTx("t1", 0, fund, graph.NewAmount(100), "B", graph.NewAmount(100))}},
				{Height: 2, UTXOTxs: []graph.UTXOTx{func() graph.UTXOTx {
					tx := utxoTx("t2", 0, graph.Outpoint{TxID: "t1", Index: 0}, graph.NewAmount(100), "C", graph.NewAmount(100))
					tx.Inputs = append(tx.Inputs, graph.TxIn{Prev: graph.Outpoint{TxID: "t1", Index: 0}})
					return tx
				}()}}}},
		{name: "output created twice", model: graph.UTXO, fund: graph.NewAmount(100), err: trace.ErrDoubleSpend, mention: "block 2 tx t1: output already spent: output t1:0 created twice",
			blocks: []graph.Block{
				{Height: 1, UTXOTxs: []graph.UTXOTx{utxoTx("t1", 0, fund, graph.NewAmount(100), "B", graph.NewAmount(60), graph.NewAmount(40))}},
				{Height: 2, UTXOTxs: []graph.UTXOTx{utxoTx("t1", 0, graph.Outpoint{TxID: "t1", Index: 1}, graph.NewAmount(40), "C", graph.NewAmount(40))}}}},
		{name: "overspend", model: graph.UTXO, fund: graph.NewAmount(100), err: trace.ErrOverspend, mention: "block 1 tx t1",
			blocks: []graph.Block{{Height: 1, UTXOTxs: []graph.UTXOTx{utxoTx("t1", 0, fund, graph.NewAmount(100), "B", graph.NewAmount(101))}}}},
		{name: "input value mismatch", model: graph.UTXO, fund: graph.NewAmount(100), err: trace.ErrValueMismatch, mention: "block 1 tx t1 input 0",
			blocks: []graph.Block{{Height: 1, UTXOTxs: []graph.UTXOTx{utxoTx("t1", 0, fund, graph.NewAmount(99), "B", graph.NewAmount(1))}}}},
		{name: "out of order", model: graph.UTXO, fund: graph.NewAmount(100), err: trace.ErrOutOfOrder, mention: "block 1 tx t0",
			blocks: []graph.Block{
				{Height: 2, UTXOTxs: []graph.UTXOTx{utxoTx("t1", 0, fund, graph.NewAmount(100), "B", graph.NewAmount(100))}},
				{Height: 1, UTXOTxs: []graph.UTXOTx{{TxID: "t0", Coinbase: true, Outputs: []graph.TxOut{{Address: "M", Value: one}}}}}}},
		{name: "address received total overflows", model: graph.UTXO, fund: max, err: trace.ErrOverflow, mention: "block 2 tx t2",
			blocks: []graph.Block{
				{Height: 1, UTXOTxs: []graph.UTXOTx{utxoTx("t1", 0, fund, max, "B", max)}},
				// C receives the maximum amount, then one unit more from a coinbase.
				{Height: 2, UTXOTxs: []graph.UTXOTx{
					utxoTx("t2a", 0, graph.Outpoint{TxID: "t1"}, max, "C", max),
					{TxID: "t2", Index: 1, Coinbase: true, Outputs: []graph.TxOut{{Address: "C", Value: one}}}}}}},
		{name: "exchange total overflows", model: graph.UTXO, fund: max, exch: map[string][]graph.Address{"ex": {"X1", "X2"}}, err: trace.ErrOverflow, mention: "block 1 tx cb",
			blocks: []graph.Block{{Height: 1, UTXOTxs: []graph.UTXOTx{
				utxoTx("t1", 0, fund, max, "X1", max),
				{TxID: "cb", Index: 1, Coinbase: true, Outputs: []graph.TxOut{{Address: "X2", Value: one}}}}}}},
		{name: "overdraft", model: graph.Account, err: trace.ErrOverdraft, mention: "block 1 tx 0xa transfer 0xa.0",
			blocks: []graph.Block{{Height: 1, AccountTxs: []graph.AccountTx{{Hash: "0xa", From: "alice", Success: true,
				Transfers: []graph.Transfer{{ID: "0xa.0", Asset: graph.ETH, From: "alice", To: "bob", Amount: one, Kind: graph.KindCall}}}}}}},
		{name: "token balance overflows", model: graph.Account, err: trace.ErrOverflow, mention: "block 1 tx 0xb transfer 0xb.log0",
			blocks: []graph.Block{{Height: 1, AccountTxs: []graph.AccountTx{
				mint("0xa", 0, "0xtoken", "bob", max), mint("0xb", 1, "0xtoken", "bob", one)}}}},
	}
	for _, c := range cases {
		for _, m := range trace.Methods(c.model) {
			t.Run(c.name+"/"+m, func(t *testing.T) {
				chain := graph.Bitcoin
				if c.model == graph.Account {
					chain = graph.Ethereum
				}
				eng, err := trace.NewEngine(trace.Config{Model: c.model, Method: m, Exchanges: c.exch, Params: trace.DefaultParams(),
					Seeds: []trace.Seed{{Address: "A", Source: "s"}, {Address: "minter", Source: "s"}}})
				require.NoError(t, err)
				if c.model == graph.UTXO {
					require.NoError(t, eng.Fund(fund, "A", c.fund))
				}
				for i := range c.blocks {
					b := c.blocks[i]
					b.Chain = chain
					if err = eng.ApplyBlock(&b); err != nil {
						break
					}
				}
				require.ErrorIs(t, err, c.err)
				require.Contains(t, err.Error(), c.mention)
			})
		}
	}
}

// TestZeroValueSeedIsUsed: a seed naming an output that turns out to carry nothing (an
// OP_RETURN, a zero-value output) matched; it is not reported as unused (a likely typo),
// while a seed naming no output at all is.
func TestZeroValueSeedIsUsed(t *testing.T) {
	zero := graph.Outpoint{TxID: "t1", Index: 1}
	missing := graph.Outpoint{TxID: "t1", Index: 7}
	for _, m := range trace.Methods(graph.UTXO) {
		eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: m, Params: trace.DefaultParams(),
			Seeds: []trace.Seed{{Outpoint: &zero, Source: "s"}, {Outpoint: &missing, Source: "s"}}})
		require.NoError(t, err)
		require.NoError(t, eng.ApplyBlock(&graph.Block{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{{TxID: "t1", Coinbase: true,
			Outputs: []graph.TxOut{{Address: "M", Value: graph.NewAmount(50)}, {Address: "", Value: graph.NewAmount(0), Unspendable: true}}}}}))
		require.Equal(t, []string{trace.Seed{Outpoint: &missing, Source: "s"}.String()}, eng.Result().Stats.UnusedSeeds, m)
	}
}

package exact_test

import (
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/exact"
	"github.com/stretchr/testify/require"
)

// TestLinkOrderedFractionalLots: under the ordered methods the swap's buffer is A's lot
// sequence [CLEAN 7, s/2 3] (A's 7 clean units are older than the 3 tainted it got), and
// the out-leg of 7 TKB receives it rescaled lot by lot, exactly: [CLEAN 49/10, s/3 21/10].
// C then gets 1 clean TKB more ([CLEAN 49/10, s/3 21/10, CLEAN 1]) and sends 3 to D:
// FIFO takes the oldest units (clean), LIFO the newest (CLEAN 1 and 2 of the tainted
// lot), seniority the tainted lot first and then the oldest clean units (9/10 of the
// first). The integer engine rounds the out-leg to [CLEAN 5, s/3 2], so it differs
// under seniority (2 instead of 21/10).
func TestLinkOrderedFractionalLots(t *testing.T) {
	for _, tc := range []struct {
		method  string
		toD     string // taint of x5.0, C → D; "" = clean
		leftC   string // C's remaining taint; "" = none
		integer string // the integer engine's taint of x5.0
	}{
		{trace.FIFO, "", "21/10", ""},
		{trace.LIFO, "2", "1/10", "2"},
		{trace.Seniority, "21/10", "", "2"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			cfg := swapCfg()
			cfg.Method = tc.method
			blocks := append(swapBlocks(),
				graph.Block{Chain: graph.Ethereum, Height: 4, AccountTxs: []graph.AccountTx{xfer("x4", "x4.0", "D0", "C", tkb, 1)}},
				graph.Block{Chain: graph.Ethereum, Height: 5, AccountTxs: []graph.AccountTx{xfer("x5", "x5.0", "C", "D", tkb, 3)}})
			declare := func(r replayer) error {
				if err := declareSwap(r); err != nil {
					return err
				}
				return r.SetBalance("D0", tkb, amt(1))
			}

			eng, err := exact.New(cfg)
			require.NoError(t, err)
			require.NoError(t, declare(eng))
			for _, b := range blocks {
				require.NoError(t, eng.ApplyBlock(&b))
			}
			require.NoError(t, eng.CheckLinks())
			res := eng.Result()
			require.Equal(t, tc.method, res.Method)
			require.NoError(t, res.CheckConservation())

			out := res.Transfers["x3.1"]
			require.Equal(t, "21/10", out.Tainted.RatString())
			require.Len(t, out.Taint, 1)
			require.Equal(t, uint32(3), out.Taint[0].Hop)
			require.Equal(t, "321/10", res.LinkedIn[tkb]["s"].RatString())
			if tc.toD == "" {
				require.Nil(t, res.Transfers["x5.0"])
			} else {
				x := res.Transfers["x5.0"]
				require.NotNil(t, x)
				require.Equal(t, tc.toD, x.Tainted.RatString())
				require.Equal(t, uint32(4), x.Taint[0].Hop)
			}
			if tc.leftC == "" {
				require.Nil(t, res.Holdings["C|"+string(tkb)])
			} else {
				require.Equal(t, tc.leftC, res.Holdings["C|"+string(tkb)].Tainted.RatString())
			}

			// The integer engine rounds the rescaled lots to whole units.
			ieng, err := trace.NewEngine(cfg)
			require.NoError(t, err)
			require.NoError(t, declare(ieng))
			for _, b := range blocks {
				require.NoError(t, ieng.ApplyBlock(&b))
			}
			ix, ok := ieng.Result().Transfers["x5.0"]
			if tc.integer == "" {
				require.False(t, ok)
			} else {
				require.True(t, ok)
				require.Equal(t, tc.integer, ix.Tainted.Dec())
			}
		})
	}
}

// TestLinkOrderedUTXO: on a UTXO chain the in-leg t1:0 fills the buffer with the stream
// [s/1 3, CLEAN 7] (the stolen input first); the out-leg t2:0 of 4 receives it rescaled,
// [s/2 6/5, CLEAN 14/5]. t3 spends it with a clean 6 into outputs of 1 (D) and 9 (E):
// FIFO pays D first, from the front (1 tainted, E the 1/5 left); TIHO puts the tainted
// lots first and pays the larger output first, so E gets all 6/5 and D is clean.
func TestLinkOrderedUTXO(t *testing.T) {
	stolen, clean, venue := graph.Outpoint{TxID: "f"}, graph.Outpoint{TxID: "g"}, graph.Outpoint{TxID: "p"}
	for _, tc := range []struct{ method, d, e string }{
		{trace.FIFO, "1", "1/5"},
		{trace.LIFO, "", "6/5"},
		{trace.TIHO, "", "6/5"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			cfg := trace.Config{Model: graph.UTXO, Method: tc.method, Params: trace.DefaultParams(),
				Seeds:  []trace.Seed{{Outpoint: &stolen, Source: "s"}},
				Venues: []graph.Address{"P"},
				Links: []graph.Link{{ID: "L1", Kind: graph.LinkSwap, In: []graph.Leg{{Ref: "t1:0"}},
					Out: []graph.Leg{{Ref: "t2:0"}}}}}
			eng, err := exact.New(cfg)
			require.NoError(t, err)
			require.NoError(t, eng.Fund(stolen, "A", amt(3)))
			require.NoError(t, eng.Fund(clean, "A", amt(7)))
			require.NoError(t, eng.Fund(venue, "P", amt(10)))
			in := func(op graph.Outpoint, a graph.Address, v uint64) graph.TxIn {
				return graph.TxIn{Prev: op, Address: a, Value: amt(v), Resolved: true}
			}
			blocks := []graph.Block{
				{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{{TxID: "t1", Index: 1,
					Inputs: []graph.TxIn{in(stolen, "A", 3), in(clean, "A", 7)}, Outputs: []graph.TxOut{{Address: "P", Value: amt(10)}}}}},
				{Chain: graph.Bitcoin, Height: 2, UTXOTxs: []graph.UTXOTx{{TxID: "t2", Index: 1,
					Inputs: []graph.TxIn{in(venue, "P", 10)}, Outputs: []graph.TxOut{{Address: "B", Value: amt(4)}, {Address: "C", Value: amt(6)}}}}},
				{Chain: graph.Bitcoin, Height: 3, UTXOTxs: []graph.UTXOTx{{TxID: "t3", Index: 1,
					Inputs:  []graph.TxIn{in(graph.Outpoint{TxID: "t2"}, "B", 4), in(graph.Outpoint{TxID: "t2", Index: 1}, "C", 6)},
					Outputs: []graph.TxOut{{Address: "D", Value: amt(1)}, {Address: "E", Value: amt(9)}}}}},
			}
			for _, b := range blocks {
				require.NoError(t, eng.ApplyBlock(&b))
			}
			require.NoError(t, eng.CheckLinks())
			res := eng.Result()
			require.NoError(t, res.CheckConservation())
			leg := res.Outputs["t2:0"]
			require.NotNil(t, leg)
			require.Equal(t, "6/5", leg.Tainted.RatString())
			require.Equal(t, uint32(2), leg.Taint[0].Hop)
			require.Nil(t, res.Outputs["t2:1"], "the venue's other output is clean")
			for op, want := range map[string]string{"t3:0": tc.d, "t3:1": tc.e} {
				o := res.Outputs[op]
				if want == "" {
					require.Nil(t, o, op)
					continue
				}
				require.NotNil(t, o, op)
				require.Equal(t, want, o.Tainted.RatString(), op)
				require.Equal(t, uint32(3), o.Taint[0].Hop, op)
			}
		})
	}
}

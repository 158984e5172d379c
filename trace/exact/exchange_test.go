package exact_test

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/exact"
	"github.com/chaintrace/chaintrace/trace/internal/randchain"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// specObject returns r's JSON as generic values.
func specObject(t *testing.T, r any) map[string]any {
	t.Helper()
	j, err := json.Marshal(r)
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, json.Unmarshal(j, &obj))
	return obj
}

// both replays the same input on the exact and the integer engine.
func both(t *testing.T, cfg trace.Config, setup func(replayer) error, blocks ...graph.Block) (*exact.Result, *trace.Result) {
	t.Helper()
	ee, err := exact.New(cfg)
	require.NoError(t, err)
	ie, err := trace.NewEngine(cfg)
	require.NoError(t, err)
	for _, r := range []replayer{ee, ie} {
		if setup != nil {
			require.NoError(t, setup(r))
		}
		for i := range blocks {
			require.NoError(t, r.ApplyBlock(&blocks[i]))
		}
	}
	er, ir := ee.Result(), ie.Result()
	require.NoError(t, er.CheckConservation())
	require.NoError(t, ir.CheckConservation())
	return er, ir
}

// TestExchangeStopAbsorbsSelfSpend is spec v2 A.2 on a UTXO chain: exchange E's address E1
// spends its own clean output of 2 together with 1 stolen satoshi held by X, and pays 1
// back to E1 (self-change), 1 to E's other address E2 and 1 to Y. Every output is exactly
// 1/3 tainted. Under stop semantics E absorbs the 2/3 that reached it, although both
// outputs are internal to E; they count as received because they carry taint, so the
// share is 1/3 and nothing stays on E's outputs. A second transaction, E2 → E1, is clean
// and internal: it adds nothing to received_total. Exchange "idle" received nothing and is
// listed with no asset.
func TestExchangeStopAbsorbsSelfSpend(t *testing.T) {
	stolen, own := graph.Outpoint{TxID: "stolen"}, graph.Outpoint{TxID: "own"}
	cfg := trace.Config{Model: graph.UTXO, Method: trace.Haircut, Params: trace.DefaultParams(),
		Seeds:     []trace.Seed{{Outpoint: &stolen, Source: "lazarus"}},
		Exchanges: map[string][]graph.Address{"E": {"E1", "E2"}, "idle": {"I1"}}}
	require.True(t, cfg.Params.StopAtExchanges)
	setup := func(r replayer) error {
		if err := r.Fund(stolen, "X", amt(1)); err != nil {
			return err
		}
		return r.Fund(own, "E1", amt(2))
	}
	b := graph.Block{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{
		{TxID: "t1", Index: 1,
			Inputs:  []graph.TxIn{{Prev: stolen, Address: "X", Value: amt(1), Resolved: true}, {Prev: own, Address: "E1", Value: amt(2), Resolved: true}},
			Outputs: []graph.TxOut{{Address: "E1", Value: amt(1)}, {Address: "E2", Value: amt(1)}, {Address: "Y", Value: amt(1)}}},
		{TxID: "t2", Index: 2,
			Inputs:  []graph.TxIn{{Prev: graph.Outpoint{TxID: "t1", Index: 1}, Address: "E2", Value: amt(1), Resolved: true}},
			Outputs: []graph.TxOut{{Address: "E1", Value: amt(1)}}},
	}}
	er, ir := both(t, cfg, setup, b)

	third := big.NewRat(1, 3)
	for _, op := range []string{"t1:0", "t1:1", "t1:2"} {
		require.Zero(t, er.Outputs[op].Tainted.Cmp(third), op)
	}
	x := er.Exposure["E"].Asset(graph.BTC)
	require.NotNil(t, x)
	require.Equal(t, "2", x.ReceivedTotal.RatString(), "tainted internal arrivals count, the clean one does not")
	require.Equal(t, "2/3", x.TaintedTotal.RatString())
	require.Equal(t, "1/3", x.Share())
	require.Equal(t, "2/3", x.Direct.RatString())
	require.Len(t, x.Deposits, 2)
	require.Equal(t, []string{"t1:0", "t1:1"}, []string{x.Deposits[0].Ref, x.Deposits[1].Ref})
	require.Equal(t, "2/3", er.Sinks.Get(graph.BTC, trace.SinkExchangeAbsorbed, "lazarus").RatString())
	require.Equal(t, "1", er.Injected[graph.BTC]["lazarus"].RatString())
	for op, u := range er.Unspent {
		require.NotContains(t, []graph.Address{"E1", "E2"}, u.Address, "taint stays on exchange output %s", op)
	}
	require.Equal(t, "1/3", er.Unspent["t1:2"].Tainted.RatString())
	// §10.3: an exchange's internal receipts are not its addresses' receipts.
	require.NotContains(t, er.Addresses, graph.Address("E1"))
	require.NotContains(t, er.Addresses, graph.Address("E2"))
	y := er.Addresses["Y"].Totals(graph.BTC)
	require.Equal(t, "1/3", y.Share())
	require.Empty(t, er.Exposure["idle"].Assets)

	// The integer engine cannot split the stolen satoshi: Hamilton's method gives it
	// whole to one output (E2's: the self-change output comes first and takes a clean
	// unit on the larger remainder, then taint wins the tie). E1's self-change then
	// arrives clean, so it is not received: whether an internal arrival counts depends
	// on the rounding, and the integer share is 1/1 where the exact one is 1/3.
	ix := ir.Exposure["E"].Asset(graph.BTC)
	require.Equal(t, [3]string{"1", "1", "1"}, [3]string{ix.ReceivedTotal.Dec(), ix.TaintedTotal.Dec(), ix.Share()})
	require.Len(t, ix.Deposits, 1)
	require.Equal(t, "t1:1", ix.Deposits[0].Ref)
	require.Empty(t, ir.Exposure["idle"].Assets)

	obj := specObject(t, er)
	require.Equal(t, map[string]any{}, obj["exposure"].(map[string]any)["idle"])
	e := obj["exposure"].(map[string]any)["E"].(map[string]any)["BTC"].(map[string]any)
	require.Equal(t, "2/3", e["tainted_total"])
	require.Equal(t, "2/3", obj["sinks"].(map[string]any)["BTC"].(map[string]any)["exchange_absorbed"].(map[string]any)["lazarus"])
	require.Equal(t, "1/3", obj["addresses"].(map[string]any)["Y"].(map[string]any)["BTC"].(map[string]any)["share"])

	// Without stop semantics the taint stays on E's outputs and travels on, and the
	// exposure row records every arrival (t2's re-arrival at E1 included).
	cfg.Params.StopAtExchanges = false
	er, _ = both(t, cfg, setup, b)
	x = er.Exposure["E"].Asset(graph.BTC)
	require.Equal(t, "3", x.ReceivedTotal.RatString())
	require.Equal(t, "1", x.TaintedTotal.RatString())
	require.Len(t, x.Deposits, 3)
	require.Equal(t, "1/3", er.Unspent["t1:0"].Tainted.RatString())
	require.Empty(t, er.Sinks[graph.BTC][trace.SinkExchangeAbsorbed.String()])
}

// TestExchangePerAssetAccount is spec v2 A.1 and A.2 on an account chain, with amounts
// that do not divide: H holds 3 wei and 3 token units, 1 of each stolen (address seed S
// paid it), and sends 1 wei and 2 token units to exchange address E1; a transfer seed
// taints an internal transfer E1 → E2 of 1 token unit. Exposure, sinks, injected taint
// and address totals are per asset, never added across; the internal transfer's taint is
// absorbed and shown; a clean internal transfer creates the row of its asset but adds
// nothing to what the exchange received.
func TestExchangePerAssetAccount(t *testing.T) {
	const tok = graph.Asset("0xt0k")
	cfg := trace.Config{Model: graph.Account, Method: trace.Haircut, Params: trace.DefaultParams(),
		Seeds:     []trace.Seed{{Address: "S", Source: "lazarus"}, {Transfer: "x3.0", Source: "bybit"}},
		Exchanges: map[string][]graph.Address{"E": {"E1", "E2"}, "idle": {"I1"}}}
	setup := func(r replayer) error {
		for _, b := range []struct {
			a     graph.Address
			asset graph.Asset
			v     uint64
		}{{"S", graph.ETH, 10}, {"S", tok, 10}, {"H", graph.ETH, 2}, {"H", tok, 2}, {"E2", graph.ETH, 5}} {
			if err := r.SetBalance(b.a, b.asset, amt(b.v)); err != nil {
				return err
			}
		}
		return nil
	}
	x := func(hash string, idx uint32, from, to graph.Address, asset graph.Asset, v uint64) graph.AccountTx {
		return graph.AccountTx{Hash: hash, Index: idx, From: from, Success: true,
			Transfers: []graph.Transfer{{ID: hash + ".0", Asset: asset, From: from, To: to, Amount: amt(v), Kind: graph.KindCall}}}
	}
	b := graph.Block{Chain: graph.Ethereum, Height: 1, AccountTxs: []graph.AccountTx{
		x("x0", 0, "S", "H", graph.ETH, 1),
		x("x1", 1, "S", "H", tok, 1),
		x("x2", 2, "H", "E1", graph.ETH, 1),
		x("x4", 3, "H", "E1", tok, 2),
		x("x3", 4, "E1", "E2", tok, 1), // internal, seeded by bybit
		x("x5", 5, "E2", "E1", graph.ETH, 5),
	}}
	er, ir := both(t, cfg, setup, b)

	ex := er.Exposure["E"]
	require.Equal(t, []graph.Asset{tok, graph.ETH}, ex.SortedAssets())
	eth, tk := ex.Asset(graph.ETH), ex.Asset(tok)
	require.Equal(t, "1", eth.ReceivedTotal.RatString(), "the clean internal ETH transfer is not received")
	require.Equal(t, "1/3", eth.TaintedTotal.RatString())
	require.Equal(t, "1/3", eth.Share())
	require.Equal(t, "3", tk.ReceivedTotal.RatString(), "the tainted internal transfer counts as received")
	require.Equal(t, "5/3", tk.TaintedTotal.RatString())
	require.Equal(t, map[string]string{"lazarus": "2/3", "bybit": "1"}, ratMap(tk.BySource))
	require.Equal(t, "5/9", tk.Share())
	require.Equal(t, "1/3", er.Sinks.Get(graph.ETH, trace.SinkExchangeAbsorbed, "lazarus").RatString())
	require.Equal(t, "2/3", er.Sinks.Get(tok, trace.SinkExchangeAbsorbed, "lazarus").RatString())
	require.Equal(t, "1", er.Sinks.Get(tok, trace.SinkExchangeAbsorbed, "bybit").RatString())
	require.Equal(t, map[graph.Asset]map[string]string{graph.ETH: {"lazarus": "1"}, tok: {"lazarus": "1", "bybit": "1"}},
		map[graph.Asset]map[string]string{graph.ETH: ratMap(er.Injected[graph.ETH]), tok: ratMap(er.Injected[tok])})
	for k, h := range er.Holdings {
		require.NotContains(t, []graph.Address{"E1", "E2"}, h.Address, "taint stays at the exchange in %s", k)
	}
	h := er.Addresses["H"]
	require.Len(t, h.Assets, 2)
	require.Equal(t, "1/1", h.Totals(graph.ETH).Received.String())
	htok := h.Totals(tok)
	require.Equal(t, "1", htok.Share())
	require.NotContains(t, er.Addresses, graph.Address("S"), "a source account is no receiver")
	require.Empty(t, er.Exposure["idle"].Assets)

	// The integer engine has the same rows, the same received totals and the same
	// injected taint; only the split of H's holdings rounds.
	ix := ir.Exposure["E"]
	require.Equal(t, ex.SortedAssets(), ix.SortedAssets())
	require.Equal(t, "1", ix.Asset(graph.ETH).ReceivedTotal.Dec())
	require.Equal(t, "3", ix.Asset(tok).ReceivedTotal.Dec())

	obj := specObject(t, er)
	rows := obj["exposure"].(map[string]any)["E"].(map[string]any)
	require.Equal(t, "5/9", rows[string(tok)].(map[string]any)["share"])
	require.Equal(t, "1/3", rows["ETH"].(map[string]any)["share"])
	sinks := obj["sinks"].(map[string]any)
	require.Equal(t, "1", sinks[string(tok)].(map[string]any)["exchange_absorbed"].(map[string]any)["bybit"])
	require.Equal(t, map[string]any{}, obj["exposure"].(map[string]any)["idle"])
}

func ratMap(m map[string]*big.Rat) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v.RatString()
	}
	return out
}

// TestFeesNeverPruned is spec v2 A.3: neither max_hops nor the dust rule prunes a fee. With
// max_hops 0 and min_taint above every amount, every output and transfer is pruned, but
// the fee sink holds the fee's full taint, one hop on; the exact and the integer results
// are then the same object (no amount here needs rounding).
func TestFeesNeverPruned(t *testing.T) {
	zero := uint32(0)
	p := trace.DefaultParams()
	p.MaxHops, p.MinTaint = &zero, amt(1000)
	stolen := graph.Outpoint{TxID: "stolen"}
	t.Run("utxo", func(t *testing.T) {
		cfg := trace.Config{Model: graph.UTXO, Method: trace.Haircut, Params: p, Seeds: []trace.Seed{{Outpoint: &stolen, Source: "lazarus"}}}
		b := graph.Block{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{spend("t1", 1, stolen, true, 100, 60, 30)}}
		er, ir := both(t, cfg, func(r replayer) error { return r.Fund(stolen, "A", amt(100)) }, b)
		require.Equal(t, "10", er.Sinks.Get(graph.BTC, trace.SinkFees, "lazarus").RatString())
		require.Equal(t, "90", er.Sinks.Get(graph.BTC, trace.SinkPrunedHops, "lazarus").RatString())
		require.Empty(t, er.Outputs)
		ej, err := json.Marshal(er)
		require.NoError(t, err)
		ij, err := json.Marshal(ir)
		require.NoError(t, err)
		require.JSONEq(t, string(ij), string(ej))
	})
	t.Run("account", func(t *testing.T) {
		cfg := trace.Config{Model: graph.Account, Method: trace.Haircut, Params: p, Seeds: []trace.Seed{{Address: "S", Source: "lazarus"}}}
		b := graph.Block{Chain: graph.Ethereum, Height: 1, AccountTxs: []graph.AccountTx{{Hash: "x1", From: "S", Fee: amt(7), Success: true,
			Transfers: []graph.Transfer{{ID: "x1.0", Asset: graph.ETH, From: "S", To: "B", Amount: amt(20), Kind: graph.KindCall}}}}}
		er, ir := both(t, cfg, func(r replayer) error { return r.SetBalance("S", graph.ETH, amt(100)) }, b)
		require.Equal(t, "7", er.Sinks.Get(graph.ETH, trace.SinkFees, "lazarus").RatString())
		require.Equal(t, "20", er.Sinks.Get(graph.ETH, trace.SinkPrunedHops, "lazarus").RatString())
		fee := er.Transfers["x1#fee"]
		require.NotNil(t, fee, "the fee pseudo-transfer keeps its taint")
		require.Equal(t, []exact.Component{{Source: "lazarus", Hop: 1, Amount: big.NewRat(7, 1)}}, fee.Taint)
		ej, err := json.Marshal(er)
		require.NoError(t, err)
		ij, err := json.Marshal(ir)
		require.NoError(t, err)
		require.JSONEq(t, string(ij), string(ej))
	})
}

// TestPropertyExchangeStops holds spec v2 A.1/A.2 on random histories, block by block, in
// exact arithmetic: every exchange label is listed in exposure (one that is never paid
// too); taint is conserved per (source, asset); under stop semantics no exchange holds
// taint after any block, and everything absorbed shows, to the last fraction, in the
// exposure of the exchange that absorbed it, per asset and source.
func TestPropertyExchangeStops(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var c *randchain.Case
		if rapid.Bool().Draw(t, "utxo") {
			c = randchain.UTXO(t)
		} else {
			c = randchain.Account(t)
		}
		exch := map[graph.Address]string{}
		exchanges := map[string][]graph.Address{"Z-never-paid": {"zz-never-paid"}}
		for l, as := range c.Exchanges {
			exchanges[l] = as
			for _, a := range as {
				exch[a] = l
			}
		}
		eng, err := exact.New(trace.Config{Model: c.Model, Method: trace.Haircut, Seeds: c.Seeds, Exchanges: exchanges, Params: c.Params})
		if err != nil {
			t.Fatalf("exact.New: %v", err)
		}
		blocks := c.Blocks
		c.Blocks = nil
		if err := c.Replay(eng); err != nil { // funding and balances only
			t.Fatal(err)
		}
		c.Blocks = blocks
		for i := range blocks {
			if err := eng.ApplyBlock(&blocks[i]); err != nil {
				t.Fatalf("block %d: %v", i, err)
			}
			r := eng.Result()
			if len(r.Exposure) != len(exchanges) {
				t.Fatalf("block %d: %d exchanges in exposure, want %d", i, len(r.Exposure), len(exchanges))
			}
			for l := range exchanges {
				if r.Exposure[l] == nil {
					t.Fatalf("block %d: exchange %s missing from exposure", i, l)
				}
			}
			if n := len(r.Exposure["Z-never-paid"].Assets); n != 0 {
				t.Fatalf("block %d: an exchange never paid has %d asset rows", i, n)
			}
			if err := r.CheckConservation(); err != nil {
				t.Fatalf("block %d: %v", i, err)
			}
			if !c.Params.StopAtExchanges {
				continue
			}
			for k, o := range r.Unspent {
				if l, ok := exch[o.Address]; ok {
					t.Fatalf("block %d: exchange %s holds taint on %s", i, l, k)
				}
			}
			for k, h := range r.Holdings {
				if l, ok := exch[h.Address]; ok {
					t.Fatalf("block %d: exchange %s holds taint in %s", i, l, k)
				}
			}
			shown := map[string]*big.Rat{}
			for _, x := range r.Exposure {
				for a, ax := range x.Assets {
					for s, v := range ax.BySource {
						k := string(a) + "/" + s
						shown[k] = new(big.Rat).Add(orZero(shown[k]), v)
					}
				}
			}
			absorbed := map[string]*big.Rat{}
			for a, bySink := range r.Sinks {
				for s, v := range bySink[trace.SinkExchangeAbsorbed.String()] {
					absorbed[string(a)+"/"+s] = v
				}
			}
			if len(shown) != len(absorbed) {
				t.Fatalf("block %d: exposure by source %v, exchange_absorbed %v", i, shown, absorbed)
			}
			for k, v := range absorbed {
				if shown[k] == nil || shown[k].Cmp(v) != 0 {
					t.Fatalf("block %d: %s absorbed %s, exposure shows %v", i, k, v.RatString(), shown[k])
				}
			}
		}
	})
}

func orZero(r *big.Rat) *big.Rat {
	if r == nil {
		return new(big.Rat)
	}
	return r
}

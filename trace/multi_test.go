package trace_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/big"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/internal/randchain"
	"github.com/holiman/uint256"
	"pgregory.net/rapid"
)

type blockSlice struct {
	blocks []graph.Block
	i      int
}

func (s *blockSlice) Next(context.Context) (*graph.Block, error) {
	if s.i == len(s.blocks) {
		return nil, io.EOF
	}
	s.i++
	return &s.blocks[s.i-1], nil
}

// TestPropertyMultiChainSplit: a history split over two chains with no link between them
// gives each chain the same result as replaying it alone, whatever the blocks' times (the
// merge only interleaves them).
func TestPropertyMultiChainSplit(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u, a := randchain.UTXO(t), randchain.Account(t)
		for i := range u.Blocks {
			u.Blocks[i].Time = int64(rapid.IntRange(0, 50).Draw(t, "utime"))
		}
		for i := range a.Blocks {
			a.Blocks[i].Time = int64(rapid.IntRange(0, 50).Draw(t, "atime"))
		}
		for _, m := range []string{trace.Poison, trace.Haircut, trace.FIFO, trace.LIFO} {
			alone := map[graph.Chain]string{}
			for name, c := range map[graph.Chain]*randchain.Case{"btc": u, "eth": a} {
				alone[name] = marshal(t, runCase(t, c, m))
			}
			var seeds []trace.Seed
			for _, s := range u.Seeds {
				s.Chain = "btc"
				seeds = append(seeds, s)
			}
			for _, s := range a.Seeds {
				s.Chain = "eth"
				seeds = append(seeds, s)
			}
			mt, err := trace.NewMulti([]trace.Config{
				{Chain: "btc", Model: graph.UTXO, Method: m, Exchanges: u.Exchanges, Params: u.Params},
				{Chain: "eth", Model: graph.Account, Method: m, Exchanges: a.Exchanges, Params: a.Params},
			}, seeds, nil)
			if err != nil {
				t.Fatal(err)
			}
			ub, ab := u.Blocks, a.Blocks
			u.Blocks, a.Blocks = nil, nil
			if err := u.Replay(mt.Engine("btc")); err != nil {
				t.Fatal(err)
			}
			if err := a.Replay(mt.Engine("eth")); err != nil {
				t.Fatal(err)
			}
			u.Blocks, a.Blocks = ub, ab
			if err := mt.Replay(context.Background(), map[graph.Chain]trace.ChainBlocks{"btc": &blockSlice{blocks: ub}, "eth": &blockSlice{blocks: ab}}); err != nil {
				t.Fatal(err)
			}
			res := mt.Result()
			for name, want := range alone {
				if got := marshal(t, res.Results[name]); got != want {
					t.Fatalf("%s chain %s: in a two-chain trace\n%s\nalone\n%s", m, name, got, want)
				}
			}
		}
	})
}

func marshal(t *rapid.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// linkedCase is a random two-chain history with venues and links: an account chain "eth"
// (ETH and a token TOK; venue V) and a UTXO chain "btc" (venue W, a vault that holds
// funding outputs). Links are swaps on eth (ETH into V, TOK out of V, with a refund
// sometimes), bridges eth → btc (ETH into V, an output paid from W's outputs) and btc →
// eth (an output to W, ETH out of V), with ordinary traffic and unlinked venue deposits
// around them.
type linkedCase struct {
	seeds   []trace.Seed
	links   []graph.Link
	eth     []graph.Block
	btc     []graph.Block
	funding []randchain.Funding
	bal     map[[2]string]uint64 // balances as the generator goes
	start   map[[2]string]uint64 // balances before the first block
	params  trace.Params
}

func genLinked(t *rapid.T) *linkedCase {
	c := &linkedCase{bal: map[[2]string]uint64{}, params: trace.DefaultParams()}
	if rapid.Bool().Draw(t, "max_hops") {
		h := uint32(rapid.IntRange(1, 6).Draw(t, "hops"))
		c.params.MaxHops = &h
	}
	c.params.MinTaint = graph.NewAmount(uint64(rapid.IntRange(0, 3).Draw(t, "min_taint")))
	users := []string{"h", "u1", "u2", "u3"}
	for _, u := range users {
		c.bal[[2]string{u, "ETH"}] = uint64(rapid.IntRange(0, 60).Draw(t, "eth"))
		c.bal[[2]string{u, "TOK"}] = uint64(rapid.IntRange(0, 60).Draw(t, "tok"))
	}
	c.bal[[2]string{"V", "ETH"}] = 500
	c.bal[[2]string{"V", "TOK"}] = 500
	c.start = maps.Clone(c.bal)
	c.seeds = []trace.Seed{{Chain: "eth", Address: "h", Source: "s1"}}
	// btc: the vault W holds 20 funding outputs; the users hold a few.
	var wOuts []graph.Outpoint
	live := map[graph.Outpoint]randchain.Funding{}
	for i := 0; i < 20; i++ {
		f := randchain.Funding{Op: graph.Outpoint{TxID: fmt.Sprintf("w%d", i)}, Addr: "W", Value: uint64(rapid.IntRange(1, 100).Draw(t, "wv"))}
		c.funding = append(c.funding, f)
		wOuts = append(wOuts, f.Op)
		live[f.Op] = f
	}
	var userOuts []graph.Outpoint
	for i, u := range []string{"b1", "b2", "hb"} {
		f := randchain.Funding{Op: graph.Outpoint{TxID: fmt.Sprintf("f%d", i)}, Addr: graph.Address(u), Value: uint64(rapid.IntRange(1, 100).Draw(t, "fv"))}
		c.funding = append(c.funding, f)
		userOuts = append(userOuts, f.Op)
		live[f.Op] = f
	}
	c.seeds = append(c.seeds, trace.Seed{Chain: "btc", Address: "hb", Source: "s2"})
	now := int64(0)
	ethH, btcH := uint64(0), uint64(0)
	ethTx := func(xs ...graph.Transfer) string {
		ethH++
		now += int64(rapid.IntRange(1, 3).Draw(t, "dt"))
		h := fmt.Sprintf("e%d", ethH)
		for i := range xs {
			xs[i].ID = fmt.Sprintf("%s.%d", h, i)
			xs[i].Kind = graph.KindCall
			c.bal[[2]string{string(xs[i].From), string(xs[i].Asset)}] -= xs[i].Amount.Uint64()
			c.bal[[2]string{string(xs[i].To), string(xs[i].Asset)}] += xs[i].Amount.Uint64()
		}
		c.eth = append(c.eth, graph.Block{Chain: graph.Ethereum, Height: ethH, Time: now, AccountTxs: []graph.AccountTx{{Hash: h, From: xs[0].From, Success: true, Transfers: xs}}})
		return h
	}
	btcTx := func(ins []graph.Outpoint, outs []graph.TxOut) string {
		btcH++
		now += int64(rapid.IntRange(1, 3).Draw(t, "dt"))
		id := fmt.Sprintf("b%d", btcH)
		tx := graph.UTXOTx{TxID: id}
		for _, op := range ins {
			f := live[op]
			tx.Inputs = append(tx.Inputs, graph.TxIn{Prev: op, Address: f.Addr, Value: graph.NewAmount(f.Value), Resolved: true})
			delete(live, op)
		}
		tx.Outputs = outs
		for i, o := range outs {
			op := graph.Outpoint{TxID: id, Index: uint32(i)}
			live[op] = randchain.Funding{Op: op, Addr: o.Address, Value: o.Value.Uint64()}
		}
		c.btc = append(c.btc, graph.Block{Chain: graph.Bitcoin, Height: btcH, Time: now, UTXOTxs: []graph.UTXOTx{tx}})
		return id
	}
	pay := func(from, to, asset string, max uint64) (graph.Transfer, bool) {
		have := c.bal[[2]string{from, asset}]
		if have == 0 {
			return graph.Transfer{}, false
		}
		v := uint64(rapid.IntRange(1, int(min(have, max))).Draw(t, "v"))
		return graph.Transfer{From: graph.Address(from), To: graph.Address(to), Asset: graph.Asset(asset), Amount: graph.NewAmount(v)}, true
	}
	take := func(list *[]graph.Outpoint) (graph.Outpoint, bool) {
		for len(*list) > 0 {
			op := (*list)[0]
			*list = (*list)[1:]
			if _, ok := live[op]; ok {
				return op, true
			}
		}
		return graph.Outpoint{}, false
	}
	n := rapid.IntRange(1, 14).Draw(t, "steps")
	for i := 0; i < n; i++ {
		from := users[rapid.IntRange(0, 3).Draw(t, "from")]
		asset := []string{"ETH", "TOK"}[rapid.IntRange(0, 1).Draw(t, "asset")]
		switch rapid.IntRange(0, 5).Draw(t, "step") {
		case 0, 1: // ordinary transfer, or an unlinked venue deposit
			to := users[rapid.IntRange(0, 3).Draw(t, "to")]
			if rapid.IntRange(0, 4).Draw(t, "to_venue") == 0 {
				to = "V"
			}
			if x, ok := pay(from, to, asset, 30); ok && to != from {
				ethTx(x)
			}
		case 2: // a swap: ETH in, TOK out (and sometimes an ETH refund)
			in, ok := pay(from, "V", "ETH", 30)
			if !ok {
				continue
			}
			xs := []graph.Transfer{in}
			if out, ok := pay("V", users[rapid.IntRange(0, 3).Draw(t, "to")], "TOK", 80); ok {
				xs = append(xs, out)
			}
			if r, ok := pay("V", from, "ETH", 5); ok && rapid.Bool().Draw(t, "refund") {
				xs = append(xs, r)
			}
			h := ethTx(xs...)
			l := graph.Link{ID: fmt.Sprintf("SW%d", i), Kind: graph.LinkSwap, In: []graph.Leg{{Chain: "eth", Ref: h + ".0"}}}
			for k := 1; k < len(xs); k++ {
				l.Out = append(l.Out, graph.Leg{Chain: "eth", Ref: fmt.Sprintf("%s.%d", h, k)})
			}
			c.links = append(c.links, l)
		case 3: // a bridge eth → btc: ETH into V, then a payment out of W's outputs
			in, ok := pay(from, "V", "ETH", 30)
			if !ok {
				continue
			}
			h := ethTx(in)
			op, ok := take(&wOuts)
			if !ok {
				continue
			}
			v := live[op].Value
			w := uint64(rapid.IntRange(0, int(v)).Draw(t, "w"))
			to := []string{"b1", "b2"}[rapid.IntRange(0, 1).Draw(t, "bto")]
			id := btcTx([]graph.Outpoint{op}, []graph.TxOut{{Address: graph.Address(to), Value: graph.NewAmount(w)}, {Address: "W", Value: graph.NewAmount(v - w)}})
			wOuts = append(wOuts, graph.Outpoint{TxID: id, Index: 1})
			c.links = append(c.links, graph.Link{ID: fmt.Sprintf("BR%d", i), Kind: graph.LinkThorchain,
				In: []graph.Leg{{Chain: "eth", Ref: h + ".0"}}, Out: []graph.Leg{{Chain: "btc", Ref: id + ":0"}}})
		case 4: // a bridge btc → eth: an output to W, then ETH out of V
			op, ok := take(&userOuts)
			if !ok {
				continue
			}
			v := live[op].Value
			id := btcTx([]graph.Outpoint{op}, []graph.TxOut{{Address: "W", Value: graph.NewAmount(v)}})
			out, ok := pay("V", users[rapid.IntRange(0, 3).Draw(t, "to")], "ETH", 40)
			if !ok {
				continue
			}
			h := ethTx(out)
			c.links = append(c.links, graph.Link{ID: fmt.Sprintf("BB%d", i), Kind: graph.LinkBridge,
				In: []graph.Leg{{Chain: "btc", Ref: id + ":0"}}, Out: []graph.Leg{{Chain: "eth", Ref: h + ".0"}}})
		default: // ordinary btc traffic
			op, ok := take(&userOuts)
			if !ok {
				continue
			}
			v := live[op].Value
			id := btcTx([]graph.Outpoint{op}, []graph.TxOut{{Address: "b2", Value: graph.NewAmount(v / 2)}, {Address: "b1", Value: graph.NewAmount(v - v/2)}})
			userOuts = append(userOuts, graph.Outpoint{TxID: id}, graph.Outpoint{TxID: id, Index: 1})
		}
	}
	return c
}

func (c *linkedCase) run(t *rapid.T, method string) *trace.MultiResult {
	ex := map[string][]graph.Address{"EX": {"u3"}}
	mt, err := trace.NewMulti([]trace.Config{
		{Chain: "eth", Model: graph.Account, Method: method, Params: c.params, Venues: []graph.Address{"V"}, Exchanges: ex},
		{Chain: "btc", Model: graph.UTXO, Method: method, Params: c.params, Venues: []graph.Address{"W"}, Exchanges: map[string][]graph.Address{"EX": {"b2"}}},
	}, c.seeds, c.links)
	if err != nil {
		t.Fatal(err)
	}
	eth := mt.Engine("eth")
	for k, v := range c.start {
		if v > 0 {
			if err := eth.SetBalance(graph.Address(k[0]), graph.Asset(k[1]), graph.NewAmount(v)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range c.funding {
		if err := mt.Engine("btc").Fund(f.Op, f.Addr, graph.NewAmount(f.Value)); err != nil {
			t.Fatal(err)
		}
	}
	if err := mt.Replay(context.Background(), map[graph.Chain]trace.ChainBlocks{"eth": &blockSlice{blocks: c.eth}, "btc": &blockSlice{blocks: c.btc}}); err != nil {
		t.Fatal(err)
	}
	return mt.Result()
}

// TestPropertyLinks replays random two-chain histories with swaps, refunds and bridges both
// ways under every method valid on both chains: taint is conserved per (chain, source,
// asset) with linked_in and linked_out; no venue holds taint; every link completes; and
// under haircut each out-leg carries, per component, w·C/V of the buffer within one unit
// (fraction preservation, §15.5), before pruning.
func TestPropertyLinks(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genLinked(t)
		for _, m := range []string{trace.Poison, trace.Haircut, trace.FIFO, trace.LIFO} {
			r := c.run(t, m)
			if m != trace.Poison {
				if err := r.CheckConservation(); err != nil {
					t.Fatalf("%s: %v", m, err)
				}
			}
			for _, res := range r.Results {
				for k, h := range res.Holdings {
					if h.Address == "V" {
						t.Fatalf("%s: venue holds taint: %s", m, k)
					}
				}
				for k, o := range res.Unspent {
					if o.Address == "W" {
						t.Fatalf("%s: venue holds taint: %s", m, k)
					}
				}
			}
			if len(r.Links) != len(c.links) {
				t.Fatalf("%s: %d link results for %d links", m, len(r.Links), len(c.links))
			}
			for id, l := range r.Links {
				if l.Status != "complete" && len(c.linkByID(id).Out) > 0 {
					t.Fatalf("%s: link %s is %s", m, id, l.Status)
				}
				if m != trace.Haircut || c.params.MaxHops != nil || !c.params.MinTaint.IsZero() {
					continue
				}
				for _, o := range l.Out {
					got := map[string]uint256.Int{}
					for _, g := range o.Taint {
						got[fmt.Sprintf("%s@%d", g.Source, g.Hop)] = g.Amount
					}
					for _, g := range l.InTaint {
						want := new(big.Rat).SetFrac(new(big.Int).Mul(o.Value.ToBig(), g.Amount.ToBig()), l.InValue.ToBig())
						have := got[fmt.Sprintf("%s@%d", g.Source, g.Hop+1)]
						diff := new(big.Rat).Sub(new(big.Rat).SetInt(have.ToBig()), want)
						if diff.Abs(diff).Cmp(big.NewRat(1, 1)) >= 0 {
							t.Fatalf("link %s out %s: %s@%d carries %s, w·C/V = %s", id, o.Ref, g.Source, g.Hop+1, have.Dec(), want.FloatString(3))
						}
					}
				}
			}
		}
	})
}

func (c *linkedCase) linkByID(id string) graph.Link {
	for _, l := range c.links {
		if l.ID == id {
			return l
		}
	}
	return graph.Link{}
}

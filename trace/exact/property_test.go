package exact_test

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/exact"
	"pgregory.net/rapid"
)

// The property tests replay random small chains of both models in exact mode and check
// what exact arithmetic promises: taint is conserved per source to the last fraction,
// nothing is negative, no component exceeds the value it rides on. They then replay the
// same chain on the integer engine and hold the two together: the same taint injected
// per source, and every integer per-(source, hop) amount within the rounding that
// Hamilton apportionment can have accumulated (less than one unit per split).
//
// The generators are trace's (trace/property_test.go, package trace_test, which cannot
// be imported), with the inputs resolved once up front so that both engines replay the
// very same blocks.

type chainCase struct {
	model     graph.Model
	funding   []fundingOut
	balances  []balance
	seeds     []trace.Seed
	exchanges map[string][]graph.Address
	params    trace.Params
	blocks    []graph.Block
}

type fundingOut struct {
	op    graph.Outpoint
	addr  graph.Address
	value uint64
}

type balance struct {
	addr  graph.Address
	asset graph.Asset
	value uint64
}

var addrPool = []graph.Address{"a0", "a1", "a2", "a3", "a4", "a5", "ex0", "ex1"}

func genParams(t *rapid.T) trace.Params {
	p := trace.Params{StopAtExchanges: rapid.Bool().Draw(t, "stop")}
	p.MinTaint = graph.NewAmount(uint64(rapid.IntRange(0, 4).Draw(t, "min_taint")))
	if rapid.Bool().Draw(t, "has_max_hops") {
		h := uint32(rapid.IntRange(0, 4).Draw(t, "max_hops"))
		p.MaxHops = &h
	}
	if rapid.IntRange(0, 3).Draw(t, "has_fraction") == 0 {
		p.MinFraction = &trace.Fraction{Num: graph.NewAmount(1), Den: graph.NewAmount(uint64(rapid.IntRange(2, 20).Draw(t, "den")))}
	}
	return p
}

func genExchanges(t *rapid.T) map[string][]graph.Address {
	ex := map[string][]graph.Address{}
	switch rapid.IntRange(0, 2).Draw(t, "exchanges") {
	case 1:
		ex["E"] = []graph.Address{"ex0"}
	case 2:
		ex["E"] = []graph.Address{"ex0", "ex1"}
	}
	return ex
}

func genUTXO(t *rapid.T) *chainCase {
	c := &chainCase{model: graph.UTXO, exchanges: genExchanges(t), params: genParams(t)}
	type live struct {
		op    graph.Outpoint
		value uint64
	}
	var lives []live
	nf := rapid.IntRange(1, 5).Draw(t, "funding")
	for i := 0; i < nf; i++ {
		f := fundingOut{op: graph.Outpoint{TxID: fmt.Sprintf("f%d", i)}, addr: addrPool[rapid.IntRange(0, 5).Draw(t, "faddr")], value: uint64(rapid.IntRange(0, 60).Draw(t, "fvalue"))}
		c.funding = append(c.funding, f)
		lives = append(lives, live{f.op, f.value})
	}
	sources := []string{"s1", "s2"}
	for i := range c.funding {
		if rapid.IntRange(0, 2).Draw(t, "seeded") > 0 {
			op := c.funding[i].op
			s := trace.Seed{Outpoint: &op, Source: sources[rapid.IntRange(0, 1).Draw(t, "src")]}
			if rapid.Bool().Draw(t, "partial") {
				a := graph.NewAmount(uint64(rapid.IntRange(0, 70).Draw(t, "amount")))
				s.Amount = &a
			}
			c.seeds = append(c.seeds, s)
		}
	}
	if rapid.Bool().Draw(t, "addr_seed") {
		c.seeds = append(c.seeds, trace.Seed{Address: addrPool[rapid.IntRange(0, 5).Draw(t, "seed_addr")], Source: sources[rapid.IntRange(0, 1).Draw(t, "asrc")]})
	}
	c.params.TaintFee = rapid.IntRange(0, 2).Draw(t, "taint_fee") == 0
	ntx := rapid.IntRange(0, 12).Draw(t, "txs")
	for i := 0; i < ntx && len(lives) > 0; i++ {
		// Some blocks open with a coinbase (which TaintFee pays the block's fees to).
		var cb *graph.UTXOTx
		if rapid.IntRange(0, 2).Draw(t, "coinbase") == 0 {
			cb = &graph.UTXOTx{TxID: fmt.Sprintf("cb%d", i), Index: 0, Coinbase: true}
			for k := rapid.IntRange(1, 2).Draw(t, "cb_nout"); k > 0; k-- {
				v := uint64(rapid.IntRange(0, 80).Draw(t, "cb_v"))
				cb.Outputs = append(cb.Outputs, graph.TxOut{Address: addrPool[rapid.IntRange(0, 7).Draw(t, "cb_addr")], Value: graph.NewAmount(v)})
			}
		}
		tx := graph.UTXOTx{TxID: fmt.Sprintf("t%d", i), Index: 1}
		nin := rapid.IntRange(1, min(3, len(lives))).Draw(t, "nin")
		var in uint64
		for k := 0; k < nin; k++ {
			j := rapid.IntRange(0, len(lives)-1).Draw(t, "pick")
			tx.Inputs = append(tx.Inputs, graph.TxIn{Prev: lives[j].op})
			in += lives[j].value
			lives = append(lives[:j], lives[j+1:]...)
		}
		fee := uint64(rapid.IntRange(0, int(in)).Draw(t, "fee"))
		rest := in - fee
		nout := rapid.IntRange(1, 3).Draw(t, "nout")
		for k := 0; k < nout; k++ {
			v := rest
			if k < nout-1 {
				v = uint64(rapid.IntRange(0, int(rest)).Draw(t, "v"))
			}
			rest -= v
			tx.Outputs = append(tx.Outputs, graph.TxOut{Address: addrPool[rapid.IntRange(0, 7).Draw(t, "oaddr")], Value: graph.NewAmount(v)})
			lives = append(lives, live{graph.Outpoint{TxID: tx.TxID, Index: uint32(k)}, v})
		}
		blk := graph.Block{Chain: graph.Bitcoin, Height: uint64(i + 1)}
		if cb != nil {
			blk.UTXOTxs = append(blk.UTXOTxs, *cb)
			for k, o := range cb.Outputs {
				lives = append(lives, live{graph.Outpoint{TxID: cb.TxID, Index: uint32(k)}, o.Value.Uint64()})
			}
		}
		blk.UTXOTxs = append(blk.UTXOTxs, tx)
		c.blocks = append(c.blocks, blk)
	}
	// Seed addresses must not be exchanges.
	for _, s := range c.seeds {
		if s.Address == "ex0" || s.Address == "ex1" {
			c.exchanges = map[string][]graph.Address{}
		}
	}
	c.resolve()
	return c
}

func genAccount(t *rapid.T) *chainCase {
	c := &chainCase{model: graph.Account, exchanges: genExchanges(t), params: genParams(t)}
	assets := []graph.Asset{graph.ETH, "TOK"}
	bal := map[[2]string]uint64{}
	for _, a := range addrPool[:6] {
		for _, as := range assets {
			v := uint64(rapid.IntRange(0, 40).Draw(t, "bal"))
			if v > 0 {
				c.balances = append(c.balances, balance{a, as, v})
				bal[[2]string{string(a), string(as)}] = v
			}
		}
	}
	srcAddr := graph.Address("")
	if rapid.Bool().Draw(t, "source_account") {
		srcAddr = addrPool[rapid.IntRange(0, 5).Draw(t, "seed_addr")]
		c.seeds = append(c.seeds, trace.Seed{Address: srcAddr, Source: "s1"})
	}
	ntx := rapid.IntRange(0, 12).Draw(t, "txs")
	for i := 0; i < ntx; i++ {
		from := addrPool[rapid.IntRange(0, 7).Draw(t, "from")]
		tx := graph.AccountTx{Hash: fmt.Sprintf("x%d", i), From: from, Success: rapid.IntRange(0, 4).Draw(t, "ok") > 0}
		eth := bal[[2]string{string(from), "ETH"}]
		fee := uint64(rapid.IntRange(0, int(min(eth, 3))).Draw(t, "fee"))
		tx.Fee = graph.NewAmount(fee)
		bal[[2]string{string(from), "ETH"}] -= fee
		nx := rapid.IntRange(0, 3).Draw(t, "nx")
		for k := 0; k < nx; k++ {
			as := assets[rapid.IntRange(0, 1).Draw(t, "asset")]
			x := graph.Transfer{ID: fmt.Sprintf("x%d.%d", i, k), Asset: as, Kind: graph.KindCall}
			switch rapid.IntRange(0, 6).Draw(t, "kind") {
			case 0: // mint
				x.From = graph.ZeroAddress
			default:
				x.From = addrPool[rapid.IntRange(0, 7).Draw(t, "xfrom")]
			}
			if rapid.IntRange(0, 8).Draw(t, "burn") == 0 {
				x.To = graph.ZeroAddress
			} else {
				x.To = addrPool[rapid.IntRange(0, 7).Draw(t, "xto")]
			}
			have := uint64(40)
			if x.From != graph.ZeroAddress {
				have = bal[[2]string{string(x.From), string(as)}]
			}
			v := uint64(rapid.IntRange(0, int(have)).Draw(t, "amount"))
			x.Amount = graph.NewAmount(v)
			x.Reverted = rapid.IntRange(0, 9).Draw(t, "reverted") == 0
			if tx.Success && !x.Reverted && x.From != x.To {
				if x.From != graph.ZeroAddress {
					bal[[2]string{string(x.From), string(as)}] -= v
				}
				if x.To != graph.ZeroAddress {
					bal[[2]string{string(x.To), string(as)}] += v
				}
			}
			if rapid.IntRange(0, 5).Draw(t, "xseed") == 0 {
				s := trace.Seed{Transfer: x.ID, Source: "s2"}
				if rapid.Bool().Draw(t, "partial") {
					a := graph.NewAmount(uint64(rapid.IntRange(0, 50).Draw(t, "samount")))
					s.Amount = &a
				}
				c.seeds = append(c.seeds, s)
			}
			tx.Transfers = append(tx.Transfers, x)
		}
		c.blocks = append(c.blocks, graph.Block{Chain: graph.Ethereum, Height: uint64(i + 1), AccountTxs: []graph.AccountTx{tx}})
	}
	if srcAddr == "ex0" || srcAddr == "ex1" {
		c.exchanges = map[string][]graph.Address{}
	}
	return c
}

// resolve fills in every input's address and value, as an adapter or the store would.
func (c *chainCase) resolve() {
	vals := map[graph.Outpoint]fundingOut{}
	for _, f := range c.funding {
		vals[f.op] = f
	}
	for bi := range c.blocks {
		for ti := range c.blocks[bi].UTXOTxs {
			tx := &c.blocks[bi].UTXOTxs[ti]
			for k := range tx.Inputs {
				f := vals[tx.Inputs[k].Prev]
				tx.Inputs[k].Address, tx.Inputs[k].Value, tx.Inputs[k].Resolved = f.addr, graph.NewAmount(f.value), true
			}
			for k, o := range tx.Outputs {
				vals[graph.Outpoint{TxID: tx.TxID, Index: uint32(k)}] = fundingOut{addr: o.Address, value: o.Value.Uint64()}
			}
		}
	}
}

// splits is an upper bound on the number of haircut withdrawals a replay of the case
// makes: every output of every transaction and every transfer, fees included.
func (c *chainCase) splits() int {
	n := 0
	for _, b := range c.blocks {
		for _, tx := range b.UTXOTxs {
			n += len(tx.Outputs)
		}
		for _, tx := range b.AccountTxs {
			n += 1 + len(tx.Transfers)
		}
	}
	return n
}

// replayer is what the two engines have in common.
type replayer interface {
	Fund(graph.Outpoint, graph.Address, graph.Amount) error
	SetBalance(graph.Address, graph.Asset, graph.Amount) error
	ApplyBlock(*graph.Block) error
}

func (c *chainCase) config(p trace.Params) trace.Config {
	return trace.Config{Model: c.model, Method: trace.Haircut, Seeds: c.seeds, Exchanges: c.exchanges, Params: p}
}

func (c *chainCase) replay(t *rapid.T, eng replayer) {
	for _, f := range c.funding {
		if err := eng.Fund(f.op, f.addr, graph.NewAmount(f.value)); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range c.balances {
		if err := eng.SetBalance(b.addr, b.asset, graph.NewAmount(b.value)); err != nil {
			t.Fatal(err)
		}
	}
	for bi := range c.blocks {
		if err := eng.ApplyBlock(&c.blocks[bi]); err != nil {
			t.Fatalf("ApplyBlock %d: %v", bi, err)
		}
	}
}

func (c *chainCase) runExact(t *rapid.T, p trace.Params) *exact.Result {
	eng, err := exact.New(c.config(p))
	if err != nil {
		t.Fatalf("exact.New: %v", err)
	}
	c.replay(t, eng)
	return eng.Result()
}

func (c *chainCase) runInt(t *rapid.T, p trace.Params) *trace.Result {
	eng, err := trace.NewEngine(c.config(p))
	if err != nil {
		t.Fatalf("trace.NewEngine: %v", err)
	}
	c.replay(t, eng)
	return eng.Result()
}

// checkExactInvariants checks conservation and the ranges of every amount of r.
func checkExactInvariants(t *rapid.T, r *exact.Result) {
	if err := r.CheckConservation(); err != nil {
		t.Fatal(err)
	}
	nonNeg := func(what string, v *big.Rat) {
		if v == nil || v.Sign() < 0 {
			t.Fatalf("%s: %v is negative or missing", what, v)
		}
	}
	check := func(what string, value, tainted *big.Rat, cs []exact.Component) {
		nonNeg(what+" value", value)
		nonNeg(what+" tainted", tainted)
		if tainted.Cmp(value) > 0 {
			t.Fatalf("%s: tainted %s > value %s", what, tainted.RatString(), value.RatString())
		}
		sum := new(big.Rat)
		for _, c := range cs {
			if c.Amount.Sign() <= 0 || c.Amount.Cmp(value) > 0 {
				t.Fatalf("%s: component %s/%d amount %s out of (0, %s]", what, c.Source, c.Hop, c.Amount.RatString(), value.RatString())
			}
			sum.Add(sum, c.Amount)
		}
		if sum.Cmp(tainted) != 0 {
			t.Fatalf("%s: components sum %s, tainted %s", what, sum.RatString(), tainted.RatString())
		}
	}
	for k, o := range r.Outputs {
		check("output "+k, o.Value, o.Tainted, o.Taint)
	}
	for k, o := range r.Unspent {
		check("unspent "+k, o.Value, o.Tainted, o.Taint)
	}
	for k, x := range r.Transfers {
		check("transfer "+k, x.Amount, x.Tainted, x.Taint)
	}
	for k, h := range r.Holdings {
		check("holding "+k, h.Balance, h.Tainted, h.Taint)
	}
	for k, x := range r.Exposure {
		nonNeg("exposure "+k+" direct", x.Direct)
		nonNeg("exposure "+k+" indirect", x.Indirect)
		if sum := new(big.Rat).Add(x.Direct, x.Indirect); sum.Cmp(x.TaintedTotal) != 0 {
			t.Fatalf("exposure %s: direct + indirect %s, tainted %s", k, sum.RatString(), x.TaintedTotal.RatString())
		}
		if x.TaintedTotal.Cmp(x.ReceivedTotal) > 0 {
			t.Fatalf("exposure %s: tainted > received", k)
		}
		for _, d := range x.Deposits {
			check("deposit "+d.Ref, d.Value, d.Tainted, d.Taint)
		}
	}
	for k, a := range r.Addresses {
		nonNeg("address "+string(k), a.TaintedReceived)
		if a.TaintedReceived.Cmp(a.Received) > 0 {
			t.Fatalf("address %s: tainted > received", k)
		}
	}
	for k, m := range r.Sinks {
		for s, v := range m {
			nonNeg("sink "+k+" "+s, v)
		}
	}
}

type key struct {
	ref, src string
	hop      uint32
}

// compareWithInt holds the integer result ir to the exact result er of the same chain.
func compareWithInt(t *rapid.T, c *chainCase, er *exact.Result, ir *trace.Result) {
	if len(er.Injected) != len(ir.Injected) {
		t.Fatalf("injected: exact %v, integer %v", er.Injected, ir.Injected)
	}
	for s, v := range ir.Injected {
		if er.Injected[s] == nil || er.Injected[s].Cmp(new(big.Rat).SetInt(v.ToBig())) != 0 {
			t.Fatalf("injected %s: exact %v, integer %s", s, er.Injected[s], v.Dec())
		}
	}
	es, is := er.Stats, ir.Stats
	es.TaintedTxs, is.TaintedTxs = 0, 0 // taint that rounds away in integers is still taint here
	if fmt.Sprint(es) != fmt.Sprint(is) {
		t.Fatalf("stats: exact %+v, integer %+v", er.Stats, ir.Stats)
	}
	if c.params.MinTaint.IsZero() && c.params.MinFraction == nil {
		// Without dust pruning both replays are the same linear maps of the seeded
		// amounts, except that each integer split rounds every component by less than a
		// unit; that error then spreads with weights that sum to at most 1. So no
		// integer amount can be a split or more away from the exact one.
		bound := new(big.Rat).SetInt64(int64(c.splits()))
		exactAmounts, intAmounts := map[key]*big.Rat{}, map[key]*big.Rat{}
		addE := func(ref string, cs []exact.Component) {
			for _, x := range cs {
				exactAmounts[key{ref, x.Source, x.Hop}] = x.Amount
			}
		}
		addI := func(ref string, cs []trace.Component) {
			for _, x := range cs {
				intAmounts[key{ref, x.Source, x.Hop}] = new(big.Rat).SetInt(x.Amount.ToBig())
			}
		}
		for k, o := range er.Outputs {
			addE("output "+k, o.Taint)
		}
		for k, o := range er.Unspent {
			addE("unspent "+k, o.Taint)
		}
		for k, x := range er.Transfers {
			addE("transfer "+k, x.Taint)
		}
		for k, h := range er.Holdings {
			addE("holding "+k, h.Taint)
		}
		for k, o := range ir.Outputs {
			addI("output "+k, o.Taint)
		}
		for k, o := range ir.Unspent {
			addI("unspent "+k, o.Taint)
		}
		for k, x := range ir.Transfers {
			addI("transfer "+k, x.Taint)
		}
		for k, h := range ir.Holdings {
			addI("holding "+k, h.Taint)
		}
		for k := range intAmounts {
			if exactAmounts[k] == nil {
				exactAmounts[k] = new(big.Rat)
			}
		}
		for k, ev := range exactAmounts {
			iv := intAmounts[k]
			if iv == nil {
				iv = new(big.Rat)
			}
			d := new(big.Rat).Sub(iv, ev)
			if d.Sign() != 0 && d.Abs(d).Cmp(bound) >= 0 {
				t.Fatalf("%s %s/%d: integer %s, exact %s: %s apart, %s splits replayed", k.ref, k.src, k.hop, iv.RatString(), ev.RatString(), d.RatString(), bound.RatString())
			}
		}
	}
}

func TestPropertyUTXO(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genUTXO(t)
		er := c.runExact(t, c.params)
		checkExactInvariants(t, er)
		compareWithInt(t, c, er, c.runInt(t, c.params))
		// The same chain without dust pruning, where the rounding bound holds.
		p := c.params
		p.MinTaint, p.MinFraction = graph.Amount{}, nil
		c.params = p
		er = c.runExact(t, p)
		checkExactInvariants(t, er)
		compareWithInt(t, c, er, c.runInt(t, p))
	})
}

func TestPropertyAccount(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genAccount(t)
		er := c.runExact(t, c.params)
		checkExactInvariants(t, er)
		compareWithInt(t, c, er, c.runInt(t, c.params))
		p := c.params
		p.MinTaint, p.MinFraction = graph.Amount{}, nil
		c.params = p
		er = c.runExact(t, p)
		checkExactInvariants(t, er)
		compareWithInt(t, c, er, c.runInt(t, p))
	})
}

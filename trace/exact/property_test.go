package exact_test

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/exact"
	"github.com/chaintrace/chaintrace/trace/internal/randchain"
	"pgregory.net/rapid"
)

// The property tests replay random small chains of both models in exact mode and check
// what exact arithmetic promises: taint is conserved per source to the last fraction,
// nothing is negative, no component exceeds the value it rides on. They then replay the
// same chain on the integer engine and hold the two together: the same taint injected
// per source, and every integer per-(source, hop) amount within the rounding that
// Hamilton apportionment can have accumulated (less than one unit per split).
//
// The generators are trace's (package randchain), with the inputs resolved up front so
// that both engines replay the very same blocks.

// chainCase is a random history of package randchain, the generators trace's own
// property tests use.
type chainCase struct{ *randchain.Case }

func genUTXO(t *rapid.T) *chainCase    { return &chainCase{randchain.UTXO(t)} }
func genAccount(t *rapid.T) *chainCase { return &chainCase{randchain.Account(t)} }

// splits is an upper bound on the number of haircut withdrawals a replay of the case
// makes: every output of every transaction and every transfer, fees included.
func (c *chainCase) splits() int {
	n := 0
	for _, b := range c.Blocks {
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
	return trace.Config{Model: c.Model, Method: trace.Haircut, Seeds: c.Seeds, Exchanges: c.Exchanges, Params: p}
}

func (c *chainCase) replay(t *rapid.T, eng replayer) {
	if err := c.Replay(eng); err != nil {
		t.Fatal(err)
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
		for a, ax := range x.Assets {
			what := "exposure " + k + " " + string(a)
			if ax.Asset != a {
				t.Fatalf("%s: row of asset %s", what, ax.Asset)
			}
			nonNeg(what+" direct", ax.Direct)
			nonNeg(what+" indirect", ax.Indirect)
			if sum := new(big.Rat).Add(ax.Direct, ax.Indirect); sum.Cmp(ax.TaintedTotal) != 0 {
				t.Fatalf("%s: direct + indirect %s, tainted %s", what, sum.RatString(), ax.TaintedTotal.RatString())
			}
			// v2 A.2: tainted internal movements count as received, so the share is ≤ 1.
			if ax.TaintedTotal.Cmp(ax.ReceivedTotal) > 0 {
				t.Fatalf("%s: tainted %s > received %s", what, ax.TaintedTotal.RatString(), ax.ReceivedTotal.RatString())
			}
			bySource := new(big.Rat)
			for _, v := range ax.BySource {
				bySource.Add(bySource, v)
			}
			if bySource.Cmp(ax.TaintedTotal) != 0 {
				t.Fatalf("%s: by_source sums to %s, tainted %s", what, bySource.RatString(), ax.TaintedTotal.RatString())
			}
			deposits := new(big.Rat)
			for _, d := range ax.Deposits {
				check("deposit "+d.Ref, d.Value, d.Tainted, d.Taint)
				if d.Asset != a {
					t.Fatalf("%s: deposit %s of asset %s", what, d.Ref, d.Asset)
				}
				deposits.Add(deposits, d.Tainted)
			}
			if deposits.Cmp(ax.TaintedTotal) != 0 {
				t.Fatalf("%s: deposits carry %s, tainted %s", what, deposits.RatString(), ax.TaintedTotal.RatString())
			}
		}
	}
	for k, a := range r.Addresses {
		if len(a.Assets) == 0 {
			t.Fatalf("address %s: listed with no asset", k)
		}
		for i, at := range a.Assets {
			if i > 0 && a.Assets[i-1].Asset >= at.Asset {
				t.Fatalf("address %s: assets not sorted", k)
			}
			nonNeg("address "+string(k)+" "+string(at.Asset), at.Tainted)
			if at.Tainted.Cmp(at.Received) > 0 {
				t.Fatalf("address %s %s: tainted > received", k, at.Asset)
			}
		}
	}
	for a, bySink := range r.Sinks {
		for k, m := range bySink {
			for s, v := range m {
				nonNeg("sink "+string(a)+" "+k+" "+s, v)
			}
		}
	}
}

type key struct {
	ref, src string
	hop      uint32
}

// compareWithInt holds the integer result ir to the exact result er of the same chain.
func compareWithInt(t *rapid.T, c *chainCase, er *exact.Result, ir *trace.Result) {
	// Seeds inject whole units, in both engines alike, per asset and source.
	if len(er.Injected) != len(ir.Injected) {
		t.Fatalf("injected: exact %v, integer %v", er.Injected, ir.Injected)
	}
	for a, m := range ir.Injected {
		if len(er.Injected[a]) != len(m) {
			t.Fatalf("injected %s: exact %v, integer %v", a, er.Injected[a], m)
		}
		for s, v := range m {
			if e := er.Injected[a][s]; e == nil || e.Cmp(new(big.Rat).SetInt(v.ToBig())) != 0 {
				t.Fatalf("injected %s %s: exact %v, integer %s", a, s, e, v.Dec())
			}
		}
	}
	// The same exchanges, each with the same assets (a row per asset that anything paid,
	// tainted or not), and the same addresses with the same assets and received values:
	// none of that depends on how the taint was split.
	if len(er.Exposure) != len(ir.Exposure) {
		t.Fatalf("exposure: exact lists %d exchanges, integer %d", len(er.Exposure), len(ir.Exposure))
	}
	for l, ix := range ir.Exposure {
		ex := er.Exposure[l]
		if ex == nil {
			t.Fatalf("exposure: exchange %s missing in exact mode", l)
		}
		if fmt.Sprint(ex.SortedAssets()) != fmt.Sprint(ix.SortedAssets()) {
			t.Fatalf("exposure %s: exact assets %v, integer %v", l, ex.SortedAssets(), ix.SortedAssets())
		}
	}
	if len(er.Addresses) != len(ir.Addresses) {
		t.Fatalf("addresses: exact %d, integer %d", len(er.Addresses), len(ir.Addresses))
	}
	for a, ia := range ir.Addresses {
		ea := er.Addresses[a]
		if ea == nil || len(ea.Assets) != len(ia.Assets) {
			t.Fatalf("address %s: exact %v, integer %v", a, ea, ia)
		}
		for i, it := range ia.Assets {
			et := ea.Assets[i]
			if et.Asset != it.Asset || et.Received.Cmp(new(big.Rat).SetInt(it.Received.ToBig())) != 0 {
				t.Fatalf("address %s: exact %s received %s, integer %s received %s", a, et.Asset, et.Received.RatString(), it.Asset, it.Received.Dec())
			}
		}
	}
	es, is := er.Stats, ir.Stats
	es.TaintedTxs, is.TaintedTxs = 0, 0 // taint that rounds away in integers is still taint here
	if fmt.Sprint(es) != fmt.Sprint(is) {
		t.Fatalf("stats: exact %+v, integer %+v", er.Stats, ir.Stats)
	}
	if c.Params.MinTaint.IsZero() && c.Params.MinFraction == nil {
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
		// An exchange's taint per (source, hop) sums movements that are disjoint at
		// that hop, so the same bound holds for it.
		for l, x := range er.Exposure {
			for a, ax := range x.Assets {
				addE("exposure "+l+" "+string(a), ax.BySourceHop)
			}
		}
		for l, x := range ir.Exposure {
			for a, ax := range x.Assets {
				addI("exposure "+l+" "+string(a), ax.BySourceHop)
				// Every movement the integer replay taints carries taint in the exact
				// one too (a Hamilton part is 0 where the exact share is), so every
				// internal arrival the integer exposure counts as received, the exact
				// one counts too (v2 A.2); it may count more.
				if e := er.Exposure[l].Asset(a).ReceivedTotal; e.Cmp(new(big.Rat).SetInt(ax.ReceivedTotal.ToBig())) < 0 {
					t.Fatalf("exposure %s %s: exact received %s < integer %s", l, a, e.RatString(), ax.ReceivedTotal.Dec())
				}
			}
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
		er := c.runExact(t, c.Params)
		checkExactInvariants(t, er)
		compareWithInt(t, c, er, c.runInt(t, c.Params))
		// The same chain without dust pruning, where the rounding bound holds.
		p := c.Params
		p.MinTaint, p.MinFraction = graph.Amount{}, nil
		c.Params = p
		er = c.runExact(t, p)
		checkExactInvariants(t, er)
		compareWithInt(t, c, er, c.runInt(t, p))
	})
}

func TestPropertyAccount(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genAccount(t)
		er := c.runExact(t, c.Params)
		checkExactInvariants(t, er)
		compareWithInt(t, c, er, c.runInt(t, c.Params))
		p := c.Params
		p.MinTaint, p.MinFraction = graph.Amount{}, nil
		c.Params = p
		er = c.runExact(t, p)
		checkExactInvariants(t, er)
		compareWithInt(t, c, er, c.runInt(t, p))
	})
}

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

package exact

import (
	"math/big"
	"sort"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// comp is a taint component (source, hop). src indexes Engine.sources, which is 1-based
// and in bytewise order of the names, so that comparing ids compares names, as the
// result order requires; 0 is CLEAN, which a composition never holds.
type comp struct {
	src uint32
	hop uint32
}

func (c comp) less(d comp) bool {
	if c.src != d.src {
		return c.src < d.src
	}
	return c.hop < d.hop
}

// seg is an amount of one component. The rational is never changed once made: every
// operation returns a new one, so that compositions, records and results may share them.
type seg struct {
	c   comp
	amt *big.Rat
}

// composition is haircut's state of an output, holding or movement: the tainted
// components sorted by (source, hop), each once, every amount > 0; the clean rest is
// implicit (value − taint), as in package trace. The ordered methods use the same type
// for their lot sequences, CLEAN lots (source 0) included (sequence.go); taint, sinkAll
// and addLinkedIn skip CLEAN lots so that both forms go through them.
type composition []seg

// taint returns the sum of the components.
func (s composition) taint() *big.Rat {
	t := new(big.Rat)
	for _, g := range s {
		if g.c.src != 0 { // a lot sequence's CLEAN lots are no taint
			t.Add(t, g.amt)
		}
	}
	return t
}

// shifted returns a copy of s with every hop moved on by one: the taint passes through
// one more transaction or transfer (spec §4). Adding the same hop to all keeps the order.
func (s composition) shifted() composition {
	if len(s) == 0 {
		return nil
	}
	out := make(composition, len(s))
	for i, g := range s {
		out[i] = seg{c: comp{src: g.c.src, hop: g.c.hop + 1}, amt: g.amt}
	}
	return out
}

// add returns s plus amt of component c (amt ≥ 0), keeping the order.
func (s composition) add(c comp, amt *big.Rat) composition {
	if amt.Sign() == 0 {
		return s
	}
	i := sort.Search(len(s), func(i int) bool { return !s[i].c.less(c) })
	if i < len(s) && s[i].c == c {
		out := append(composition(nil), s...)
		out[i].amt = new(big.Rat).Add(s[i].amt, amt)
		return out
	}
	out := make(composition, 0, len(s)+1)
	out = append(out, s[:i]...)
	out = append(out, seg{c: c, amt: amt})
	return append(out, s[i:]...)
}

// merge returns the sum of two compositions, in linear time.
func merge(a, b composition) composition {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make(composition, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].c == b[j].c:
			out = append(out, seg{c: a[i].c, amt: new(big.Rat).Add(a[i].amt, b[j].amt)})
			i++
			j++
		case a[i].c.less(b[j].c):
			out = append(out, a[i])
			i++
		default:
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// share returns the exact proportional part of s that a units of a pool worth total
// carry: a·s[c]/total for every component. This is haircut without rounding (spec §6,
// §7.3): every recipient gets the same tainted fraction, and a sequence of withdrawals
// from one pool gives each the same share as one withdrawal from the original pool would.
func (s composition) share(a, total *big.Int) composition {
	if len(s) == 0 || a.Sign() == 0 || total.Sign() == 0 {
		return nil
	}
	if a.Cmp(total) == 0 {
		return s // everything moves
	}
	f := new(big.Rat).SetFrac(a, total)
	out := make(composition, 0, len(s))
	for _, g := range s {
		out = append(out, seg{c: g.c, amt: new(big.Rat).Mul(g.amt, f)})
	}
	return out
}

// minus returns s − t, where t ≤ s component by component (t is a share of s); emptied
// components are dropped.
func (s composition) minus(t composition) composition {
	if len(t) == 0 {
		return s
	}
	out := make(composition, 0, len(s))
	j := 0
	for _, g := range s {
		if j < len(t) && t[j].c == g.c {
			d := new(big.Rat).Sub(g.amt, t[j].amt)
			j++
			if d.Sign() <= 0 {
				continue
			}
			out = append(out, seg{c: g.c, amt: d})
			continue
		}
		out = append(out, g)
	}
	return out
}

// without returns s without the components for which drop is true.
func (s composition) without(drop func(comp) bool) composition {
	var out composition
	for _, g := range s {
		if !drop(g.c) {
			out = append(out, g)
		}
	}
	return out
}

// srcTotals returns t_s per source of s: the sources in ascending order with their sums.
func (s composition) srcTotals() []seg {
	var out []seg
	for _, g := range s {
		if n := len(out); n > 0 && out[n-1].c.src == g.c.src {
			out[n-1].amt = new(big.Rat).Add(out[n-1].amt, g.amt)
			continue
		}
		out = append(out, seg{c: comp{src: g.c.src}, amt: g.amt})
	}
	return out
}

// ---- conversions ----

// ratInt returns the integer a as a rational.
func ratInt(a *big.Int) *big.Rat { return new(big.Rat).SetInt(a) }

// ratAmount returns a graph amount as a rational.
func ratAmount(a *graph.Amount) *big.Rat { return new(big.Rat).SetInt(a.ToBig()) }

// prune applies max_hops and then the dust rule (spec §9.2) to the composition of one
// output or transfer worth value, as trace's engine does, with rational comparisons:
// t_s < min_taint, t_s/value < min_fraction. Pruned taint goes to its sink and the
// components become clean (leave the composition).
func (e *Engine) prune(st composition, value *big.Int) composition {
	if e.seq {
		return e.pruneSeq(st, value)
	}
	p := &e.cfg.Params
	if p.MaxHops != nil {
		maxHops := *p.MaxHops
		for _, g := range st {
			if g.c.hop > maxHops {
				e.sink(trace.SinkPrunedHops, g.c.src, g.amt)
			}
		}
		st = st.without(func(c comp) bool { return c.hop > maxHops })
	}
	if p.MinTaint.IsZero() && p.MinFraction == nil {
		return st
	}
	minTaint := ratAmount(&p.MinTaint)
	var minFrac *big.Rat
	if p.MinFraction != nil {
		minFrac = new(big.Rat).SetFrac(p.MinFraction.Num.ToBig(), p.MinFraction.Den.ToBig())
	}
	pruned := map[uint32]bool{}
	for _, t := range st.srcTotals() {
		cut := t.amt.Cmp(minTaint) < 0
		if !cut && minFrac != nil && value.Sign() != 0 {
			frac := new(big.Rat).Quo(t.amt, ratInt(value))
			cut = frac.Cmp(minFrac) < 0
		}
		if cut {
			e.sink(trace.SinkPrunedDust, t.c.src, t.amt)
			pruned[t.c.src] = true
		}
	}
	if len(pruned) == 0 {
		return st
	}
	return st.without(func(c comp) bool { return pruned[c.src] })
}

// sink adds amt of source src to sink k, in the current asset.
func (e *Engine) sink(k trace.Sink, src uint32, amt *big.Rat) {
	bySink := e.sinks[e.curAsset]
	if bySink == nil {
		bySink = map[trace.Sink][]*big.Rat{}
		e.sinks[e.curAsset] = bySink
	}
	row := bySink[k]
	if row == nil {
		row = zeros(len(e.sources))
		bySink[k] = row
	}
	row[src] = new(big.Rat).Add(row[src], amt)
}

// sinkAll moves the taint of st into sink k, per source.
func (e *Engine) sinkAll(k trace.Sink, st composition) {
	for _, g := range st {
		if g.c.src != 0 { // a lot sequence's CLEAN lots are no taint
			e.sink(k, g.c.src, g.amt)
		}
	}
}

package exact

import (
	"math/big"
	"sort"

	"github.com/chaintrace/chaintrace/trace"
)

// The ordered methods (FIFO, LIFO, TIHO, seniority; spec §7.4–7.6, §8.3) keep a holding's
// or an output's units as a lot sequence: a composition in chronological order, CLEAN
// lots included (comp{} — source 0 — is CLEAN), adjacent equal components merged. Without
// links every lot is a whole number of units; a link's rescaling (§15.5) is exactly
// proportional in exact mode, so lots become fractions of units, and these functions
// replay the integer engine's rules (trace/method.go, trace/account.go, trace/link.go)
// on rationals. A movement's sequence is nil when it carries no taint.

var cleanComp = comp{}

func (c comp) clean() bool { return c.src == 0 }

// appendLot appends g to the sequence s, merging it into the last lot when they are the
// same component; a lot of 0 units is dropped.
func appendLot(s composition, g seg) composition {
	if g.amt.Sign() == 0 {
		return s
	}
	if n := len(s); n > 0 && s[n-1].c == g.c {
		out := append(composition(nil), s...)
		out[n-1].amt = new(big.Rat).Add(s[n-1].amt, g.amt)
		return out
	}
	return append(s[:len(s):len(s)], g)
}

// appendLots appends every lot of t to s.
func appendLots(s, t composition) composition {
	for _, g := range t {
		s = appendLot(s, g)
	}
	return s
}

// hasTaint says whether a sequence holds a tainted lot.
func hasTaint(s composition) bool {
	for _, g := range s {
		if !g.c.clean() {
			return true
		}
	}
	return false
}

// orNil returns s, or nil when it holds no tainted lot.
func orNil(s composition) composition {
	if !hasTaint(s) {
		return nil
	}
	return s
}

// aggregate returns the tainted components of a sequence as a composition (sorted by
// source and hop, each once), as results show them.
func aggregate(s composition) composition {
	var out composition
	for _, g := range s {
		if !g.c.clean() {
			out = out.add(g.c, g.amt)
		}
	}
	return out
}

// takeFront removes need units from the front of s: what leaves, in order, and the rest.
func takeFront(s composition, need *big.Rat) (taken, rest composition) {
	need = new(big.Rat).Set(need)
	for i, g := range s {
		if need.Sign() == 0 {
			return taken, s[i:]
		}
		if g.amt.Cmp(need) > 0 {
			taken = appendLot(taken, seg{c: g.c, amt: need})
			rest = append(composition{{c: g.c, amt: new(big.Rat).Sub(g.amt, need)}}, s[i+1:]...)
			return taken, rest
		}
		taken = appendLot(taken, g)
		need.Sub(need, g.amt)
	}
	return taken, nil
}

// takeBack removes need units from the back of s: what leaves, in chronological order,
// and the rest.
func takeBack(s composition, need *big.Rat) (taken, rest composition) {
	need = new(big.Rat).Set(need)
	i := len(s)
	var partial *seg
	for i > 0 && need.Sign() != 0 {
		g := s[i-1]
		if g.amt.Cmp(need) > 0 {
			partial = &seg{c: g.c, amt: need}
			rest = append(append(composition(nil), s[:i-1]...), seg{c: g.c, amt: new(big.Rat).Sub(g.amt, need)})
			break
		}
		need.Sub(need, g.amt)
		i--
	}
	if partial == nil {
		rest = s[:i:i]
	} else {
		taken = appendLot(taken, *partial)
	}
	return appendLots(taken, s[i:]), rest
}

// takeSeniority removes need units, tainted lots first (oldest first), then clean lots
// oldest first (spec §8.3): what leaves, in chronological order, and the rest.
func takeSeniority(s composition, need *big.Rat) (taken, rest composition) {
	need = new(big.Rat).Set(need)
	take := make([]*big.Rat, len(s))
	for pass := 0; pass < 2 && need.Sign() != 0; pass++ {
		for i, g := range s {
			if need.Sign() == 0 {
				break
			}
			if g.c.clean() != (pass == 1) {
				continue
			}
			if g.amt.Cmp(need) > 0 {
				take[i] = need
				need = new(big.Rat)
			} else {
				take[i] = g.amt
				need = new(big.Rat).Sub(need, g.amt)
			}
		}
	}
	for i, g := range s {
		left := g.amt
		if take[i] != nil {
			taken = appendLot(taken, seg{c: g.c, amt: take[i]})
			left = new(big.Rat).Sub(g.amt, take[i])
		}
		rest = appendLot(rest, seg{c: g.c, amt: left})
	}
	return taken, rest
}

// take removes a units from an account holding's sequence st under the engine's method.
func (e *Engine) take(st composition, a *big.Int) (rest, moved composition) {
	need := ratInt(a)
	switch e.cfg.Method {
	case trace.FIFO:
		moved, rest = takeFront(st, need)
	case trace.LIFO:
		moved, rest = takeBack(st, need)
	default:
		moved, rest = takeSeniority(st, need)
	}
	return rest, moved
}

// splitSeq distributes a UTXO transaction's unit stream (the inputs' sequences in input
// order, after the hop +1) over its outputs (values) and its fee (spec §7.4–7.6).
func (e *Engine) splitSeq(stream composition, values []*big.Int, fee *big.Int) (outs []composition, feeSt composition) {
	if e.cfg.Method == trace.TIHO {
		// Tainted lots first, then clean lots, each in stream order (§7.6).
		var t composition
		for _, g := range stream {
			if !g.c.clean() {
				t = appendLot(t, g)
			}
		}
		for _, g := range stream {
			if g.c.clean() {
				t = appendLot(t, g)
			}
		}
		stream = t
	}
	order := make([]int, len(values))
	for i := range order {
		order[i] = i
	}
	if e.cfg.Method == trace.TIHO {
		// Outputs by value descending, the lower index first on ties.
		sort.SliceStable(order, func(a, b int) bool { return values[order[a]].Cmp(values[order[b]]) > 0 })
	}
	order = append(order, len(values))
	outs = make([]composition, len(values))
	for _, r := range order {
		want := fee
		if r < len(values) {
			want = values[r]
		}
		if want.Sign() == 0 {
			continue
		}
		var got composition
		if e.cfg.Method == trace.LIFO {
			got, stream = takeBack(stream, ratInt(want))
		} else {
			got, stream = takeFront(stream, ratInt(want))
		}
		if r < len(values) {
			outs[r] = got
		} else {
			feeSt = got
		}
	}
	return outs, feeSt
}

// rescaleSeq returns a link buffer (lots worth v in all) rescaled to an out-leg of value
// w, lot by lot, exactly: w·lot/v, lots that get 0 dropped, adjacent equal components
// merged, order kept (§15.5).
func rescaleSeq(buf composition, v, w *big.Int) composition {
	if v.Sign() == 0 || w.Sign() == 0 {
		return nil
	}
	f := new(big.Rat).SetFrac(w, v)
	var out composition
	for _, g := range buf {
		out = appendLot(out, seg{c: g.c, amt: new(big.Rat).Mul(g.amt, f)})
	}
	return out
}

// hopSeq moves every tainted lot one hop on; nil when none is tainted.
func hopSeq(s composition) composition {
	if !hasTaint(s) {
		return nil
	}
	var out composition
	for _, g := range s {
		if !g.c.clean() {
			g.c.hop++
		}
		out = appendLot(out, g)
	}
	return out
}

// cleaned returns s with the lots for which drop is true made CLEAN, adjacent lots
// merged; nil when no tainted lot is left.
func cleaned(s composition, drop func(comp) bool) composition {
	var out composition
	for _, g := range s {
		if !g.c.clean() && drop(g.c) {
			g.c = cleanComp
		}
		out = appendLot(out, g)
	}
	return orNil(out)
}

// pruneSeq is prune on a sequence worth value: pruned lots become CLEAN (spec §9.2).
func (e *Engine) pruneSeq(st composition, value *big.Int) composition {
	p := &e.cfg.Params
	if p.MaxHops != nil {
		maxHops := *p.MaxHops
		for _, g := range st {
			if !g.c.clean() && g.c.hop > maxHops {
				e.sink(trace.SinkPrunedHops, g.c.src, g.amt)
			}
		}
		st = cleaned(st, func(c comp) bool { return c.hop > maxHops })
	}
	if len(st) == 0 || p.MinTaint.IsZero() && p.MinFraction == nil {
		return st
	}
	minTaint := ratAmount(&p.MinTaint)
	var minFrac *big.Rat
	if p.MinFraction != nil {
		minFrac = new(big.Rat).SetFrac(p.MinFraction.Num.ToBig(), p.MinFraction.Den.ToBig())
	}
	pruned := map[uint32]bool{}
	for _, t := range aggregate(st).srcTotals() {
		cut := t.amt.Cmp(minTaint) < 0
		if !cut && minFrac != nil && value.Sign() != 0 {
			cut = new(big.Rat).Quo(t.amt, ratInt(value)).Cmp(minFrac) < 0
		}
		if cut {
			e.sink(trace.SinkPrunedDust, t.c.src, t.amt)
			pruned[t.c.src] = true
		}
	}
	if len(pruned) == 0 {
		return st
	}
	return cleaned(st, func(c comp) bool { return pruned[c.src] })
}

package trace

import (
	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

// exposureAcc accumulates one exchange's exposure (spec §10.2).
type exposureAcc struct {
	any         bool
	received    uint256.Int
	tainted     uint256.Int
	direct      uint256.Int
	indirect    uint256.Int
	bySource    map[uint32]*uint256.Int
	bySourceHop map[comp]*uint256.Int
	deposits    []int32
	byAsset     map[graph.Asset]*[2]uint256.Int // received, tainted
}

// deposit records an arrival of value at an address of exchange label li, carrying state
// st (evidence node mov, -1 when clean).
func (e *Engine) deposit(li int32, asset graph.Asset, mov int32, value *uint256.Int, st []seg) {
	x := &e.exposure[li]
	x.any = true
	e.sum(&x.received, value)
	if x.byAsset == nil {
		x.byAsset = map[graph.Asset]*[2]uint256.Int{}
	}
	pa := x.byAsset[asset]
	if pa == nil {
		pa = new([2]uint256.Int)
		x.byAsset[asset] = pa
	}
	e.sum(&pa[0], value)
	if len(st) == 0 {
		return
	}
	t := e.taintAmount(st, value)
	e.sum(&pa[1], &t)
	if x.bySource == nil {
		x.bySource = map[uint32]*uint256.Int{}
		x.bySourceHop = map[comp]*uint256.Int{}
	}
	add := func(m map[uint32]*uint256.Int, k uint32, v *uint256.Int) {
		if m[k] == nil {
			m[k] = new(uint256.Int)
		}
		e.sum(m[k], v)
	}
	addC := func(k comp, v *uint256.Int) {
		if x.bySourceHop[k] == nil {
			x.bySourceHop[k] = new(uint256.Int)
		}
		e.sum(x.bySourceHop[k], v)
	}
	if e.kind == sourceSet {
		// Poison counts the deposit's full value once, and for every source present.
		e.sum(&x.tainted, value)
		minHop := ^uint32(0)
		for _, g := range st {
			add(x.bySource, g.c.src, value)
			addC(g.c, value)
			if g.c.hop < minHop {
				minHop = g.c.hop
			}
		}
		if minHop <= 1 {
			e.sum(&x.direct, value)
		} else {
			e.sum(&x.indirect, value)
		}
	} else {
		for _, g := range st {
			if g.c.clean() {
				continue
			}
			e.sum(&x.tainted, &g.amt)
			add(x.bySource, g.c.src, &g.amt)
			addC(g.c, &g.amt)
			if g.c.hop <= 1 {
				e.sum(&x.direct, &g.amt)
			} else {
				e.sum(&x.indirect, &g.amt)
			}
		}
	}
	if mov >= 0 {
		x.deposits = append(x.deposits, mov)
	}
}

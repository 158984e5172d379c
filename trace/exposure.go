package trace

import (
	"github.com/holiman/uint256"
)

// exposureAcc accumulates one exchange's exposure (spec §10.2, v2 A.1): one row per asset
// in which any movement paid one of its addresses.
type exposureAcc struct {
	assets []*assetExposureAcc // by asset index; nil: nothing of that asset arrived
}

// assetExposureAcc is one exchange's exposure in one asset.
type assetExposureAcc struct {
	received    uint256.Int
	tainted     uint256.Int
	direct      uint256.Int
	indirect    uint256.Int
	bySource    map[uint32]*uint256.Int
	bySourceHop map[comp]*uint256.Int
	deposits    []int32
}

// exposureRow returns exchange label li's row for asset index as, creating it: an asset
// in which anything paid the exchange is listed, even when none of it was tainted.
func (e *Engine) exposureRow(li, as int32) *assetExposureAcc {
	x := &e.exposure[li]
	for int(as) >= len(x.assets) {
		x.assets = append(x.assets, nil)
	}
	if x.assets[as] == nil {
		x.assets[as] = &assetExposureAcc{}
	}
	return x.assets[as]
}

// arrive records a movement of value (carrying state st, evidence node mov; st empty and
// mov -1 when clean) that paid an address of exchange label li, in the engine's current
// asset. internal says it is self-change or a movement between the label's own addresses:
// such a movement counts as received only when it carries taint (v2 A.2), so that every
// taint that reaches an exchange shows in its exposure and the share never exceeds 1.
func (e *Engine) arrive(li int32, mov int32, value *uint256.Int, st []seg, internal bool) {
	x := e.exposureRow(li, e.curAsset)
	if internal && len(st) == 0 {
		return
	}
	e.sum(&x.received, value)
	if len(st) == 0 {
		return
	}
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

package exact

import (
	"math/big"

	"github.com/chaintrace/chaintrace/graph"
)

// exposureAcc accumulates one exchange's exposure (spec §10.2, v2 A.1): one row per asset
// in which any movement paid one of its addresses.
type exposureAcc struct {
	assets map[graph.Asset]*assetExposureAcc
}

// assetExposureAcc is one exchange's exposure in one asset.
type assetExposureAcc struct {
	received    *big.Int
	tainted     *big.Rat
	direct      *big.Rat
	indirect    *big.Rat
	bySource    map[uint32]*big.Rat
	bySourceHop map[comp]*big.Rat
	deposits    []Deposit
}

// exposureRow returns exchange label li's row for asset, creating it: an asset in which
// anything paid the exchange is listed, even when none of it was tainted.
func (e *Engine) exposureRow(li int, asset graph.Asset) *assetExposureAcc {
	x := &e.exposure[li]
	if x.assets == nil {
		x.assets = map[graph.Asset]*assetExposureAcc{}
	}
	row := x.assets[asset]
	if row == nil {
		row = &assetExposureAcc{
			received: new(big.Int), tainted: new(big.Rat), direct: new(big.Rat), indirect: new(big.Rat),
			bySource: map[uint32]*big.Rat{}, bySourceHop: map[comp]*big.Rat{},
		}
		x.assets[asset] = row
	}
	return row
}

// arrive records a movement of value in asset (reference ref, paid to address to,
// carrying st) at an address of exchange label li, as trace's engine does. internal says
// it is self-change or a movement between the label's own addresses: such a movement
// counts as received only when it carries taint (v2 A.2), so that every taint that
// reaches an exchange shows in its exposure and the share never exceeds 1. A tainted
// arrival is listed among the deposits.
func (e *Engine) arrive(li int, asset graph.Asset, ref string, to graph.Address, value *big.Int, st composition, internal bool) {
	x := e.exposureRow(li, asset)
	if e.seq {
		st = aggregate(st) // the tainted components; nil when there are none
	}
	if internal && len(st) == 0 {
		return
	}
	x.received = new(big.Int).Add(x.received, value)
	if len(st) == 0 {
		return
	}
	for _, g := range st {
		x.tainted = new(big.Rat).Add(x.tainted, g.amt)
		x.bySource[g.c.src] = addRat(x.bySource[g.c.src], g.amt)
		x.bySourceHop[g.c] = addRat(x.bySourceHop[g.c], g.amt)
		if g.c.hop <= 1 {
			x.direct = new(big.Rat).Add(x.direct, g.amt)
		} else {
			x.indirect = new(big.Rat).Add(x.indirect, g.amt)
		}
	}
	x.deposits = append(x.deposits, Deposit{Ref: ref, Address: to, Asset: asset, Value: ratInt(value), Taint: e.components(st), Tainted: st.taint()})
}

// addRat returns a + b, where a nil a is zero.
func addRat(a, b *big.Rat) *big.Rat {
	if a == nil {
		return new(big.Rat).Set(b)
	}
	return new(big.Rat).Add(a, b)
}

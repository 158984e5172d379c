package exact

import (
	"math/big"

	"github.com/chaintrace/chaintrace/graph"
)

// exposureAcc accumulates one exchange's exposure (spec §10.2).
type exposureAcc struct {
	any         bool
	received    *big.Int
	tainted     *big.Rat
	direct      *big.Rat
	indirect    *big.Rat
	bySource    map[uint32]*big.Rat
	bySourceHop map[comp]*big.Rat
	deposits    []Deposit
	byAsset     map[graph.Asset]*assetAcc
}

type assetAcc struct {
	received *big.Int
	tainted  *big.Rat
}

// deposit records an arrival of value at an address of exchange label li (reference ref,
// address to), carrying st; a tainted one is listed among the deposits.
func (e *Engine) deposit(li int, asset graph.Asset, ref string, to graph.Address, value *big.Int, st composition) {
	x := &e.exposure[li]
	if !x.any {
		*x = exposureAcc{
			any: true, received: new(big.Int), tainted: new(big.Rat), direct: new(big.Rat), indirect: new(big.Rat),
			bySource: map[uint32]*big.Rat{}, bySourceHop: map[comp]*big.Rat{}, byAsset: map[graph.Asset]*assetAcc{},
		}
	}
	x.received = new(big.Int).Add(x.received, value)
	pa := x.byAsset[asset]
	if pa == nil {
		pa = &assetAcc{received: new(big.Int), tainted: new(big.Rat)}
		x.byAsset[asset] = pa
	}
	pa.received = new(big.Int).Add(pa.received, value)
	if len(st) == 0 {
		return
	}
	t := st.taint()
	pa.tainted = new(big.Rat).Add(pa.tainted, t)
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
	x.deposits = append(x.deposits, Deposit{Ref: ref, Address: to, Asset: asset, Value: ratInt(value), Taint: e.components(st), Tainted: t})
}

// addRat returns a + b, where a nil a is zero.
func addRat(a, b *big.Rat) *big.Rat {
	if a == nil {
		return new(big.Rat).Set(b)
	}
	return new(big.Rat).Add(a, b)
}

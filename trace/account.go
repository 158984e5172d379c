package trace

import (
	"context"
	"errors"
	"fmt"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

// applyAccountTx replays one account-model transaction (spec §3.2, §8): the fee first,
// then, if the transaction succeeded, its transfers in execution order.
func (e *Engine) applyAccountTx(b *graph.Block, tx *graph.AccountTx) error {
	e.txTainted = false
	err := e.applyAccountTransfers(b, tx)
	if e.txTainted {
		e.stats.TaintedTxs++
	}
	return err
}

func (e *Engine) applyAccountTransfers(b *graph.Block, tx *graph.AccountTx) error {
	pos := graph.Position{Height: b.Height, TxIndex: tx.Index, Seq: -1}
	if !tx.Fee.IsZero() {
		// Kept in the engine, as the move that points at it is.
		x := &e.feeX
		*x = graph.Transfer{ID: tx.FeeTransferID(), Asset: feeAsset(b.Chain), From: tx.From, To: FeeSink, Amount: tx.Fee}
		if err := e.transfer(b, tx, x, pos); err != nil {
			return err
		}
		if e.overflow {
			return e.overflowErr(b, tx.Hash, x)
		}
	}
	if !tx.Success {
		return nil // a failed transaction moves nothing but its fee
	}
	for i := range tx.Transfers {
		x := &tx.Transfers[i]
		pos.Seq = int32(i)
		if x.Reverted {
			continue
		}
		if err := e.transfer(b, tx, x, pos); err != nil {
			return err
		}
		if e.overflow {
			return e.overflowErr(b, tx.Hash, x)
		}
	}
	return nil
}

func feeAsset(c graph.Chain) graph.Asset {
	if c == "" {
		return graph.ETH
	}
	return c.NativeAsset()
}

// legs says whether a transfer is a leg of a link (spec §15): in and out are link indexes,
// -1 for none.
type legs struct{ in, out int32 }

// move is one transfer on its way through the steps of spec §8.2.
type move struct {
	b      *graph.Block
	tx     *graph.AccountTx
	x      *graph.Transfer
	pos    graph.Position
	amount uint256.Int
	legs   legs
	seeds  []int // transfer seeds naming it
	moved  []seg // the composition that moves (step 2 on)
	mov    int32 // its evidence node (-1 when it carries no taint)
	taint  uint256.Int
}

// transfer processes one transfer (spec §8.2): skip (step 1), debit (2), hop (3), transfer
// seeds (4), prune (5), record the evidence, credit (6). Links (spec §15) hook into the
// debit (an out-leg takes its link's buffer) and the credit (an in-leg fills it).
func (e *Engine) transfer(b *graph.Block, tx *graph.AccountTx, x *graph.Transfer, pos graph.Position) error {
	if e.traced != nil && !e.traced[x.Asset] {
		e.stats.SkippedTransfers++
		return nil
	}
	e.stats.Transfers++
	e.sp.reset()
	e.curAsset = e.asset(x.Asset)
	// The move lives in the engine: it escapes to the heap as a local (one allocation per
	// transfer, 40 % of the account replay's time).
	m := &e.mv
	*m = move{b: b, tx: tx, x: x, pos: pos, amount: x.Amount, seeds: e.xferSeeds[x.ID], mov: -1}
	var err error
	if m.legs, err = e.transferLegs(m); err != nil {
		return err
	}
	if x.Amount.IsZero() || x.From == x.To {
		return e.skip(m)
	}
	m.moved = e.moved[:0]
	e.parents = e.parents[:0]
	if err := e.debit(m); err != nil {
		return err
	}
	e.hop(m)
	e.applyTransferSeeds(m)
	// Step 5: prune. Fees are never pruned: the fee sink is exact (spec §9.2, v2 A.3).
	if len(m.moved) > 0 && x.To != FeeSink {
		m.moved = e.prune(m.moved, &m.amount)
	}
	e.moved = m.moved
	e.record(m)
	return e.credit(m)
}

// transferLegs looks the transfer up among this chain's link legs and checks what the
// spec forbids of a leg (§15.9).
func (e *Engine) transferLegs(m *move) (legs, error) {
	l := legs{in: -1, out: -1}
	if e.links == nil {
		return l, nil
	}
	x := m.x
	var isIn, isOut bool
	if l.in, isIn = e.inLegs[x.ID]; isIn {
		e.legSeen[x.ID] = true
	} else {
		l.in = -1
	}
	if l.out, isOut = e.outLegs[x.ID]; isOut {
		e.legSeen[x.ID] = true
	} else {
		l.out = -1
	}
	if (isIn || isOut) && x.From == x.To {
		return l, e.legErr(m.b, m.tx, x, l.in, l.out, "a leg is a self-transfer")
	}
	if isOut && len(m.seeds) > 0 {
		return l, e.legErr(m.b, m.tx, x, -1, l.out, "an out-leg is a transfer seed")
	}
	return l, nil
}

// skip is step 1: a zero transfer or a self-transfer moves nothing. A zero-value leg still
// counts: an in-leg adds nothing to its link's buffer, an out-leg of value 0 receives
// nothing (spec §15.5).
func (e *Engine) skip(m *move) error {
	x := m.x
	for _, si := range m.seeds {
		e.seedUsed[si] = true
	}
	if m.legs.in >= 0 {
		if err := e.checkVenue(m.b, m.tx, x, m.legs.in, -1, x.To); err != nil {
			return err
		}
		if err := e.linkIn(m.legs.in, x.ID, x.Asset, &x.Amount, nil, -1); err != nil {
			return e.wrapLegErr(m.b, m.tx, err)
		}
	}
	if m.legs.out >= 0 {
		if err := e.checkVenue(m.b, m.tx, x, -1, m.legs.out, x.From); err != nil {
			return err
		}
		if _, _, err := e.linkOutState(m.legs.out, x.ID, x.Asset, &x.Amount); err != nil {
			return e.wrapLegErr(m.b, m.tx, err)
		}
		e.recordLinkOut(m.legs.out, x.ID, x.Asset, &x.Amount, nil)
	}
	return nil
}

// debit is step 2: the composition of the units that leave the sender — new clean units
// for a mint, the source's taint for a source account, else the method's take from the
// sender's holding (spec §8.3). An out-leg's (always clean: a venue holds no taint) is then
// replaced by its link's buffer rescaled to its value (§15.5).
func (e *Engine) debit(m *move) error {
	x, amount := m.x, &m.amount
	if x.Kind.IsMint() || x.From == graph.ZeroAddress {
		return nil // a mint: new clean units
	}
	ai := e.addr(x.From)
	h := e.holdingAt(ai, x.Asset)
	if h.bal.Lt(amount) {
		if !e.cfg.Params.ImplicitBalances {
			return fmt.Errorf("block %d tx %s transfer %s: %w: %s holds %s %s, sends %s", m.b.Height, m.tx.Hash, x.ID, ErrOverdraft, x.From, h.bal.Dec(), x.Asset, amount.Dec())
		}
		// Clean funds from before the window cover the shortfall: the oldest units.
		var short uint256.Int
		short.Sub(amount, &h.bal)
		if e.kind == sequence {
			h.st = append([]seg{{c: cleanComp, amt: short}}, h.st...)
			h.st = mergeRuns(h.st)
		}
		h.bal.Add(&h.bal, &short)
		if e.cfg.OpeningBalances != nil { // only an opening balance needs to know it
			e.addImplicit(h, &short)
		}
		e.stats.ImplicitBalanceDebits++
	}
	if e.addrs[ai].seedSrc != 0 {
		// A source account: everything it sends is tainted (spec §5.2).
		a := &e.addrs[ai]
		e.seedUsed[a.seedIdx] = true
		m.moved = append(m.moved, seg{c: comp{src: a.seedSrc}, amt: *amount})
		e.sum(&e.injected[e.curAsset][a.seedSrc], amount)
		e.parents = append(e.parents, a.seedMov)
	} else if len(h.st) > 0 {
		h.st, m.moved = e.method.take(&e.sp, h.st, &h.bal, amount, m.moved)
		// Evidence: the arrivals that brought each component that now leaves.
		for _, g := range m.moved {
			if g.c.clean() {
				continue
			}
			for _, c := range h.contrib {
				if c.c == g.c {
					e.parents = append(e.parents, c.mov)
					break
				}
			}
		}
	}
	h.bal.Sub(&h.bal, amount)
	if m.legs.out >= 0 {
		if !e.addrs[ai].venue {
			return e.legErr(m.b, m.tx, x, -1, m.legs.out, fmt.Sprintf("an out-leg is not paid by a venue (%s is none)", x.From))
		}
		st, node, err := e.linkOutState(m.legs.out, x.ID, x.Asset, amount)
		if err != nil {
			return e.wrapLegErr(m.b, m.tx, err)
		}
		m.moved = append(m.moved[:0], st...)
		e.parents = append(e.parents[:0], node)
	}
	if e.addrs[ai].seedSrc != 0 && e.kind == sequence {
		// A source account's own taint is not tracked: keep its sequence one clean run
		// that matches the balance.
		h.st = h.st[:0]
		if !h.bal.IsZero() {
			h.st = append(h.st, seg{c: cleanComp, amt: h.bal})
		}
	}
	if len(h.st) == 0 {
		h.contrib = h.contrib[:0]
	}
	return nil
}

// hop is step 3: every tainted component moves one hop. What an out-leg brought in is
// counted in linked_in here, after the hop and before pruning (spec §15.5).
func (e *Engine) hop(m *move) {
	tainted := false
	for i := range m.moved {
		if !m.moved[i].c.clean() {
			m.moved[i].c.hop++
			tainted = true
		}
	}
	if !tainted {
		m.moved = m.moved[:0]
		return
	}
	e.txTainted = true
	if m.legs.out >= 0 {
		e.linkedIn(m.moved, &m.amount)
	}
}

// applyTransferSeeds is step 4: a transfer seed's units replace what the method computed,
// which goes to the overridden sink (spec §5.2); under poison its source joins the set.
func (e *Engine) applyTransferSeeds(m *move) {
	if len(m.seeds) == 0 {
		return
	}
	amount := &m.amount
	if e.kind != sourceSet && len(m.moved) > 0 {
		e.sinkAll(SinkOverridden, m.moved, amount)
	}
	var seeded []seg
	if e.kind == sourceSet {
		seeded = append(seeded, m.moved...)
	}
	var left uint256.Int
	left.Set(amount)
	first := -1
	for _, si := range m.seeds {
		s := e.cfg.Seeds[si]
		e.seedUsed[si] = true
		if left.IsZero() {
			continue
		}
		var n uint256.Int
		if s.Amount == nil || s.Amount.Gt(&left) {
			n.Set(&left)
		} else {
			n.Set(s.Amount)
		}
		if n.IsZero() {
			continue
		}
		src := e.srcID[s.Source]
		switch e.kind {
		case sourceSet:
			seeded = setAdd(seeded, comp{src: src})
		case composition:
			seeded = compAdd(seeded, comp{src: src}, &n)
		default:
			seeded = appendSeg(seeded, seg{c: comp{src: src}, amt: n})
		}
		e.sum(&e.injected[e.curAsset][src], &n)
		left.Sub(&left, &n)
		if first < 0 {
			first = si
		}
	}
	// The seeded units replace what the method computed (already moved to overridden);
	// with a zero amount the transfer arrives clean.
	if e.kind != sourceSet {
		e.parents = e.parents[:0]
	}
	if first >= 0 {
		if e.kind == sequence && !left.IsZero() {
			seeded = appendSeg(seeded, seg{c: cleanComp, amt: left})
		}
		e.parents = append(e.parents, e.ev.seedNode(first, e.cfg.Seeds[first], m.x.ID))
	}
	m.moved = append(m.moved[:0], seeded...)
}

// record keeps a tainted transfer as evidence, and an out-leg in its link's result.
func (e *Engine) record(m *move) {
	x := m.x
	if len(m.moved) > 0 {
		m.taint = e.taintAmount(m.moved, &m.amount)
		m.mov = e.addMov(movement{
			kind: movTransfer, ref: x.ID, tx: m.tx.Hash, pos: m.pos, from: x.From, to: x.To, asset: x.Asset,
			value: m.amount, taint: e.pk.pack(e.aggregate(m.moved, &m.amount)), parents: e.ev.parents(e.parents),
		})
	}
	if m.legs.out >= 0 {
		e.recordLinkOut(m.legs.out, x.ID, x.Asset, &m.amount, m.moved)
	}
}

// credit is step 6: the fee and burn sinks, or the recipient — a link's venue (in-leg),
// another venue, a seed address, an exchange, or an ordinary holding.
func (e *Engine) credit(m *move) error {
	x, amount, moved := m.x, &m.amount, m.moved
	if m.legs.in >= 0 {
		if err := e.checkVenue(m.b, m.tx, x, m.legs.in, -1, x.To); err != nil {
			return err
		}
	}
	switch {
	case x.To == FeeSink:
		if len(moved) > 0 {
			e.sinkAll(SinkFees, moved, amount)
		}
		return nil
	case x.To == graph.ZeroAddress:
		if len(moved) > 0 {
			e.sinkAll(SinkBurned, moved, amount)
		}
		return nil
	}
	ti := e.addr(x.To)
	internal := false
	if e.addrs[ti].exchange >= 0 {
		if fi, ok := e.lookup(x.From); ok && e.addrs[fi].exchange == e.addrs[ti].exchange {
			internal = true
		}
	}
	isSeed := e.addrs[ti].seedSrc != 0
	h := e.holdingAt(ti, x.Asset)
	e.sum(&h.bal, amount)
	if !isSeed && !internal {
		// Per asset only (v2 A.1): the address's own totals would add wei to token units.
		e.addrs[ti].receives = true
		h.receives = true
		e.sum(&h.received, amount)
		e.sum(&h.tainted, &m.taint)
	}
	credit := moved
	switch {
	case m.legs.in >= 0:
		// An in-leg: its taint goes into the link's buffer and the venue is credited
		// clean (spec §15.3).
		if err := e.linkIn(m.legs.in, x.ID, x.Asset, amount, moved, m.mov); err != nil {
			return e.wrapLegErr(m.b, m.tx, err)
		}
		credit = nil
	case e.addrs[ti].venue:
		// A venue holds no taint: what arrives outside a link is recorded (spec §15.4).
		if len(moved) > 0 {
			e.sinkAll(SinkVenueUnlinked, moved, amount)
		}
		credit = nil
	case isSeed:
		if len(moved) > 0 {
			e.sinkAll(SinkReturnedToSeed, moved, amount)
		}
		credit = nil
	case e.addrs[ti].exchange >= 0:
		e.arrive(e.addrs[ti].exchange, m.mov, amount, moved, internal)
		if e.cfg.Params.StopAtExchanges {
			if len(moved) > 0 {
				e.sinkAll(SinkExchangeAbsorbed, moved, amount)
			}
			credit = nil
		}
	}
	mov := m.mov
	switch {
	case len(credit) > 0:
		if err := e.open(h); err != nil {
			return fmt.Errorf("block %d tx %s transfer %s: %w", m.b.Height, m.tx.Hash, x.ID, err)
		}
		h.st = e.method.put(h.st, credit)
		for _, g := range credit {
			if g.c.clean() {
				continue
			}
			amt := g.amt
			if e.kind == sourceSet {
				amt = *amount
			}
			found := false
			for k := range h.contrib {
				if h.contrib[k].c == g.c {
					found = true
					if amt.Gt(&h.contrib[k].amt) {
						h.contrib[k].mov, h.contrib[k].amt = mov, amt
					}
					break
				}
			}
			if !found {
				h.contrib = append(h.contrib, contribution{c: g.c, mov: mov, amt: amt})
			}
		}
	case e.kind == sequence:
		h.st = appendSeg(h.st, seg{c: cleanComp, amt: *amount})
	}
	return nil
}

// checkVenue checks that addr, which a leg of link inLi (an in-leg: its recipient) or
// outLi (an out-leg: its sender) names, is a venue (spec §15.1, §15.9).
func (e *Engine) checkVenue(b *graph.Block, tx *graph.AccountTx, x *graph.Transfer, inLi, outLi int32, addr graph.Address) error {
	if ai, ok := e.lookup(addr); ok && e.addrs[ai].venue {
		return nil
	}
	if inLi >= 0 {
		return e.legErr(b, tx, x, inLi, -1, fmt.Sprintf("an in-leg does not pay a venue (%s is none)", addr))
	}
	return e.legErr(b, tx, x, -1, outLi, fmt.Sprintf("an out-leg is not paid by a venue (%s is none)", addr))
}

// legErr is a *LinkError about transfer x, a leg of link inLi or outLi, with its place.
func (e *Engine) legErr(b *graph.Block, tx *graph.AccountTx, x *graph.Transfer, inLi, outLi int32, reason string) error {
	li := inLi
	if li < 0 {
		li = outLi
	}
	return e.wrapLegErr(b, tx, &LinkError{Link: e.links.links[li].def.ID, Leg: graph.Leg{Chain: e.cfg.Chain, Ref: x.ID}.String(), Reason: reason})
}

// wrapLegErr places a link error in the history.
func (e *Engine) wrapLegErr(b *graph.Block, tx *graph.AccountTx, err error) error {
	return fmt.Errorf("block %d tx %s: %w", b.Height, tx.Hash, err)
}

// HoldingRef names an (address, asset) holding.
type HoldingRef struct {
	Address graph.Address `json:"address"`
	Asset   graph.Asset   `json:"asset"`
}

// open adds a holding's opening balance (Config.OpeningBalances) the first time taint
// reaches it: what the address held before the window that the window has not already
// accounted for (debits that clean pre-window funds covered) joins as clean, oldest units.
func (e *Engine) open(h *holding) error {
	if h.opened || e.cfg.OpeningBalances == nil || e.kind == sourceSet {
		return nil
	}
	h.opened = true
	ctx := e.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	addr, asset := e.addrTab.name(h.addr), e.assets[h.asset]
	if e.addrs[h.addr].seedSrc != 0 || e.addrs[h.addr].venue || e.addrs[h.addr].exchange >= 0 && e.cfg.Params.StopAtExchanges {
		return nil // its holdings never carry taint
	}
	b0, err := e.cfg.OpeningBalances.OpeningBalance(ctx, addr, asset)
	if errors.Is(err, graph.ErrOpeningBalanceUnknown) {
		e.openingUnknown = append(e.openingUnknown, HoldingRef{Address: addr, Asset: asset})
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening balance of %s %s: %w", asset, addr, err)
	}
	covered := e.implicitOf(h)
	if b0 == nil || !b0.Gt(&covered) {
		return nil
	}
	var add uint256.Int
	add.Sub(b0, &covered)
	e.addImplicit(h, &add)
	e.sum(&h.bal, &add)
	if e.kind == sequence {
		h.st = mergeRuns(append([]seg{{c: cleanComp, amt: add}}, h.st...))
	}
	return nil
}

// holdIndex returns h's index in e.holds (h points into it).
func (e *Engine) holdIndex(h *holding) int32 { return e.holdIdx[mkHoldKey(h.addr, h.asset)] }

// implicitOf is what clean pre-window funds have covered of h's debits.
func (e *Engine) implicitOf(h *holding) uint256.Int { return e.implicit[e.holdIndex(h)] }

// addImplicit records v more of h covered by clean pre-window funds.
func (e *Engine) addImplicit(h *holding, v *uint256.Int) {
	if e.implicit == nil {
		e.implicit = map[int32]uint256.Int{}
	}
	i := e.holdIndex(h)
	t := e.implicit[i]
	e.sum(&t, v)
	e.implicit[i] = t
}

package trace

import (
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
		x := graph.Transfer{ID: tx.FeeTransferID(), Asset: feeAsset(b.Chain), From: tx.From, To: FeeSink, Amount: tx.Fee}
		if err := e.transfer(b, tx, &x, pos); err != nil {
			return err
		}
		if e.overflow {
			return e.overflowErr(b, tx.Hash, &x)
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

// transfer processes one transfer (spec §8.2).
func (e *Engine) transfer(b *graph.Block, tx *graph.AccountTx, x *graph.Transfer, pos graph.Position) error {
	if e.traced != nil && !e.traced[x.Asset] {
		e.stats.SkippedTransfers++
		return nil
	}
	e.stats.Transfers++
	e.sp.reset()
	e.curAsset = e.asset(x.Asset)
	seeds := e.xferSeeds[x.ID]
	inLi, isIn := int32(-1), false
	outLi, isOut := int32(-1), false
	if e.links != nil {
		if inLi, isIn = e.inLegs[x.ID]; isIn {
			e.legSeen[x.ID] = true
		}
		if outLi, isOut = e.outLegs[x.ID]; isOut {
			e.legSeen[x.ID] = true
		}
		if (isIn || isOut) && x.From == x.To {
			return e.legErr(b, tx, x, inLi, outLi, "a leg is a self-transfer")
		}
		if isOut && len(seeds) > 0 {
			return e.legErr(b, tx, x, -1, outLi, "an out-leg is a transfer seed")
		}
	}
	if x.Amount.IsZero() || x.From == x.To {
		for _, si := range seeds {
			e.seedUsed[si] = true
		}
		// A zero-value leg still counts: an in-leg adds nothing to its link's buffer, an
		// out-leg of value 0 receives nothing (spec §15.5).
		if isIn {
			if err := e.checkVenue(b, tx, x, inLi, -1, x.To); err != nil {
				return err
			}
			if err := e.linkIn(inLi, x.ID, x.Asset, &x.Amount, nil, -1); err != nil {
				return e.wrapLegErr(b, tx, err)
			}
		}
		if isOut {
			if err := e.checkVenue(b, tx, x, -1, outLi, x.From); err != nil {
				return err
			}
			if _, _, err := e.linkOutState(outLi, x.ID, x.Asset, &x.Amount); err != nil {
				return e.wrapLegErr(b, tx, err)
			}
			e.recordLinkOut(outLi, x.ID, x.Asset, &x.Amount, nil)
		}
		return nil // self-transfers and zero transfers move nothing (step 1)
	}
	amount := x.Amount
	moved := e.moved[:0]
	e.parents = e.parents[:0]
	mint := x.Kind.IsMint() || x.From == graph.ZeroAddress
	// Step 2: debit.
	if !mint {
		ai := e.addr(x.From)
		h := e.holdingAt(ai, x.Asset)
		if h.bal.Lt(&amount) {
			if !e.cfg.Params.ImplicitBalances {
				return fmt.Errorf("block %d tx %s transfer %s: %w: %s holds %s %s, sends %s", b.Height, tx.Hash, x.ID, ErrOverdraft, x.From, h.bal.Dec(), x.Asset, amount.Dec())
			}
			// Clean funds from before the window cover the shortfall: the oldest units.
			var short uint256.Int
			short.Sub(&amount, &h.bal)
			if e.kind == sequence {
				h.st = append([]seg{{c: cleanComp, amt: short}}, h.st...)
				h.st = mergeRuns(h.st)
			}
			h.bal.Add(&h.bal, &short)
			e.stats.ImplicitBalanceDebits++
		}
		if e.addrs[ai].seedSrc != 0 {
			// A source account: everything it sends is tainted (spec §5.2).
			a := &e.addrs[ai]
			e.seedUsed[a.seedIdx] = true
			moved = append(moved, seg{c: comp{src: a.seedSrc}, amt: amount})
			e.sum(&e.injected[e.curAsset][a.seedSrc], &amount)
			e.parents = append(e.parents, a.seedMov)
		} else if len(h.st) > 0 {
			h.st, moved = e.method.take(&e.sp, h.st, &h.bal, &amount, moved)
			// Evidence: the arrivals that brought each component that now leaves.
			for _, g := range moved {
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
		h.bal.Sub(&h.bal, &amount)
		if isOut {
			// An out-leg: what the venue paid (always clean: a venue holds no taint) is
			// replaced by its link's buffer rescaled to the leg's value (spec §15.5).
			if !e.addrs[ai].venue {
				return e.legErr(b, tx, x, -1, outLi, fmt.Sprintf("an out-leg is not paid by a venue (%s is none)", x.From))
			}
			st, node, err := e.linkOutState(outLi, x.ID, x.Asset, &amount)
			if err != nil {
				return e.wrapLegErr(b, tx, err)
			}
			moved = append(moved[:0], st...)
			e.parents = append(e.parents[:0], node)
		}
		if e.addrs[ai].seedSrc != 0 && e.kind == sequence {
			// A source account's own taint is not tracked: keep its sequence one clean
			// run that matches the balance.
			h.st = h.st[:0]
			if !h.bal.IsZero() {
				h.st = append(h.st, seg{c: cleanComp, amt: h.bal})
			}
		}
		if len(h.st) == 0 {
			h.contrib = h.contrib[:0]
		}
	}
	// Step 3: every tainted component moves one hop.
	tainted := false
	for i := range moved {
		if !moved[i].c.clean() {
			moved[i].c.hop++
			tainted = true
		}
	}
	if !tainted {
		moved = moved[:0]
	} else {
		e.txTainted = true
		if isOut {
			e.linkedIn(moved, &amount) // after the hop +1, before pruning (spec §15.5)
		}
	}
	// Step 4: transfer seeds.
	if len(seeds) > 0 {
		if e.kind != sourceSet && len(moved) > 0 {
			e.sinkAll(SinkOverridden, moved, &amount)
		}
		var seeded []seg
		if e.kind == sourceSet {
			seeded = append(seeded, moved...)
		}
		var left uint256.Int
		left.Set(&amount)
		first := -1
		for _, si := range seeds {
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
			e.parents = append(e.parents, e.ev.seedNode(first, e.cfg.Seeds[first], x.ID))
		}
		moved = append(moved[:0], seeded...)
	}
	// Step 5: prune. Fees are never pruned: the fee sink is exact (spec §9.2).
	if len(moved) > 0 && x.To != FeeSink {
		moved = e.prune(moved, &amount)
	}
	e.moved = moved
	var mov int32 = -1
	var taint uint256.Int
	if len(moved) > 0 {
		taint = e.taintAmount(moved, &amount)
		mov = e.addMov(movement{
			kind: movTransfer, ref: x.ID, tx: tx.Hash, pos: pos, from: x.From, to: x.To, asset: x.Asset,
			value: amount, taint: e.pk.pack(e.aggregate(moved, &amount)), parents: e.ev.parents(e.parents),
		})
	}
	if isOut {
		e.recordLinkOut(outLi, x.ID, x.Asset, &amount, moved)
	}
	if isIn {
		if err := e.checkVenue(b, tx, x, inLi, -1, x.To); err != nil {
			return err
		}
	}
	// Step 6: credit.
	switch {
	case x.To == FeeSink:
		if len(moved) > 0 {
			e.sinkAll(SinkFees, moved, &amount)
		}
		return nil
	case x.To == graph.ZeroAddress:
		if len(moved) > 0 {
			e.sinkAll(SinkBurned, moved, &amount)
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
	e.sum(&h.bal, &amount)
	if !isSeed && !internal {
		// Per asset only (v2 A.1): the address's own totals would add wei to token units.
		e.addrs[ti].receives = true
		h.receives = true
		e.sum(&h.received, &amount)
		e.sum(&h.tainted, &taint)
	}
	credit := moved
	switch {
	case isIn:
		// An in-leg: its taint goes into the link's buffer and the venue is credited
		// clean (spec §15.3).
		if err := e.linkIn(inLi, x.ID, x.Asset, &amount, moved, mov); err != nil {
			return e.wrapLegErr(b, tx, err)
		}
		credit = nil
	case e.addrs[ti].venue:
		// A venue holds no taint: what arrives outside a link is recorded (spec §15.4).
		if len(moved) > 0 {
			e.sinkAll(SinkVenueUnlinked, moved, &amount)
		}
		credit = nil
	case isSeed:
		if len(moved) > 0 {
			e.sinkAll(SinkReturnedToSeed, moved, &amount)
		}
		credit = nil
	case e.addrs[ti].exchange >= 0:
		e.arrive(e.addrs[ti].exchange, mov, &amount, moved, internal)
		if e.cfg.Params.StopAtExchanges {
			if len(moved) > 0 {
				e.sinkAll(SinkExchangeAbsorbed, moved, &amount)
			}
			credit = nil
		}
	}
	switch {
	case len(credit) > 0:
		h.st = e.method.put(h.st, credit)
		for _, g := range credit {
			if g.c.clean() {
				continue
			}
			amt := g.amt
			if e.kind == sourceSet {
				amt = amount
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
		h.st = appendSeg(h.st, seg{c: cleanComp, amt: amount})
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

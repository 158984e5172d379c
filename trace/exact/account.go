package exact

import (
	"fmt"
	"math/big"
	"slices"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// applyAccountTx replays one account-model transaction (spec §3.2, §8): the fee first,
// then, if the transaction succeeded, its transfers in execution order.
func (e *Engine) applyAccountTx(b *graph.Block, tx *graph.AccountTx) error {
	e.txTainted = false
	err := e.applyAccountTransfers(b, tx)
	if e.txTainted {
		e.stats.TaintedTxs++ // transactions, as trace counts them, not transfers
	}
	return err
}

func (e *Engine) applyAccountTransfers(b *graph.Block, tx *graph.AccountTx) error {
	if !tx.Fee.IsZero() {
		x := graph.Transfer{ID: tx.FeeTransferID(), Asset: feeAsset(b.Chain), From: tx.From, To: trace.FeeSink, Amount: tx.Fee}
		if err := e.transfer(b, tx, &x); err != nil {
			return err
		}
	}
	if !tx.Success {
		return nil // a failed transaction moves nothing but its fee
	}
	for i := range tx.Transfers {
		x := &tx.Transfers[i]
		if x.Reverted {
			continue
		}
		if err := e.transfer(b, tx, x); err != nil {
			return err
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

// transfer processes one transfer (spec §8.2) as trace's engine does, with the haircut
// debit in exact proportion: a units of a holding worth bal carry a·taint[c]/bal of every
// component.
func (e *Engine) transfer(b *graph.Block, tx *graph.AccountTx, x *graph.Transfer) error {
	if len(e.cfg.Params.Assets) > 0 && !slices.Contains(e.cfg.Params.Assets, x.Asset) {
		e.stats.SkippedTransfers++ // not a traced asset (trace.Params.Assets)
		return nil
	}
	e.stats.Transfers++
	e.curAsset = x.Asset // sinks and injected taint are per asset (v2 A.1)
	seeds := e.xferSeeds[x.ID]
	lin, lout, err := e.transferLegs(x, len(seeds) > 0)
	if err != nil {
		return e.wrapLegErr(b, tx, err)
	}
	if x.Amount.IsZero() || x.From == x.To {
		for _, si := range seeds {
			e.seedUsed[si] = true
		}
		// A zero-value leg still counts: an in-leg adds nothing to its link's buffer, an
		// out-leg of value 0 receives nothing (spec §15.5).
		zero := new(big.Int)
		if lin >= 0 {
			if err := e.checkVenue(lin, -1, x.ID, x.To); err != nil {
				return e.wrapLegErr(b, tx, err)
			}
			if err := e.linkIn(lin, x.ID, x.Asset, zero, nil); err != nil {
				return e.wrapLegErr(b, tx, err)
			}
		}
		if lout >= 0 {
			if err := e.checkVenue(-1, lout, x.ID, x.From); err != nil {
				return e.wrapLegErr(b, tx, err)
			}
			if _, err := e.linkOutState(lout, x.ID, zero); err != nil {
				return e.wrapLegErr(b, tx, err)
			}
			e.recordLinkOut(lout, x.ID, x.Asset, zero, nil)
		}
		return nil // self-transfers and zero transfers move nothing (step 1)
	}
	amount := x.Amount.ToBig()
	var moved composition
	mint := x.Kind.IsMint() || x.From == graph.ZeroAddress
	// Step 2: debit.
	if !mint {
		h := e.holding(x.From, x.Asset)
		if h.bal.Cmp(amount) < 0 {
			if !e.cfg.Params.ImplicitBalances {
				return fmt.Errorf("block %d tx %s transfer %s: %w: %s holds %s %s, sends %s", b.Height, tx.Hash, x.ID, trace.ErrOverdraft, x.From, h.bal, x.Asset, amount)
			}
			// Clean funds from before the window cover the shortfall: the oldest units.
			if e.seq {
				short := new(big.Int).Sub(amount, h.bal)
				h.st = appendLots(composition{{c: cleanComp, amt: ratInt(short)}}, h.st)
			}
			h.bal = new(big.Int).Set(amount)
			e.stats.ImplicitBalanceDebits++
		}
		if src := e.addrs[x.From]; src.seedSrc != 0 {
			// A source account: everything it sends is tainted (spec §5.2).
			e.seedUsed[src.seedIdx] = true
			amt := ratInt(amount)
			moved = composition{{c: comp{src: src.seedSrc}, amt: amt}}
			e.addInjected(src.seedSrc, amt)
		} else if e.seq && len(h.st) > 0 {
			h.st, moved = e.take(h.st, amount)
		} else if len(h.st) > 0 {
			moved = h.st.share(amount, h.bal)
			h.st = h.st.minus(moved)
		}
		h.bal = new(big.Int).Sub(h.bal, amount)
		if src := e.addrs[x.From]; src.seedSrc != 0 && e.seq {
			// A source account's own taint is not tracked: its sequence is one clean lot
			// that matches the balance.
			h.st = appendLot(nil, seg{c: cleanComp, amt: ratInt(h.bal)})
		}
		if lout >= 0 {
			// An out-leg: the venue's debit (clean: a venue holds no taint) is replaced
			// by its link's buffer rescaled exactly to the amount (spec §15.5).
			if !e.isVenue(x.From) {
				return e.wrapLegErr(b, tx, e.legErr(lout, x.ID, fmt.Sprintf("an out-leg is not paid by a venue (%s is none)", x.From)))
			}
			st, err := e.linkOutState(lout, x.ID, amount)
			if err != nil {
				return e.wrapLegErr(b, tx, err)
			}
			moved = st
		}
	}
	// Step 3: every tainted component moves one hop.
	if e.seq {
		moved = hopSeq(moved) // nil when no lot is tainted
	} else {
		moved = moved.shifted()
	}
	if len(moved) > 0 {
		e.txTainted = true
		if lout >= 0 {
			e.addLinkedIn(moved) // after the hop, before pruning (spec §15.5)
		}
	}
	// Step 4: transfer seeds.
	if len(seeds) > 0 {
		e.sinkAll(trace.SinkOverridden, moved)
		var seeded composition
		left := x.Amount
		for _, si := range seeds {
			s := e.cfg.Seeds[si]
			e.seedUsed[si] = true
			if left.IsZero() {
				continue
			}
			n := left
			if s.Amount != nil && !s.Amount.Gt(&left) {
				n = *s.Amount
			}
			if n.IsZero() {
				continue
			}
			src := e.srcID[s.Source]
			amt := ratAmount(&n)
			if e.seq {
				seeded = appendLot(seeded, seg{c: comp{src: src}, amt: amt})
			} else {
				seeded = seeded.add(comp{src: src}, amt)
			}
			e.addInjected(src, amt)
			left.Sub(&left, &n)
		}
		if e.seq && len(seeded) > 0 {
			seeded = appendLot(seeded, seg{c: cleanComp, amt: ratAmount(&left)})
		}
		// The seeded units replace what the method computed (now in overridden); with a
		// zero amount the transfer arrives clean.
		moved = seeded
	}
	// Step 5: prune. Fees are never pruned: the fee sink is exact (spec §9.2).
	if len(moved) > 0 && x.To != trace.FeeSink {
		moved = e.prune(moved, amount)
	}
	taint := new(big.Rat)
	if len(moved) > 0 {
		taint = moved.taint()
		e.transfers[x.ID] = &TransferTaint{ID: x.ID, From: x.From, To: x.To, Asset: x.Asset, Amount: ratInt(amount), Taint: e.components(moved), Tainted: taint}
	}
	if lout >= 0 {
		e.recordLinkOut(lout, x.ID, x.Asset, amount, moved)
	}
	// Step 6: credit.
	if lin >= 0 {
		if err := e.checkVenue(lin, -1, x.ID, x.To); err != nil {
			return e.wrapLegErr(b, tx, err)
		}
	}
	switch x.To {
	case trace.FeeSink:
		e.sinkAll(trace.SinkFees, moved)
		return nil
	case graph.ZeroAddress:
		e.sinkAll(trace.SinkBurned, moved)
		return nil
	}
	to := e.addr(x.To)
	internal := to.exchange >= 0 && e.exchangeOf(x.From) == to.exchange
	isSeed := to.seedSrc != 0
	h := e.holding(x.To, x.Asset)
	h.bal = new(big.Int).Add(h.bal, amount)
	if !isSeed && !internal {
		// Per asset only (v2 A.1): the address's own totals would add wei to token units.
		h.receives = true
		h.received = new(big.Int).Add(h.received, amount)
		h.tainted = new(big.Rat).Add(h.tainted, taint)
	}
	credit := moved
	switch {
	case lin >= 0:
		// An in-leg: its taint goes into the link's buffer and the venue is credited
		// clean (spec §15.3).
		if err := e.linkIn(lin, x.ID, x.Asset, amount, moved); err != nil {
			return e.wrapLegErr(b, tx, err)
		}
		credit = nil
	case to.venue:
		// A venue holds no taint: what arrives outside a link is recorded (spec §15.4).
		e.sinkAll(trace.SinkVenueUnlinked, moved)
		credit = nil
	case isSeed:
		e.sinkAll(trace.SinkReturnedToSeed, moved)
		credit = nil
	case to.exchange >= 0:
		// Under stop semantics every taint that arrives is absorbed, also on a transfer
		// between two of the exchange's own addresses (v2 A.2).
		e.arrive(to.exchange, x.Asset, x.ID, x.To, amount, moved, internal)
		if e.cfg.Params.StopAtExchanges {
			e.sinkAll(trace.SinkExchangeAbsorbed, moved)
			credit = nil
		}
	}
	switch {
	case e.seq && len(credit) > 0:
		h.st = appendLots(h.st, credit)
	case e.seq:
		h.st = appendLot(h.st, seg{c: cleanComp, amt: ratInt(amount)})
	default:
		h.st = merge(h.st, credit)
	}
	return nil
}

// transferLegs looks transfer x up among this chain's link legs (link indexes, -1 for
// none) and checks what the spec forbids of a leg (§15.9), as trace's engine does.
func (e *Engine) transferLegs(x *graph.Transfer, seeded bool) (in, out int, err error) {
	in, out = -1, -1
	if e.links == nil {
		return in, out, nil
	}
	if li, ok := e.inLegs[x.ID]; ok {
		in = li
		e.legSeen[x.ID] = true
	}
	if li, ok := e.outLegs[x.ID]; ok {
		out = li
		e.legSeen[x.ID] = true
	}
	if (in >= 0 || out >= 0) && x.From == x.To {
		li := in
		if li < 0 {
			li = out
		}
		return in, out, e.legErr(li, x.ID, "a leg is a self-transfer")
	}
	if out >= 0 && seeded {
		return in, out, e.legErr(out, x.ID, "an out-leg is a transfer seed")
	}
	return in, out, nil
}

// checkVenue checks that addr, which a leg of link inLi (an in-leg: its recipient) or
// outLi (an out-leg: its sender) names, is a venue (spec §15.1, §15.9).
func (e *Engine) checkVenue(inLi, outLi int, ref string, addr graph.Address) error {
	if e.isVenue(addr) {
		return nil
	}
	if inLi >= 0 {
		return e.legErr(inLi, ref, fmt.Sprintf("an in-leg does not pay a venue (%s is none)", addr))
	}
	return e.legErr(outLi, ref, fmt.Sprintf("an out-leg is not paid by a venue (%s is none)", addr))
}

// wrapLegErr places a link error in the history, as trace's engine does.
func (e *Engine) wrapLegErr(b *graph.Block, tx *graph.AccountTx, err error) error {
	return fmt.Errorf("block %d tx %s: %w", b.Height, tx.Hash, err)
}

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
	if x.Amount.IsZero() || x.From == x.To {
		for _, si := range seeds {
			e.seedUsed[si] = true
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
			// Clean funds from before the window cover the shortfall.
			h.bal = new(big.Int).Set(amount)
			e.stats.ImplicitBalanceDebits++
		}
		if src := e.addrs[x.From]; src.seedSrc != 0 {
			// A source account: everything it sends is tainted (spec §5.2).
			e.seedUsed[src.seedIdx] = true
			amt := ratInt(amount)
			moved = composition{{c: comp{src: src.seedSrc}, amt: amt}}
			e.addInjected(src.seedSrc, amt)
		} else if len(h.st) > 0 {
			moved = h.st.share(amount, h.bal)
			h.st = h.st.minus(moved)
		}
		h.bal = new(big.Int).Sub(h.bal, amount)
	}
	// Step 3: every tainted component moves one hop.
	moved = moved.shifted()
	if len(moved) > 0 {
		e.txTainted = true
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
			seeded = seeded.add(comp{src: src}, amt)
			e.addInjected(src, amt)
			left.Sub(&left, &n)
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
	// Step 6: credit.
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
	h.st = merge(h.st, credit)
	return nil
}

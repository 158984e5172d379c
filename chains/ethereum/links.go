package ethereum

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/chaintrace/chaintrace/chains/thorchain"
	"github.com/chaintrace/chaintrace/graph"
)

// DetectLinks runs the link detectors (spec §15.10; the table in the package doc) over one
// successful transaction: tx as normalized (its transfers in execution order, ERC-20
// Transfer logs with ids "<tx>.log<i>") and the logs of its receipt in log-index order
// (logs that are none of the detectors' events are ignored).
//
// It returns the link parts found, and warnings for the events it could not use: a
// malformed event (ErrLinkEvent), an event whose transfers are not in the transaction
// (ErrLinkUnmatched) and a THORChain memo that does not parse (also wrapping
// thorchain.ErrMemo). A link is made only of movements of the transaction with the amounts
// its event states, so an event any contract can emit gives a warning, not a link.
//
// It changes tx.Transfers in two ways, both for the engine (spec §15): it adds the wrapped
// token's movements a wrapper makes without a Transfer log (KindWrap, KindUnwrap), and when
// a link's in-leg comes after its out-leg in execution (a V3 pool pays out before its
// callback is paid) it moves the in-leg to just before the out-leg — the transaction is
// atomic, and the engine must see what went into a venue before what came out of it.
func DetectLinks(height uint64, tx *graph.AccountTx, logs []Log) ([]graph.LinkPart, []Warning) {
	d := detector{height: height, tx: tx}
	for i := range logs {
		lg := &logs[i]
		if len(lg.Topics) == 0 {
			continue
		}
		kind := linkEventKind(lg.Topics[0])
		if kind == evNone {
			continue
		}
		if d.items == nil {
			d.start()
		}
		ev, err := decodeLinkEvent(kind, lg)
		if err != nil {
			d.warns = append(d.warns, Warning{Height: height, Tx: tx.Hash,
				Err: fmt.Errorf("%w: log %d: %s by %s: %v", ErrLinkEvent, lg.Index, kind, lg.Address, err)})
			continue
		}
		d.event(&ev)
	}
	if d.items == nil {
		return nil, d.warns
	}
	d.finish()
	return d.partList(), d.warns
}

// detector is the state of DetectLinks over one transaction.
type detector struct {
	height uint64
	tx     *graph.AccountTx
	// items are the transaction's transfers, the original ones first (item i is transfer
	// i), then those the detectors add, each with its place in the final order.
	items   []item
	norig   int
	logOf   []int64 // log index of each original transfer that is a Transfer log, else -1
	usedIn  []bool  // per item: already an in-leg of a part of this transaction
	usedOut []bool
	parts   []part
	warns   []Warning
	seq     int
	changed bool
	inbound bool // a THORChain inbound was seen (one per transaction: its hash is the key)
}

// item is a transfer and its place in the final order: (major, minor), the original
// transfer i at (2i, 0), an added or moved one at (2i-1, seq) to come just before it.
type item struct {
	t            graph.Transfer
	major, minor int
}

type part struct {
	p       graph.LinkPart
	in, out []int // item indexes of the legs
}

func (d *detector) start() {
	ts := d.tx.Transfers
	d.norig = len(ts)
	d.items = make([]item, len(ts), len(ts)+4)
	d.logOf = make([]int64, len(ts))
	h := d.tx.Hash
	for i := range ts {
		d.items[i] = item{t: ts[i], major: 2 * i}
		d.logOf[i] = -1
		if id := ts[i].ID; ts[i].Kind == graph.KindERC20 && strings.HasPrefix(id, h) && strings.HasPrefix(id[len(h):], ".log") {
			if n, err := strconv.ParseUint(id[len(h)+4:], 10, 63); err == nil {
				d.logOf[i] = int64(n)
			}
		}
	}
	d.usedIn = make([]bool, len(ts), len(ts)+4)
	d.usedOut = make([]bool, len(ts), len(ts)+4)
}

func (d *detector) unmatched(ev *linkEvent, format string, args ...any) {
	d.warns = append(d.warns, Warning{Height: d.height, Tx: d.tx.Hash,
		Err: fmt.Errorf("%w: log %d: %s by %s: %s", ErrLinkUnmatched, ev.log, ev.kind, ev.contract, fmt.Sprintf(format, args...))})
}

// findValue returns the first ETH value transfer (call value or internal frame, not
// reverted) that match accepts and that is not yet a leg on that side, or -1.
func (d *detector) findValue(used []bool, match func(*graph.Transfer) bool) int {
	for i := 0; i < d.norig; i++ {
		t := &d.items[i].t
		if d.logOf[i] < 0 && t.Asset == graph.ETH && !t.Reverted && !used[i] && match(t) {
			return i
		}
	}
	return -1
}

// findLog returns the ERC-20 Transfer log nearest before log index before that match
// accepts and that is not yet a leg on that side, or -1.
func (d *detector) findLog(used []bool, before uint64, match func(*graph.Transfer) bool) int {
	for i := d.norig - 1; i >= 0; i-- {
		if l := d.logOf[i]; l >= 0 && uint64(l) < before && !used[i] && match(&d.items[i].t) {
			return i
		}
	}
	return -1
}

// add appends a transfer the detectors make, placed just before original transfer at
// (d.norig: after all of them).
func (d *detector) add(t graph.Transfer, at int) int {
	d.seq++
	d.items = append(d.items, item{t: t, major: 2*at - 1, minor: d.seq})
	d.usedIn = append(d.usedIn, false)
	d.usedOut = append(d.usedOut, false)
	d.changed = true
	return len(d.items) - 1
}

// slotAfterLog is the original transfer before which a movement made at log index i goes:
// the first Transfer log after it.
func (d *detector) slotAfterLog(i uint64) int {
	for j := 0; j < d.norig; j++ {
		if d.logOf[j] >= 0 && uint64(d.logOf[j]) > i {
			return j
		}
	}
	return d.norig
}

func (d *detector) leg(i int) graph.Leg {
	return graph.Leg{Chain: graph.Ethereum, Ref: d.items[i].t.ID}
}

// emit records a part with its legs, after checking what the engine rejects of a leg
// (spec §15.9): a self-transfer.
func (d *detector) emit(ev *linkEvent, p graph.LinkPart, in, out []int) {
	for _, legs := range [2][]int{in, out} {
		for _, i := range legs {
			if t := &d.items[i].t; t.From == t.To {
				d.unmatched(ev, "leg %s is a self-transfer of %s", t.ID, t.From)
				return
			}
		}
	}
	for _, i := range in {
		d.usedIn[i] = true
		p.In = append(p.In, d.leg(i))
	}
	for _, i := range out {
		d.usedOut[i] = true
		p.Out = append(p.Out, d.leg(i))
	}
	d.parts = append(d.parts, part{p: p, in: in, out: out})
}

func (d *detector) event(ev *linkEvent) {
	switch ev.kind {
	case evWETHDeposit:
		d.wrap(ev)
	case evWETHWithdrawal:
		d.unwrap(ev)
	case evV2Swap, evV3Swap:
		d.swap(ev)
	case evTCDeposit:
		d.thorInbound(ev)
	case evTCTransferOut, evTCTransferOutAndCall:
		d.thorOutbound(ev)
	}
}

// wrap: WETH9's deposit credits msg.sender with msg.value and logs Deposit(dst = msg.sender,
// wad = msg.value), no Transfer. In-leg: the ETH dst paid the wrapper in the transaction;
// the wrapper then mints wad of its token to itself (<tx>.log<i>.mint) and pays it to dst
// (<tx>.log<i>, the out-leg), so its own balance of its token stays what it really is.
func (d *detector) wrap(ev *linkEvent) {
	w, dst, wad := ev.contract, ev.who, ev.amount
	if wad.IsZero() {
		return // a deposit of nothing moves nothing
	}
	in := d.findValue(d.usedIn, func(t *graph.Transfer) bool { return t.To == w && t.From == dst && t.Amount == wad })
	if in < 0 {
		d.unmatched(ev, "no ETH payment of %s wei from %s to the wrapper in the transaction", wad.Dec(), dst)
		return
	}
	id := d.tx.Hash + ".log" + strconv.FormatUint(ev.log, 10)
	at := d.slotAfterLog(ev.log)
	d.add(graph.Transfer{ID: id + ".mint", Asset: graph.Asset(w), From: graph.ZeroAddress, To: w, Amount: wad, Kind: graph.KindWrap}, at)
	out := d.add(graph.Transfer{ID: id, Asset: graph.Asset(w), From: w, To: dst, Amount: wad, Kind: graph.KindWrap}, at)
	d.emit(ev, graph.LinkPart{
		Key: "wrap:" + d.tx.Hash + ":" + strconv.FormatUint(ev.log, 10), Kind: graph.LinkWrap, Chain: graph.Ethereum,
		Venues:   []graph.Address{w},
		Evidence: fmt.Sprintf("tx %s log %d: WETH9 Deposit(dst %s, wad %s) by wrapper %s", d.tx.Hash, ev.log, dst, wad.Dec(), w),
	}, []int{in}, []int{out})
}

// unwrap: WETH9's withdraw debits msg.sender, sends it wad ETH, then logs
// Withdrawal(src = msg.sender, wad), no Transfer. Out-leg: the wrapper's ETH payment to
// src; the in-leg is src paying wad of the token back to the wrapper (<tx>.log<i>), which
// burns it (<tx>.log<i>.burn); both are placed before the ETH payment, where WETH9 debits.
func (d *detector) unwrap(ev *linkEvent) {
	w, src, wad := ev.contract, ev.who, ev.amount
	if wad.IsZero() {
		return
	}
	out := d.findValue(d.usedOut, func(t *graph.Transfer) bool { return t.From == w && t.To == src && t.Amount == wad })
	if out < 0 {
		d.unmatched(ev, "no ETH payment of %s wei from the wrapper to %s in the transaction", wad.Dec(), src)
		return
	}
	id := d.tx.Hash + ".log" + strconv.FormatUint(ev.log, 10)
	in := d.add(graph.Transfer{ID: id, Asset: graph.Asset(w), From: src, To: w, Amount: wad, Kind: graph.KindUnwrap}, out)
	d.add(graph.Transfer{ID: id + ".burn", Asset: graph.Asset(w), From: w, To: graph.ZeroAddress, Amount: wad, Kind: graph.KindUnwrap}, out)
	d.emit(ev, graph.LinkPart{
		Key: "wrap:" + d.tx.Hash + ":" + strconv.FormatUint(ev.log, 10), Kind: graph.LinkWrap, Chain: graph.Ethereum,
		Venues:   []graph.Address{w},
		Evidence: fmt.Sprintf("tx %s log %d: WETH9 Withdrawal(src %s, wad %s) by wrapper %s", d.tx.Hash, ev.log, src, wad.Dec(), w),
	}, []int{in}, []int{out})
}

// swap: a Uniswap V2 or V3 pool's Swap. The event does not name the tokens, so the legs
// are the Transfer logs before the Swap log that match the pool and the amounts: in-leg
// the token paid into the pool, out-legs the tokens the pool paid to the event's
// to/recipient — each the nearest such log before the Swap (V2 pays out, then infers
// what came in and logs Swap; V3 pays out, calls back to be paid, then logs Swap).
func (d *detector) swap(ev *linkEvent) {
	pool, to := ev.contract, ev.who
	var ins, outs []graph.Amount
	for _, a := range []graph.Amount{ev.in0, ev.in1} {
		if !a.IsZero() {
			ins = append(ins, a)
		}
	}
	for _, a := range []graph.Amount{ev.out0, ev.out1} {
		if !a.IsZero() {
			outs = append(outs, a)
		}
	}
	switch {
	case len(ins) == 0 || len(outs) == 0:
		d.unmatched(ev, "nothing paid in or nothing paid out")
		return
	case len(ins) == 2:
		d.unmatched(ev, "both tokens paid in: a link's in-legs are of one asset")
		return
	}
	in := d.findLog(d.usedIn, ev.log, func(t *graph.Transfer) bool { return t.To == pool && t.Amount == ins[0] })
	if in < 0 {
		d.unmatched(ev, "no Transfer of %s into the pool before the Swap", ins[0].Dec())
		return
	}
	inAsset := d.items[in].t.Asset
	var out []int
	for _, a := range outs {
		o := d.findLog(d.usedOut, ev.log, func(t *graph.Transfer) bool {
			return t.From == pool && t.To == to && t.Amount == a && t.Asset != inAsset && (len(out) == 0 || d.items[out[0]].t.Asset != t.Asset)
		})
		if o < 0 {
			hint := ""
			if p := d.findLog(d.usedOut, ev.log, func(t *graph.Transfer) bool {
				return t.From == pool && t.To == to && t.Asset != inAsset && t.Amount.Lt(&a)
			}); p >= 0 {
				hint = fmt.Sprintf(" (only %s of %s: a token that takes a fee on transfer?)", d.items[p].t.Amount.Dec(), d.items[p].t.Asset)
			}
			d.unmatched(ev, "no Transfer of %s of a token other than %s from the pool to %s before the Swap%s", a.Dec(), inAsset, to, hint)
			return
		}
		out = append(out, o)
	}
	// Built without fmt: a busy block has hundreds of swaps.
	var desc strings.Builder
	desc.Grow(256)
	for _, s := range []string{"tx ", d.tx.Hash, " log ", strconv.FormatUint(ev.log, 10), ": ", ev.kind.String(),
		" by pool ", string(pool), ": ", ins[0].Dec(), " of ", string(inAsset), " in"} {
		desc.WriteString(s)
	}
	for _, o := range out {
		for _, s := range []string{", ", d.items[o].t.Amount.Dec(), " of ", string(d.items[o].t.Asset), " out"} {
			desc.WriteString(s)
		}
	}
	desc.WriteString(" to ")
	desc.WriteString(string(to))
	d.emit(ev, graph.LinkPart{
		Key: "swap:" + d.tx.Hash + ":" + strconv.FormatUint(ev.log, 10), Kind: graph.LinkSwap, Chain: graph.Ethereum,
		Venues: []graph.Address{pool}, Evidence: desc.String(),
	}, []int{in}, out)
}

// memo parses a THORChain event's memo; on error it warns and returns false.
func (d *detector) memo(ev *linkEvent) (thorchain.Memo, bool) {
	m, err := thorchain.ParseMemo(ev.memo)
	if err != nil {
		d.warns = append(d.warns, Warning{Height: d.height, Tx: d.tx.Hash,
			Err: fmt.Errorf("%w: log %d: %s by %s: %w", ErrLinkEvent, ev.log, ev.kind, ev.contract, err)})
		return m, false
	}
	return m, true
}

func routerVenues(router, vault graph.Address) []graph.Address {
	if router == vault {
		return []graph.Address{router}
	}
	return []graph.Address{router, vault}
}

// thorInbound: the router's Deposit(vault, asset, amount, memo) with an inbound memo. The
// in-leg is what was paid into the router: ETH (asset 0x0) the router forwards to the
// vault, or the ERC-20 Transfer to the router it keeps on the vault's allowance (THORChain
// router v4). The key is the transaction's hash, which the outbound's memo names.
func (d *detector) thorInbound(ev *linkEvent) {
	m, ok := d.memo(ev)
	if !ok {
		return
	}
	switch m.Kind {
	case thorchain.Internal:
		return // vault to vault: nobody's value changes hands
	case thorchain.Inbound:
	default:
		d.unmatched(ev, "a Deposit with a %s memo %q", m.Kind, m.Raw)
		return
	}
	router, amount := ev.contract, ev.amount
	if amount.IsZero() {
		d.unmatched(ev, "a Deposit of nothing")
		return
	}
	if d.inbound {
		d.unmatched(ev, "a second THORChain inbound in one transaction (THORChain observes one per transaction)")
		return
	}
	var in int
	if ev.asset == graph.ZeroAddress {
		in = d.findValue(d.usedIn, func(t *graph.Transfer) bool { return t.To == router && t.Amount == amount })
	} else {
		in = d.findLog(d.usedIn, ev.log, func(t *graph.Transfer) bool {
			return t.To == router && t.Asset == graph.Asset(ev.asset) && t.Amount == amount
		})
	}
	if in < 0 {
		d.unmatched(ev, "no payment of %s of %s into the router", amount.Dec(), assetName(ev.asset))
		return
	}
	d.inbound = true
	d.emit(ev, graph.LinkPart{
		Key: thorchain.LinkKey(d.tx.Hash), Kind: graph.LinkThorchain, Chain: graph.Ethereum,
		Venues: routerVenues(router, ev.vault),
		Evidence: fmt.Sprintf("tx %s log %d: THORChain router %s Deposit to vault %s of %s %s, memo %q",
			d.tx.Hash, ev.log, router, ev.vault, amount.Dec(), assetName(ev.asset), m.Raw),
	}, []int{in}, nil)
}

// thorOutbound: the router's TransferOut(vault, to, asset, amount, memo) or
// TransferOutAndCall(vault, aggregator, amount, finalAsset, to, …, memo) with an OUT: or
// REFUND: memo. The out-leg is the router's payment: ETH (the vault's call value the router
// passes on) or the ERC-20 Transfer from the router to the recipient (TransferOutAndCall:
// ETH to the aggregator, or to the recipient when the aggregator failed). If the router
// bounced the ETH back to the vault, there is no out-leg: a warning says so.
func (d *detector) thorOutbound(ev *linkEvent) {
	m, ok := d.memo(ev)
	if !ok {
		return
	}
	switch m.Kind {
	case thorchain.Internal:
		return
	case thorchain.Outbound, thorchain.Refund:
	default:
		d.unmatched(ev, "an outbound with a %s memo %q", m.Kind, m.Raw)
		return
	}
	router, amount, to := ev.contract, ev.amount, ev.who
	if amount.IsZero() {
		d.unmatched(ev, "an outbound of nothing")
		return
	}
	var out int
	switch {
	case ev.kind == evTCTransferOutAndCall:
		out = d.findValue(d.usedOut, func(t *graph.Transfer) bool {
			return t.From == router && (t.To == ev.target || t.To == to) && t.Amount == amount
		})
	case ev.asset == graph.ZeroAddress:
		out = d.findValue(d.usedOut, func(t *graph.Transfer) bool { return t.From == router && t.To == to && t.Amount == amount })
	default:
		out = d.findLog(d.usedOut, ev.log, func(t *graph.Transfer) bool {
			return t.From == router && t.To == to && t.Asset == graph.Asset(ev.asset) && t.Amount == amount
		})
	}
	asset := ev.asset
	if ev.kind == evTCTransferOutAndCall {
		asset = graph.ZeroAddress
	}
	if out < 0 {
		d.unmatched(ev, "no payment of %s of %s from the router to %s (bounced back to the vault?)", amount.Dec(), assetName(asset), to)
		return
	}
	d.emit(ev, graph.LinkPart{
		Key: thorchain.LinkKey(m.InboundHash), Kind: graph.LinkThorchain, Chain: graph.Ethereum,
		Venues: routerVenues(router, ev.vault),
		Evidence: fmt.Sprintf("tx %s log %d: THORChain router %s %s from vault %s to %s of %s %s, memo %q",
			d.tx.Hash, ev.log, router, strings.TrimPrefix(ev.kind.String(), "THORChain router "), ev.vault, to, amount.Dec(), assetName(asset), m.Raw),
	}, nil, []int{out})
}

func assetName(a graph.Address) string {
	if a == graph.ZeroAddress {
		return "ETH"
	}
	return string(a)
}

// finish puts every link's in-legs before its out-legs, drops (with a warning) a link
// whose legs cannot be so ordered, and writes the transfers back in their final order.
func (d *detector) finish() {
	key := func(i int) [2]int { return [2]int{d.items[i].major, d.items[i].minor} }
	less := func(a, b [2]int) bool { return a[0] < b[0] || a[0] == b[0] && a[1] < b[1] }
	for _, p := range d.parts {
		if len(p.in) == 0 || len(p.out) == 0 {
			continue
		}
		first := p.out[0]
		for _, o := range p.out[1:] {
			if less(key(o), key(first)) {
				first = o
			}
		}
		for _, i := range p.in {
			if less(key(first), key(i)) {
				d.seq++
				d.items[i].major, d.items[i].minor = d.items[first].major-1, d.seq
				if d.items[first].major%2 != 0 { // before an added transfer: same slot, lower rank
					d.items[i].major, d.items[i].minor = d.items[first].major, d.items[first].minor-1
				}
				d.changed = true
			}
		}
	}
	kept := d.parts[:0]
	for _, p := range d.parts {
		ok := true
		for _, i := range p.in {
			for _, o := range p.out {
				if !less(key(i), key(o)) {
					ok = false
				}
			}
		}
		if !ok {
			d.warns = append(d.warns, Warning{Height: d.height, Tx: d.tx.Hash, Err: fmt.Errorf(
				"%w: %s: its in-leg cannot come before its out-leg (another link of the transaction moved it)", ErrLinkUnmatched, p.p.Key)})
			continue
		}
		kept = append(kept, p)
	}
	d.parts = kept
	if !d.changed {
		return
	}
	order := make([]int, len(d.items))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(d.items[a].major, d.items[b].major); c != 0 {
			return c
		}
		return cmp.Compare(d.items[a].minor, d.items[b].minor)
	})
	ts := make([]graph.Transfer, len(order))
	for i, j := range order {
		ts[i] = d.items[j].t
	}
	d.tx.Transfers = ts
}

// partList returns the link parts in the order they were found.
func (d *detector) partList() []graph.LinkPart {
	out := make([]graph.LinkPart, len(d.parts))
	for i := range d.parts {
		out[i] = d.parts[i].p
	}
	return out
}

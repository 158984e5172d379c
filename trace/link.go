package trace

import (
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

// Links carry taint through venues (docs/taint-spec.md §15): value that goes into a DEX
// pool, a wrapper, a bridge or a THORChain vault on one asset (the link's in-legs) comes
// out on another asset or chain (its out-legs), and each out-leg carries the taint
// fraction of everything that went in. A venue itself holds no taint.

// ErrInvalidLink is wrapped by every *LinkError.
var ErrInvalidLink = errors.New("invalid link")

// LinkError is the error of a link set the specification rejects (§15.9): it names the
// link, and the leg, chain or address at fault.
type LinkError struct {
	Link   string // the link's id ("" when the fault is not one link's: a venue, a seed)
	Leg    string // the leg at fault, if any
	Reason string
}

func (e *LinkError) Error() string {
	switch {
	case e.Link != "" && e.Leg != "":
		return fmt.Sprintf("%v: link %q, leg %s: %s", ErrInvalidLink, e.Link, e.Leg, e.Reason)
	case e.Link != "":
		return fmt.Sprintf("%v: link %q: %s", ErrInvalidLink, e.Link, e.Reason)
	}
	return fmt.Sprintf("%v: %s", ErrInvalidLink, e.Reason)
}

func (e *LinkError) Unwrap() error { return ErrInvalidLink }

// linkBook holds the state of every link of a trace: shared by the engines of the chains
// a multi-chain trace replays, since a link's in-legs and out-legs may be on two chains.
type linkBook struct {
	links []linkState
	byID  map[string]int32
	// The chains whose engines replay the book's legs; a leg on any other chain is an
	// error (§15.9). Empty: one chain, legs without a chain name.
	chains map[graph.Chain]bool
}

// linkState is one link: its definition, the buffer of what went in, and what came out.
type linkState struct {
	def graph.Link
	// The buffer (§15.3): the in-legs' total value V and their arriving taint C, in the
	// engine's state kind — a composition (haircut), a source set (poison) or the lot
	// sequence, CLEAN lots included (FIFO, LIFO, TIHO, seniority).
	value   uint256.Int
	buf     []seg
	chainIn graph.Chain
	assetIn graph.Asset
	ins     int     // in-legs processed
	inMovs  []int32 // their evidence nodes (tainted ones)
	node    int32   // the link's evidence node, made at its first out-leg; -1 before
	outs    []linkOut
}

// linkOut is an out-leg as it was processed: the composition it received (after the hop
// +1 and pruning).
type linkOut struct {
	chain graph.Chain
	ref   string
	asset graph.Asset
	value uint256.Int
	taint []Component
}

// newLinkBook validates a link set against itself (§15.9: ids, legs, chains) and indexes
// it. chains lists the chains of a multi-chain trace (nil for one chain).
func newLinkBook(links []graph.Link, chains []graph.Chain) (*linkBook, error) {
	lb := &linkBook{byID: map[string]int32{}, chains: map[graph.Chain]bool{}}
	for _, c := range chains {
		lb.chains[c] = true
	}
	inOf, outOf := map[graph.Leg]string{}, map[graph.Leg]string{}
	for _, l := range links {
		if l.ID == "" {
			return nil, &LinkError{Reason: "a link has no id"}
		}
		if _, dup := lb.byID[l.ID]; dup {
			return nil, &LinkError{Link: l.ID, Reason: "two links share this id"}
		}
		if len(l.In) == 0 {
			return nil, &LinkError{Link: l.ID, Reason: "no in-leg"}
		}
		var inChain graph.Chain
		for i, leg := range l.In {
			if err := lb.checkLeg(l.ID, leg); err != nil {
				return nil, err
			}
			if i == 0 {
				inChain = leg.Chain
			} else if leg.Chain != inChain {
				return nil, &LinkError{Link: l.ID, Leg: leg.String(), Reason: fmt.Sprintf("in-legs on two chains (%s and %s)", inChain, leg.Chain)}
			}
			if other, dup := inOf[leg]; dup {
				return nil, &LinkError{Link: l.ID, Leg: leg.String(), Reason: fmt.Sprintf("the leg is an in-leg of link %q too", other)}
			}
			inOf[leg] = l.ID
		}
		for _, leg := range l.Out {
			if err := lb.checkLeg(l.ID, leg); err != nil {
				return nil, err
			}
			if other, dup := outOf[leg]; dup {
				return nil, &LinkError{Link: l.ID, Leg: leg.String(), Reason: fmt.Sprintf("the leg is an out-leg of link %q too", other)}
			}
			outOf[leg] = l.ID
		}
		lb.byID[l.ID] = int32(len(lb.links))
		lb.links = append(lb.links, linkState{def: l, node: -1})
	}
	return lb, nil
}

func (lb *linkBook) checkLeg(id string, leg graph.Leg) error {
	if leg.Ref == "" {
		return &LinkError{Link: id, Reason: "a leg without a reference"}
	}
	if len(lb.chains) > 0 && !lb.chains[leg.Chain] {
		return &LinkError{Link: id, Leg: leg.String(), Reason: fmt.Sprintf("unknown chain %q", leg.Chain)}
	}
	if len(lb.chains) == 0 && leg.Chain != "" {
		return &LinkError{Link: id, Leg: leg.String(), Reason: fmt.Sprintf("names chain %q in a one-chain trace", leg.Chain)}
	}
	return nil
}

// legs returns the in-leg and out-leg index of chain c: leg reference → link.
func (lb *linkBook) legs(c graph.Chain) (in, out map[string]int32) {
	in, out = map[string]int32{}, map[string]int32{}
	for i := range lb.links {
		for _, leg := range lb.links[i].def.In {
			if leg.Chain == c {
				in[leg.Ref] = int32(i)
			}
		}
		for _, leg := range lb.links[i].def.Out {
			if leg.Chain == c {
				out[leg.Ref] = int32(i)
			}
		}
	}
	return in, out
}

// ---- rescaling a buffer onto an out-leg (§15.5) ----

// rescale returns the link's buffer rescaled to an out-leg of value w, in the engine's
// state kind, before the hop +1: haircut apportions the pool (taint plus CLEAN) with
// Hamilton's method; the ordered methods rescale the lot sequence lot by lot, keeping its
// order; poison taints the out-leg with every source of the buffer at its least hop. An
// empty buffer (V = 0) gives a clean out-leg.
func (e *Engine) rescale(l *linkState, w *uint256.Int) []seg {
	if l.value.IsZero() || w.IsZero() {
		return nil
	}
	switch e.kind {
	case sourceSet:
		return append([]seg(nil), l.buf...)
	case composition:
		// The pool: the tainted components, then CLEAN = V − Σ taint.
		items := make([]seg, 0, len(l.buf)+1)
		var t uint256.Int
		for _, g := range l.buf {
			items = append(items, g)
			t.Add(&t, &g.amt)
		}
		var clean uint256.Int
		clean.Sub(&l.value, &t)
		if !clean.IsZero() {
			items = append(items, seg{c: cleanComp, amt: clean})
		}
		parts := apportion(items, &l.value, w, func(a, b int) bool {
			// Tainted before CLEAN, then source, then hop: items are in that order.
			return a < b
		})
		out := make([]seg, 0, len(parts))
		for i, p := range parts {
			if !items[i].c.clean() && !p.IsZero() {
				out = append(out, seg{c: items[i].c, amt: p})
			}
		}
		return out
	default:
		// Lots in order; ties go to tainted lots, then to the earlier lot.
		parts := apportion(l.buf, &l.value, w, func(a, b int) bool {
			ta, tb := !l.buf[a].c.clean(), !l.buf[b].c.clean()
			if ta != tb {
				return ta
			}
			return a < b
		})
		var out []seg
		for i, p := range parts {
			if !p.IsZero() {
				out = appendSeg(out, seg{c: l.buf[i].c, amt: p})
			}
		}
		return mergeRuns(out)
	}
}

// apportion divides w among items in proportion to their amounts, which sum to total,
// with Hamilton's largest-remainder method generalised to any w (§6, §15.5): each gets
// ⌊w·a/total⌋ and the units left go one each to the largest remainders, ties in the order
// first(i, j). w·a can pass 256 bits (a swap into a token with more decimals), so this
// works in big integers; it runs once per out-leg.
func apportion(items []seg, total, w *uint256.Int, first func(i, j int) bool) []uint256.Int {
	parts := make([]uint256.Int, len(items))
	rems := make([]*big.Int, len(items))
	T, W := total.ToBig(), w.ToBig()
	left := new(big.Int).Set(W)
	for i := range items {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(W, items[i].amt.ToBig()), T, new(big.Int))
		parts[i].SetFromBig(q)
		rems[i] = r
		left.Sub(left, q)
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		if c := rems[order[a]].Cmp(rems[order[b]]); c != 0 {
			return c > 0
		}
		return first(order[a], order[b])
	})
	for k := 0; left.Sign() > 0 && k < len(order); k++ {
		parts[order[k]].AddUint64(&parts[order[k]], 1)
		left.Sub(left, big.NewInt(1))
	}
	return parts
}

// ---- in-legs and venues (§15.3, §15.4) ----

// linkIn adds an in-leg's arriving state st (worth value, after pruning; evidence node
// mov) to link li's buffer, and its taint to the linked_out sink. The caller credits the
// venue clean.
func (e *Engine) linkIn(li int32, ref string, asset graph.Asset, value *uint256.Int, st []seg, mov int32) error {
	l := &e.links.links[li]
	leg := graph.Leg{Chain: e.cfg.Chain, Ref: ref}.String()
	if len(l.outs) > 0 {
		return &LinkError{Link: l.def.ID, Leg: leg, Reason: "an in-leg is processed after an out-leg of its link"}
	}
	if l.ins == 0 {
		l.chainIn, l.assetIn = e.cfg.Chain, asset
	} else if l.assetIn != asset {
		return &LinkError{Link: l.def.ID, Leg: leg, Reason: fmt.Sprintf("in-legs of two assets (%s and %s)", l.assetIn, asset)}
	}
	l.ins++
	e.sum(&l.value, value)
	if len(st) > 0 {
		switch e.kind {
		case sourceSet:
			for _, g := range st {
				l.buf = setAdd(l.buf, g.c)
			}
		case composition:
			for _, g := range st {
				l.buf = compAdd(l.buf, g.c, &g.amt)
			}
		default:
			for _, g := range st {
				l.buf = appendSeg(l.buf, g)
			}
		}
		if hasTaint(st) {
			e.sinkAll(SinkLinkedOut, st, value)
		}
	} else if e.kind == sequence && !value.IsZero() {
		l.buf = appendSeg(l.buf, seg{c: cleanComp, amt: *value})
	}
	if mov >= 0 {
		l.inMovs = append(l.inMovs, mov)
	}
	return nil
}

// linkOutState replaces an out-leg's composition with link li's buffer rescaled to its
// value (before the hop +1) and returns it with the evidence parent (the link's node).
func (e *Engine) linkOutState(li int32, ref string, asset graph.Asset, value *uint256.Int) ([]seg, int32, error) {
	l := &e.links.links[li]
	if l.ins == 0 {
		return nil, -1, &LinkError{Link: l.def.ID, Leg: graph.Leg{Chain: e.cfg.Chain, Ref: ref}.String(), Reason: "an out-leg is processed before any in-leg of its link"}
	}
	st := e.rescale(l, value)
	if l.node < 0 && (len(l.inMovs) > 0 || hasTaint(l.buf)) {
		var taint []seg
		if hasTaint(l.buf) {
			taint = e.aggregate(l.buf, &l.value)
		}
		l.node = e.addMov(movement{kind: movLink, ref: l.def.ID, tx: l.def.Evidence, to: graph.Address(string(l.def.Kind)),
			asset: l.assetIn, value: l.value, taint: e.pk.pack(taint), parents: e.ev.parents(l.inMovs)})
	}
	return st, l.node, nil
}

// recordLinkOut notes an out-leg as it was credited (after the hop +1 and pruning).
func (e *Engine) recordLinkOut(li int32, ref string, asset graph.Asset, value *uint256.Int, st []seg) {
	l := &e.links.links[li]
	var taint []Component
	if len(st) > 0 {
		taint = e.exactComponents(e.aggregate(st, value))
	}
	l.outs = append(l.outs, linkOut{chain: e.cfg.Chain, ref: ref, asset: asset, value: *value, taint: taint})
}

// linkedIn counts the taint an out-leg brought in (after the hop +1, before pruning) in
// the linked_in counter of its asset.
func (e *Engine) linkedIn(st []seg, value *uint256.Int) {
	tot := e.srcTotals(st, value)
	for src := 1; src < len(tot); src++ {
		if !tot[src].IsZero() {
			e.sum(&e.linkedInTot[e.curAsset][src], &tot[src])
		}
	}
}

// CheckLinks reports a link leg that the replay never met (§15.9: a leg is not found). A
// multi-chain trace checks all of its chains' legs; call it once the history is replayed.
func (e *Engine) CheckLinks() error {
	if e.links == nil {
		return nil
	}
	for _, ref := range sortedLegRefs(e.inLegs) {
		if !e.legSeen[ref] {
			return &LinkError{Link: e.links.links[e.inLegs[ref]].def.ID, Leg: graph.Leg{Chain: e.cfg.Chain, Ref: ref}.String(), Reason: "in-leg not found in the replayed history"}
		}
	}
	for _, ref := range sortedLegRefs(e.outLegs) {
		if !e.legSeen[ref] {
			return &LinkError{Link: e.links.links[e.outLegs[ref]].def.ID, Leg: graph.Leg{Chain: e.cfg.Chain, Ref: ref}.String(), Reason: "out-leg not found in the replayed history"}
		}
	}
	return nil
}

func sortedLegRefs(m map[string]int32) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- results (§15.7) ----

// LinkResult is a link as the trace saw it (spec §15.7): what went in — its chain, asset,
// value and tainted components — and each out-leg with the composition it received.
type LinkResult struct {
	ID       string
	Kind     graph.LinkKind
	Evidence string
	ChainIn  graph.Chain
	AssetIn  graph.Asset
	InValue  graph.Amount
	InTaint  []Component // under poison each with amount InValue
	Out      []LinkOutResult
	// Status is "complete" once an out-leg was processed, else "pending" (the in-legs'
	// taint is then only in the linked_out sink).
	Status string
}

// LinkOutResult is one out-leg of a link.
type LinkOutResult struct {
	Chain graph.Chain
	Ref   string
	Asset graph.Asset
	Value graph.Amount
	Taint []Component
}

// linkResults returns the book's links as results.
func (e *Engine) linkResults() map[string]*LinkResult {
	if e.links == nil {
		return nil
	}
	out := make(map[string]*LinkResult, len(e.links.links))
	for i := range e.links.links {
		l := &e.links.links[i]
		r := &LinkResult{ID: l.def.ID, Kind: l.def.Kind, Evidence: l.def.Evidence, ChainIn: l.chainIn, AssetIn: l.assetIn, InValue: l.value, Status: "pending"}
		if hasTaint(l.buf) {
			r.InTaint = e.exactComponents(e.aggregate(l.buf, &l.value))
		}
		if len(l.outs) > 0 {
			r.Status = "complete"
		}
		for _, o := range l.outs {
			r.Out = append(r.Out, LinkOutResult{Chain: o.chain, Ref: o.ref, Asset: o.asset, Value: o.value, Taint: o.taint})
		}
		out[l.def.ID] = r
	}
	return out
}

// legInfo says which link an output is a leg of: in and out are link indexes, -1 for none.
type legInfo struct{ in, out int32 }

// utxoLeg looks output op up among this chain's legs. An out-leg's transaction must spend
// only outputs held by venues (spec §15.1); e.inAddrs holds its inputs' addresses.
func (e *Engine) utxoLeg(b *graph.Block, tx *graph.UTXOTx, op graph.Outpoint) (legInfo, error) {
	lk := legInfo{in: -1, out: -1}
	ref := op.String()
	if li, ok := e.inLegs[ref]; ok {
		lk.in = li
		e.legSeen[ref] = true
	}
	if li, ok := e.outLegs[ref]; ok {
		lk.out = li
		e.legSeen[ref] = true
		ok := len(e.inAddrs) > 0
		for _, ai := range e.inAddrs {
			if !e.addrs[ai].venue {
				ok = false
			}
		}
		if !ok {
			return lk, fmt.Errorf("block %d tx %s: %w", b.Height, tx.TxID, &LinkError{Link: e.links.links[li].def.ID, Leg: graph.Leg{Chain: e.cfg.Chain, Ref: ref}.String(),
				Reason: "an out-leg is not paid by a venue (its transaction spends an output no venue held)"})
		}
	}
	return lk, nil
}

// exactComponents converts an aggregate into Components in memory of its own size (a link
// keeps them; appendComponents carves from large slabs meant for a whole Result).
func (e *Engine) exactComponents(st []seg) []Component {
	if len(st) == 0 {
		return nil
	}
	out := make([]Component, 0, len(st))
	for _, g := range st {
		out = append(out, Component{Source: e.sources[g.c.src], Hop: g.c.hop, Amount: g.amt})
	}
	return out
}

package exact

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/internal/specjson"
)

// Links (docs/taint-spec.md §15) in exact mode: as in package trace, an in-leg's arriving
// taint fills its link's buffer and goes to the linked_out sink, a venue is credited
// clean, and an out-leg's composition is replaced by the buffer rescaled to its value —
// here exactly proportionally, w·C[c]/V per component (§15.5), with no rounding. The
// link set is validated by package trace (trace.NewEngine, trace.NewMulti), and the
// errors met during the replay are the *trace.LinkError values trace's engine raises.

// linkBook is the state of every link of a trace, shared by the engines of a Multi.
type linkBook struct {
	links []*linkState
}

// linkState is one link: its definition, its buffer (value V and tainted composition C)
// and the out-legs processed so far.
type linkState struct {
	def     graph.Link
	value   *big.Int
	buf     composition
	chainIn graph.Chain
	assetIn graph.Asset
	ins     int
	outs    []LinkOut
}

func newLinkBook(links []graph.Link) *linkBook {
	lb := &linkBook{}
	for _, l := range links {
		lb.links = append(lb.links, &linkState{def: l, value: new(big.Int)})
	}
	return lb
}

// legs returns chain c's in-leg and out-leg index: leg reference → link.
func (lb *linkBook) legs(c graph.Chain) (in, out map[string]int) {
	in, out = map[string]int{}, map[string]int{}
	for i, l := range lb.links {
		for _, leg := range l.def.In {
			if leg.Chain == c {
				in[leg.Ref] = i
			}
		}
		for _, leg := range l.def.Out {
			if leg.Chain == c {
				out[leg.Ref] = i
			}
		}
	}
	return in, out
}

// legErr is the *trace.LinkError about leg ref of link li.
func (e *Engine) legErr(li int, ref, reason string) error {
	return &trace.LinkError{Link: e.links.links[li].def.ID, Leg: graph.Leg{Chain: e.cfg.Chain, Ref: ref}.String(), Reason: reason}
}

// isVenue says whether a is a venue of this chain.
func (e *Engine) isVenue(a graph.Address) bool {
	ai := e.addrs[a]
	return ai != nil && ai.venue
}

// linkIn adds an in-leg's arriving composition st (worth value, after pruning) to link
// li's buffer and its taint to the linked_out sink (§15.3).
func (e *Engine) linkIn(li int, ref string, asset graph.Asset, value *big.Int, st composition) error {
	l := e.links.links[li]
	if len(l.outs) > 0 {
		return e.legErr(li, ref, "an in-leg is processed after an out-leg of its link")
	}
	if l.ins == 0 {
		l.chainIn, l.assetIn = e.cfg.Chain, asset
	} else if l.assetIn != asset {
		return e.legErr(li, ref, fmt.Sprintf("in-legs of two assets (%s and %s)", l.assetIn, asset))
	}
	l.ins++
	l.value = new(big.Int).Add(l.value, value)
	switch {
	case e.seq && len(st) > 0:
		l.buf = appendLots(l.buf, st) // the lots in order, CLEAN ones included
		e.sinkAll(trace.SinkLinkedOut, st)
	case e.seq:
		l.buf = appendLot(l.buf, seg{c: cleanComp, amt: ratInt(value)})
	case len(st) > 0:
		l.buf = merge(l.buf, st)
		e.sinkAll(trace.SinkLinkedOut, st)
	}
	return nil
}

// linkOutState returns link li's buffer rescaled exactly to an out-leg of value w, before
// the hop +1 (§15.5): w·C[c]/V of every component; clean when V = 0.
func (e *Engine) linkOutState(li int, ref string, w *big.Int) (composition, error) {
	l := e.links.links[li]
	if l.ins == 0 {
		return nil, e.legErr(li, ref, "an out-leg is processed before any in-leg of its link")
	}
	if l.value.Sign() == 0 {
		return nil, nil
	}
	if e.seq {
		return rescaleSeq(l.buf, l.value, w), nil
	}
	return l.buf.share(w, l.value), nil
}

// recordLinkOut notes an out-leg as it was credited (after the hop +1 and pruning).
func (e *Engine) recordLinkOut(li int, ref string, asset graph.Asset, value *big.Int, st composition) {
	l := e.links.links[li]
	var taint []Component
	if len(st) > 0 {
		taint = e.components(st)
	}
	l.outs = append(l.outs, LinkOut{Chain: e.cfg.Chain, Ref: ref, Asset: asset, Value: ratInt(value), Taint: taint})
}

// addLinkedIn counts the taint an out-leg brought in (after the hop +1, before pruning)
// in the linked_in counter of the current asset.
func (e *Engine) addLinkedIn(st composition) {
	row := e.linkedIn[e.curAsset]
	if row == nil {
		row = zeros(len(e.sources))
		e.linkedIn[e.curAsset] = row
	}
	for _, g := range st {
		if g.c.src != 0 { // a lot sequence's CLEAN lots are no taint
			row[g.c.src] = new(big.Rat).Add(row[g.c.src], g.amt)
		}
	}
}

// CheckLinks reports a link leg of this chain that the replay never met (§15.9), with
// the error trace.Engine.CheckLinks gives. Call it once the history is replayed.
func (e *Engine) CheckLinks() error {
	if e.links == nil {
		return nil
	}
	for _, ref := range sortedRefs(e.inLegs) {
		if !e.legSeen[ref] {
			return e.legErr(e.inLegs[ref], ref, "in-leg not found in the replayed history")
		}
	}
	for _, ref := range sortedRefs(e.outLegs) {
		if !e.legSeen[ref] {
			return e.legErr(e.outLegs[ref], ref, "out-leg not found in the replayed history")
		}
	}
	return nil
}

func sortedRefs(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- results (§15.7) ----

// LinkResult is a link as the exact replay saw it: trace.LinkResult with rational
// amounts.
type LinkResult struct {
	ID       string
	Kind     graph.LinkKind
	Evidence string
	ChainIn  graph.Chain
	AssetIn  graph.Asset
	InValue  *big.Rat
	InTaint  []Component
	Out      []LinkOut
	Status   string // "complete" once an out-leg was processed, else "pending"
}

// LinkOut is one out-leg of a link with the composition it received (after the hop +1
// and pruning).
type LinkOut struct {
	Chain graph.Chain
	Ref   string
	Asset graph.Asset
	Value *big.Rat
	Taint []Component
}

// linkResults returns the book's links as results (nil without links).
func (e *Engine) linkResults() map[string]*LinkResult {
	if e.links == nil {
		return nil
	}
	out := make(map[string]*LinkResult, len(e.links.links))
	for _, l := range e.links.links {
		r := &LinkResult{ID: l.def.ID, Kind: l.def.Kind, Evidence: l.def.Evidence, ChainIn: l.chainIn, AssetIn: l.assetIn,
			InValue: ratInt(l.value), InTaint: e.components(l.buf), Status: "pending"}
		if len(l.outs) > 0 {
			r.Status = "complete"
		}
		r.Out = append(r.Out, l.outs...)
		out[l.def.ID] = r
	}
	return out
}

// jsonLinks encodes links as the spec's link results; multi names the chains.
func jsonLinks(links map[string]*LinkResult, multi bool) map[string]specjson.Link {
	out := make(map[string]specjson.Link, len(links))
	for id, l := range links {
		j := specjson.Link{Kind: string(l.Kind), AssetIn: string(l.AssetIn), InValue: text(l.InValue), InTaint: jsonComps(l.InTaint),
			Out: []specjson.LinkOut{}, Status: l.Status}
		if multi {
			j.ChainIn = string(l.ChainIn)
		}
		for _, o := range l.Out {
			lo := specjson.LinkOut{Ref: o.Ref, Asset: string(o.Asset), Value: text(o.Value), Taint: jsonComps(o.Taint)}
			if multi {
				lo.Chain = string(o.Chain)
			}
			j.Out = append(j.Out, lo)
		}
		out[id] = j
	}
	return out
}

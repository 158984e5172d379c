package exact

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/internal/specjson"
)

// The result types mirror trace's (trace.Output, trace.Holding, …) with every amount an
// exact rational. Values, balances and received totals are integers; taint amounts are
// rationals in lowest terms. A Result's rationals are never changed: do not change them.

// Component is an amount of taint from one source at one hop.
type Component struct {
	Source string
	Hop    uint32
	Amount *big.Rat
}

// Output is a tainted UTXO output: in Result.Outputs the composition that arrived when it
// was created (after pruning, before exchange absorption or seed re-seeding); in
// Result.Unspent the taint it still holds.
type Output struct {
	Outpoint string
	Address  graph.Address
	Value    *big.Rat
	Taint    []Component
	Tainted  *big.Rat // Σ taint
}

// TransferTaint is a tainted account-model transfer (fee pseudo-transfers included, with
// To = trace.FeeSink), after the hop +1, seeding and pruning.
type TransferTaint struct {
	ID      string
	From    graph.Address
	To      graph.Address
	Asset   graph.Asset
	Amount  *big.Rat
	Taint   []Component
	Tainted *big.Rat
}

// Holding is a tainted (address, asset) balance at the end of the replay.
type Holding struct {
	Address graph.Address
	Asset   graph.Asset
	Balance *big.Rat
	Taint   []Component
	Tainted *big.Rat
}

// AssetTotals is what an address received of one asset and how much of it was tainted
// (spec §10.3, per asset as v2 A.1 requires).
type AssetTotals struct {
	Asset    graph.Asset
	Received *big.Rat
	Tainted  *big.Rat
}

// Share is Tainted / Received in lowest terms ("p/q", "1" or "0").
func (t *AssetTotals) Share() string { return ratio(t.Tainted, t.Received) }

// Deposit is a tainted arrival at an exchange address.
type Deposit struct {
	Ref     string
	Address graph.Address
	Asset   graph.Asset
	Value   *big.Rat
	Taint   []Component
	Tainted *big.Rat
}

// Exposure is one exchange's exposure (spec §10.2): one AssetExposure per asset in which
// anything paid one of its addresses (v2 A.1). An exchange that received nothing has no
// assets; every exchange of the configuration is listed.
type Exposure struct {
	Exchange string
	Assets   map[graph.Asset]*AssetExposure
}

// Asset returns the exchange's exposure in asset, or nil when nothing of it arrived.
func (x *Exposure) Asset(a graph.Asset) *AssetExposure { return x.Assets[a] }

// SortedAssets returns the assets the exchange received, sorted.
func (x *Exposure) SortedAssets() []graph.Asset {
	out := make([]graph.Asset, 0, len(x.Assets))
	for a := range x.Assets {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// MarshalJSON writes the exchange's rows keyed by asset, as the spec's exposure entry.
func (x *Exposure) MarshalJSON() ([]byte, error) { return json.Marshal(x.spec()) }

func (x *Exposure) spec() map[string]specjson.Exposure {
	m := make(map[string]specjson.Exposure, len(x.Assets))
	for a, ax := range x.Assets {
		m[string(a)] = ax.spec()
	}
	return m
}

// AssetExposure is an exchange's exposure in one asset. Every amount is in that asset's
// base units.
type AssetExposure struct {
	Asset         graph.Asset
	ReceivedTotal *big.Rat
	TaintedTotal  *big.Rat
	Direct        *big.Rat // taint that arrived at hop ≤ 1
	Indirect      *big.Rat // taint that arrived at hop ≥ 2
	BySource      map[string]*big.Rat
	BySourceHop   []Component
	Deposits      []Deposit // tainted deposits, in chronological order
}

// Share is TaintedTotal / ReceivedTotal in lowest terms ("p/q", "1" or "0").
func (x *AssetExposure) Share() string { return ratio(x.TaintedTotal, x.ReceivedTotal) }

// MarshalJSON writes the spec's exposure row: its names, amounts as "n" or "p/q" and the
// share as a reduced fraction.
func (x *AssetExposure) MarshalJSON() ([]byte, error) { return json.Marshal(x.spec()) }

func (x *AssetExposure) spec() specjson.Exposure {
	deps := []specjson.Deposit{}
	for _, d := range x.Deposits {
		deps = append(deps, specjson.Deposit{Ref: d.Ref, Address: string(d.Address), Value: text(d.Value), Taint: jsonComps(d.Taint)})
	}
	return specjson.Exposure{Received: text(x.ReceivedTotal), Tainted: text(x.TaintedTotal), Direct: text(x.Direct), Indirect: text(x.Indirect),
		Share: x.Share(), BySource: jsonAmounts(x.BySource), BySourceHop: jsonComps(x.BySourceHop), Deposits: deps}
}

// AddressStats is what an address received and how much of it was tainted (spec §10.3),
// per asset.
type AddressStats struct {
	Address graph.Address
	Assets  []AssetTotals // sorted by asset
}

// Totals returns what the address received of asset and how much of it was tainted
// (zero amounts when it received none of it).
func (a *AddressStats) Totals(asset graph.Asset) AssetTotals {
	for _, t := range a.Assets {
		if t.Asset == asset {
			return t
		}
	}
	return AssetTotals{Asset: asset, Received: new(big.Rat), Tainted: new(big.Rat)}
}

// Sinks is every sink's taint: asset → sink name (fees, burned, …) → source → amount.
type Sinks map[graph.Asset]map[string]map[string]*big.Rat

// Get returns the taint of source in sink k of asset (zero when absent).
func (s Sinks) Get(asset graph.Asset, k trace.Sink, source string) *big.Rat {
	if v := s[asset][k.String()][source]; v != nil {
		return v
	}
	return new(big.Rat)
}

// Total returns the taint of every source in sink k of asset.
func (s Sinks) Total(asset graph.Asset, k trace.Sink) *big.Rat {
	t := new(big.Rat)
	for _, v := range s[asset][k.String()] {
		t.Add(t, v)
	}
	return t
}

// Result is the outcome of an exact replay: the spec's result object with rational
// amounts. Its JSON encoding (MarshalJSON) has exactly the keys and layout of
// trace.Result's, which is the spec's result object (§10, §11).
type Result struct {
	Model  graph.Model
	Method string // trace.Haircut or an ordered method
	Params trace.Params

	Outputs   map[string]*Output        // UTXO: tainted outputs as they arrived
	Unspent   map[string]*Output        // UTXO: tainted outputs still unspent
	Transfers map[string]*TransferTaint // account: tainted transfers
	Holdings  map[string]*Holding       // account: tainted holdings, key "address|asset"
	// Sinks is the taint per asset, sink and source that left the tracked graph.
	Sinks Sinks
	// Exposure lists every exchange of the configuration.
	Exposure  map[string]*Exposure
	Addresses map[graph.Address]*AddressStats
	// Injected is the taint each source brought in per asset (seeds, re-seeds,
	// source-account sends): asset → source → amount, always an integer.
	Injected map[graph.Asset]map[string]*big.Rat
	// LinkedIn is the taint links carried in per asset (spec §15.5): asset → source →
	// amount. It counts as injected for conservation.
	LinkedIn map[graph.Asset]map[string]*big.Rat
	// Links are the trace's links (spec §15.7) when it declares any: a one-chain
	// result's own, written in its JSON; a chain's result in a MultiResult shares the
	// trace's, which only the MultiResult writes.
	Links      map[string]*LinkResult
	multiChain bool
	Stats      trace.Stats
}

// ratio formats num/den in lowest terms; "0" when either is zero, as trace does.
func ratio(num, den *big.Rat) string {
	if num == nil || den == nil || num.Sign() == 0 || den.Sign() == 0 {
		return "0"
	}
	return new(big.Rat).Quo(num, den).RatString()
}

// components converts a composition into Components, sorted by (source, hop).
func (e *Engine) components(st composition) []Component {
	if e.seq {
		st = aggregate(st)
	}
	out := make([]Component, 0, len(st))
	for _, g := range st {
		out = append(out, Component{Source: e.sources[g.c.src], Hop: g.c.hop, Amount: g.amt})
	}
	return out
}

// Result returns the result of everything replayed so far. The engine may go on
// replaying; the returned Result does not change.
func (e *Engine) Result() *Result {
	r := &Result{
		Model: e.cfg.Model, Method: e.cfg.Method, Params: e.cfg.Params,
		Sinks: Sinks{}, Exposure: map[string]*Exposure{},
		Addresses: map[graph.Address]*AddressStats{}, Injected: map[graph.Asset]map[string]*big.Rat{},
		Stats: e.stats,
	}
	for i, used := range e.seedUsed {
		if !used {
			r.Stats.UnusedSeeds = append(r.Stats.UnusedSeeds, e.cfg.Seeds[i].String())
		}
	}
	if e.cfg.Model == graph.UTXO {
		r.Outputs, r.Unspent = make(map[string]*Output, len(e.outputs)), map[string]*Output{}
		for k, o := range e.outputs {
			r.Outputs[k] = o // records are never changed once made
		}
		for op, u := range e.utxos {
			if len(u.st) == 0 {
				continue
			}
			ref := op.String()
			r.Unspent[ref] = &Output{Outpoint: ref, Address: u.addr, Value: ratAmount(&u.value), Taint: e.components(u.st), Tainted: u.st.taint()}
		}
	} else {
		r.Transfers, r.Holdings = make(map[string]*TransferTaint, len(e.transfers)), map[string]*Holding{}
		for k, x := range e.transfers {
			r.Transfers[k] = x
		}
		for _, h := range e.holdOrder {
			if !hasTaint(h.st) || h.bal.Sign() == 0 || e.addrs[h.addr].seedSrc != 0 {
				continue // source accounts are excluded
			}
			key := string(h.addr) + "|" + string(h.asset)
			r.Holdings[key] = &Holding{Address: h.addr, Asset: h.asset, Balance: ratInt(h.bal), Taint: e.components(h.st), Tainted: h.st.taint()}
		}
	}
	for asset, bySink := range e.sinks {
		for _, k := range sinks {
			for src, v := range bySink[k] {
				if src == 0 || v.Sign() == 0 {
					continue
				}
				if r.Sinks[asset] == nil {
					r.Sinks[asset] = map[string]map[string]*big.Rat{}
				}
				if r.Sinks[asset][k.String()] == nil {
					r.Sinks[asset][k.String()] = map[string]*big.Rat{}
				}
				r.Sinks[asset][k.String()][e.sources[src]] = v
			}
		}
	}
	for asset, row := range e.injected {
		for src, v := range row {
			if src == 0 || v.Sign() == 0 {
				continue
			}
			if r.Injected[asset] == nil {
				r.Injected[asset] = map[string]*big.Rat{}
			}
			r.Injected[asset][e.sources[src]] = v
		}
	}
	for asset, row := range e.linkedIn {
		for src, v := range row {
			if src == 0 || v.Sign() == 0 {
				continue
			}
			if r.LinkedIn == nil {
				r.LinkedIn = map[graph.Asset]map[string]*big.Rat{}
			}
			if r.LinkedIn[asset] == nil {
				r.LinkedIn[asset] = map[string]*big.Rat{}
			}
			r.LinkedIn[asset][e.sources[src]] = v
		}
	}
	r.Links = e.linkResults()
	for li := range e.exposure {
		ex := &Exposure{Exchange: e.exLabels[li], Assets: map[graph.Asset]*AssetExposure{}}
		for asset, x := range e.exposure[li].assets {
			ax := &AssetExposure{
				Asset: asset, ReceivedTotal: ratInt(x.received), TaintedTotal: x.tainted,
				Direct: x.direct, Indirect: x.indirect, BySource: map[string]*big.Rat{},
				Deposits: append([]Deposit(nil), x.deposits...),
			}
			for src, v := range x.bySource {
				ax.BySource[e.sources[src]] = v
			}
			keys := make([]comp, 0, len(x.bySourceHop))
			for c := range x.bySourceHop {
				keys = append(keys, c)
			}
			sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
			for _, c := range keys {
				ax.BySourceHop = append(ax.BySourceHop, Component{Source: e.sources[c.src], Hop: c.hop, Amount: x.bySourceHop[c]})
			}
			ex.Assets[asset] = ax
		}
		r.Exposure[ex.Exchange] = ex
	}
	if e.cfg.Model == graph.UTXO {
		for a, ai := range e.addrs {
			if ai.receives && ai.seedSrc == 0 {
				r.Addresses[a] = &AddressStats{Address: a, Assets: []AssetTotals{{Asset: graph.BTC, Received: ratInt(ai.received), Tainted: ai.tainted}}}
			}
		}
		return r
	}
	// Account chains: per asset only, from the holdings (v2 A.1).
	for _, h := range e.holdOrder {
		if !h.receives || e.addrs[h.addr].seedSrc != 0 {
			continue
		}
		st := r.Addresses[h.addr]
		if st == nil {
			st = &AddressStats{Address: h.addr}
			r.Addresses[h.addr] = st
		}
		st.Assets = append(st.Assets, AssetTotals{Asset: h.asset, Received: ratInt(h.received), Tainted: h.tainted})
	}
	for _, st := range r.Addresses {
		sort.Slice(st.Assets, func(i, j int) bool { return st.Assets[i].Asset < st.Assets[j].Asset })
	}
	return r
}

// CheckConservation verifies spec §9.3 per source and asset (v2 A.1), exactly: injected
// + linked_in = Σ taint still held (unspent outputs, holdings) + Σ over sinks (linked_out
// and venue_unlinked included, spec §15.5). The error wraps
// trace.ErrNotConserved.
func (r *Result) CheckConservation() error {
	type key struct {
		asset  graph.Asset
		source string
	}
	held := map[key]*big.Rat{}
	for _, o := range r.Unspent {
		for _, c := range o.Taint {
			k := key{graph.BTC, c.Source}
			held[k] = addRat(held[k], c.Amount)
		}
	}
	for _, h := range r.Holdings {
		for _, c := range h.Taint {
			k := key{h.Asset, c.Source}
			held[k] = addRat(held[k], c.Amount)
		}
	}
	for asset, bySink := range r.Sinks {
		for _, m := range bySink {
			for s, v := range m {
				k := key{asset, s}
				held[k] = addRat(held[k], v)
			}
		}
	}
	keys := map[key]bool{}
	for k := range held {
		keys[k] = true
	}
	for asset, m := range r.Injected {
		for s := range m {
			keys[key{asset, s}] = true
		}
	}
	for asset, m := range r.LinkedIn {
		for s := range m {
			keys[key{asset, s}] = true
		}
	}
	sorted := make([]key, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].asset != sorted[j].asset {
			return sorted[i].asset < sorted[j].asset
		}
		return sorted[i].source < sorted[j].source
	})
	var errs []string
	for _, k := range sorted {
		inj := new(big.Rat)
		if v := r.Injected[k.asset][k.source]; v != nil {
			inj.Add(inj, v)
		}
		if v := r.LinkedIn[k.asset][k.source]; v != nil {
			inj.Add(inj, v)
		}
		got := held[k]
		if got == nil {
			got = new(big.Rat)
		}
		if inj.Cmp(got) != 0 {
			errs = append(errs, fmt.Sprintf("source %s, asset %s: injected %s, held + sinks %s", k.source, k.asset, inj.RatString(), got.RatString()))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", trace.ErrNotConserved, strings.Join(errs, "; "))
	}
	return nil
}

// ---- JSON: the spec's result object (§10, §11) with rational amounts ----

// text formats an amount as the spec's expected_exact does: "n" when integral, else
// "p/q" in lowest terms.
func text(r *big.Rat) string {
	if r == nil {
		return "0"
	}
	return r.RatString()
}

func jsonComps(cs []Component) []specjson.Comp {
	out := make([]specjson.Comp, 0, len(cs))
	for _, c := range cs {
		out = append(out, specjson.Comp{Source: c.Source, Hop: c.Hop, Amount: text(c.Amount)})
	}
	return out
}

func jsonAmounts(m map[string]*big.Rat) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = text(v)
	}
	return out
}

// specObject builds the spec's result object in the layout trace.Result writes.
func (r *Result) specObject() map[string]any {
	j := specjson.Result{UTXO: r.Model == graph.UTXO, Sinks: map[string]map[string]map[string]string{},
		Exposure: map[string]map[string]specjson.Exposure{}, Addresses: map[string]map[string]specjson.Address{}}
	if j.UTXO {
		j.Outputs, j.Unspent = map[string]specjson.Output{}, map[string]specjson.Output{}
		for k, o := range r.Outputs {
			j.Outputs[k] = specjson.Output{Address: string(o.Address), Value: text(o.Value), Taint: jsonComps(o.Taint), Tainted: text(o.Tainted)}
		}
		for k, o := range r.Unspent {
			j.Unspent[k] = specjson.Output{Address: string(o.Address), Value: text(o.Value), Taint: jsonComps(o.Taint)}
		}
	} else {
		j.Transfers, j.Holdings = map[string]specjson.Transfer{}, map[string]specjson.Holding{}
		for k, x := range r.Transfers {
			j.Transfers[k] = specjson.Transfer{From: string(x.From), To: string(x.To), Asset: string(x.Asset), Amount: text(x.Amount), Taint: jsonComps(x.Taint), Tainted: text(x.Tainted)}
		}
		for k, h := range r.Holdings {
			j.Holdings[k] = specjson.Holding{Balance: text(h.Balance), Taint: jsonComps(h.Taint)}
		}
	}
	for asset, bySink := range r.Sinks {
		m := map[string]map[string]string{}
		for k, v := range bySink {
			m[k] = jsonAmounts(v)
		}
		j.Sinks[string(asset)] = m
	}
	for k, x := range r.Exposure {
		j.Exposure[k] = x.spec()
	}
	for asset, m := range r.LinkedIn {
		if j.LinkedIn == nil {
			j.LinkedIn = map[string]map[string]string{}
		}
		j.LinkedIn[string(asset)] = jsonAmounts(m)
	}
	if r.Links != nil && !r.multiChain {
		j.Links = jsonLinks(r.Links, false)
	}
	for k, a := range r.Addresses {
		m := make(map[string]specjson.Address, len(a.Assets))
		for _, t := range a.Assets {
			m[string(t.Asset)] = specjson.Address{Received: text(t.Received), Tainted: text(t.Tainted), Share: t.Share()}
		}
		j.Addresses[string(k)] = m
	}
	return j.Object()
}

// MarshalJSON encodes the spec's result object with the keys and layout of
// trace.Result's: outputs/unspent (UTXO) or transfers/holdings (account), and sinks,
// exposure and addresses keyed by asset (spec v2 A.1). Amounts are "n" when integral and "p/q" in lowest terms otherwise (the
// spec's expected_exact form); shares are "p/q", "1" or "0". Map keys are sorted, so the
// encoding is deterministic.
func (r *Result) MarshalJSON() ([]byte, error) { return json.Marshal(r.specObject()) }

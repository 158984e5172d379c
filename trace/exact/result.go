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

// AssetTotals is what was received of one asset and how much of it was tainted.
type AssetTotals struct {
	Received *big.Rat
	Tainted  *big.Rat
}

// Deposit is a tainted arrival at an exchange address.
type Deposit struct {
	Ref     string
	Address graph.Address
	Asset   graph.Asset
	Value   *big.Rat
	Taint   []Component
	Tainted *big.Rat
}

// Exposure is one exchange's exposure (spec §10.2).
type Exposure struct {
	Exchange      string
	ReceivedTotal *big.Rat
	TaintedTotal  *big.Rat
	Direct        *big.Rat // taint that arrived at hop ≤ 1
	Indirect      *big.Rat // taint that arrived at hop ≥ 2
	BySource      map[string]*big.Rat
	BySourceHop   []Component
	Deposits      []Deposit // tainted deposits, in chronological order
	// ByAsset splits ReceivedTotal and TaintedTotal per asset (see trace.Exposure).
	ByAsset map[graph.Asset]AssetTotals
}

// Share is TaintedTotal / ReceivedTotal in lowest terms ("p/q", "1" or "0").
func (x *Exposure) Share() string { return ratio(x.TaintedTotal, x.ReceivedTotal) }

// AddressStats is what an address received and how much of it was tainted (spec §10.3).
type AddressStats struct {
	Address         graph.Address
	Received        *big.Rat
	TaintedReceived *big.Rat
	// ByAsset splits the totals per asset on account chains; nil on UTXO chains (see
	// trace.AddressStats).
	ByAsset map[graph.Asset]AssetTotals
}

// Share is TaintedReceived / Received in lowest terms ("p/q", "1" or "0").
func (a *AddressStats) Share() string { return ratio(a.TaintedReceived, a.Received) }

// Result is the outcome of an exact replay: the spec's result object with rational
// amounts. Its JSON encoding (MarshalJSON) has exactly the keys and layout of
// trace.Result's, which is the spec's result object (§10, §11).
type Result struct {
	Model  graph.Model
	Method string // always trace.Haircut
	Params trace.Params

	Outputs   map[string]*Output        // UTXO: tainted outputs as they arrived
	Unspent   map[string]*Output        // UTXO: tainted outputs still unspent
	Transfers map[string]*TransferTaint // account: tainted transfers
	Holdings  map[string]*Holding       // account: tainted holdings, key "address|asset"
	// Sinks maps a sink name (fees, burned, …) to the taint per source that went there.
	Sinks     map[string]map[string]*big.Rat
	Exposure  map[string]*Exposure
	Addresses map[graph.Address]*AddressStats
	// Injected is the taint each source brought in (seeds, re-seeds, source-account
	// sends); always an integer.
	Injected map[string]*big.Rat
	Stats    trace.Stats
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
		Model: e.cfg.Model, Method: trace.Haircut, Params: e.cfg.Params,
		Sinks: map[string]map[string]*big.Rat{}, Exposure: map[string]*Exposure{},
		Addresses: map[graph.Address]*AddressStats{}, Injected: map[string]*big.Rat{},
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
			if len(h.st) == 0 || h.bal.Sign() == 0 || e.addrs[h.addr].seedSrc != 0 {
				continue // source accounts are excluded
			}
			key := string(h.addr) + "|" + string(h.asset)
			r.Holdings[key] = &Holding{Address: h.addr, Asset: h.asset, Balance: ratInt(h.bal), Taint: e.components(h.st), Tainted: h.st.taint()}
		}
	}
	for _, k := range sinks {
		for src := 1; src < len(e.sources); src++ {
			if v := e.sinks[k][src]; v.Sign() != 0 {
				if r.Sinks[k.String()] == nil {
					r.Sinks[k.String()] = map[string]*big.Rat{}
				}
				r.Sinks[k.String()][e.sources[src]] = v
			}
		}
	}
	for src := 1; src < len(e.sources); src++ {
		r.Injected[e.sources[src]] = e.injected[src]
	}
	for li := range e.exposure {
		x := &e.exposure[li]
		if !x.any {
			continue
		}
		ex := &Exposure{
			Exchange: e.exLabels[li], ReceivedTotal: ratInt(x.received), TaintedTotal: x.tainted,
			Direct: x.direct, Indirect: x.indirect, BySource: map[string]*big.Rat{},
			Deposits: append([]Deposit(nil), x.deposits...), ByAsset: map[graph.Asset]AssetTotals{},
		}
		for src, v := range x.bySource {
			ex.BySource[e.sources[src]] = v
		}
		keys := make([]comp, 0, len(x.bySourceHop))
		for c := range x.bySourceHop {
			keys = append(keys, c)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
		for _, c := range keys {
			ex.BySourceHop = append(ex.BySourceHop, Component{Source: e.sources[c.src], Hop: c.hop, Amount: x.bySourceHop[c]})
		}
		for a, v := range x.byAsset {
			ex.ByAsset[a] = AssetTotals{Received: ratInt(v.received), Tainted: v.tainted}
		}
		r.Exposure[ex.Exchange] = ex
	}
	for a, ai := range e.addrs {
		if ai.receives && ai.seedSrc == 0 {
			r.Addresses[a] = &AddressStats{Address: a, Received: ratInt(ai.received), TaintedReceived: ai.tainted}
		}
	}
	for _, h := range e.holdOrder {
		if !h.receives {
			continue
		}
		if st := r.Addresses[h.addr]; st != nil {
			if st.ByAsset == nil {
				st.ByAsset = map[graph.Asset]AssetTotals{}
			}
			st.ByAsset[h.asset] = AssetTotals{Received: ratInt(h.received), Tainted: h.tainted}
		}
	}
	return r
}

// Totals returns what the address received of asset and how much of it was tainted.
func (a *AddressStats) Totals(asset graph.Asset) AssetTotals {
	if a.ByAsset == nil {
		if asset == graph.BTC {
			return AssetTotals{Received: a.Received, Tainted: a.TaintedReceived}
		}
		return AssetTotals{Received: new(big.Rat), Tainted: new(big.Rat)}
	}
	if t, ok := a.ByAsset[asset]; ok {
		return t
	}
	return AssetTotals{Received: new(big.Rat), Tainted: new(big.Rat)}
}

// CheckConservation verifies spec §9.3 for every source, exactly: injected = Σ taint
// still held (unspent outputs, holdings) + Σ over sinks. The error wraps
// trace.ErrNotConserved.
func (r *Result) CheckConservation() error {
	held := map[string]*big.Rat{}
	for _, o := range r.Unspent {
		for _, c := range o.Taint {
			held[c.Source] = addRat(held[c.Source], c.Amount)
		}
	}
	for _, h := range r.Holdings {
		for _, c := range h.Taint {
			held[c.Source] = addRat(held[c.Source], c.Amount)
		}
	}
	for _, m := range r.Sinks {
		for s, v := range m {
			held[s] = addRat(held[s], v)
		}
	}
	var errs []string
	for _, s := range sortedKeys(r.Injected) {
		got := held[s]
		if got == nil {
			got = new(big.Rat)
		}
		if r.Injected[s].Cmp(got) != 0 {
			errs = append(errs, fmt.Sprintf("source %s: injected %s, held + sinks %s", s, r.Injected[s].RatString(), got.RatString()))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", trace.ErrNotConserved, strings.Join(errs, "; "))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
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
	j := specjson.Result{UTXO: r.Model == graph.UTXO, Sinks: map[string]map[string]string{},
		Exposure: map[string]specjson.Exposure{}, Addresses: map[string]specjson.Address{}}
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
	for k, m := range r.Sinks {
		j.Sinks[k] = jsonAmounts(m)
	}
	for k, x := range r.Exposure {
		deps := []specjson.Deposit{}
		for _, d := range x.Deposits {
			deps = append(deps, specjson.Deposit{Ref: d.Ref, Address: string(d.Address), Value: text(d.Value), Taint: jsonComps(d.Taint)})
		}
		j.Exposure[k] = specjson.Exposure{Received: text(x.ReceivedTotal), Tainted: text(x.TaintedTotal), Direct: text(x.Direct), Indirect: text(x.Indirect),
			Share: x.Share(), BySource: jsonAmounts(x.BySource), BySourceHop: jsonComps(x.BySourceHop), Deposits: deps}
	}
	for k, a := range r.Addresses {
		j.Addresses[string(k)] = specjson.Address{Received: text(a.Received), Tainted: text(a.TaintedReceived), Share: a.Share()}
	}
	return j.Object()
}

// MarshalJSON encodes the spec's result object with the keys and layout of
// trace.Result's: outputs/unspent (UTXO) or transfers/holdings (account), sinks, exposure
// and addresses. Amounts are "n" when integral and "p/q" in lowest terms otherwise (the
// spec's expected_exact form); shares are "p/q", "1" or "0". Map keys are sorted, so the
// encoding is deterministic.
func (r *Result) MarshalJSON() ([]byte, error) { return json.Marshal(r.specObject()) }

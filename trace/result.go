package trace

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace/internal/specjson"
	"github.com/holiman/uint256"
)

// Component is an amount of taint from one source at one hop.
type Component struct {
	Source string       `json:"source"`
	Hop    uint32       `json:"hop"`
	Amount graph.Amount `json:"-"`
}

// MarshalJSON writes the amount as a decimal string, as the spec's result object does.
func (c Component) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Source string `json:"source"`
		Hop    uint32 `json:"hop"`
		Amount string `json:"amount"`
	}{c.Source, c.Hop, c.Amount.Dec()})
}

// Output is a tainted UTXO output: in Result.Outputs the composition that arrived when it
// was created (after pruning, before exchange absorption or seed re-seeding); in
// Result.Unspent the taint it still holds.
type Output struct {
	Outpoint string
	Address  graph.Address
	Value    graph.Amount
	Taint    []Component
	Tainted  graph.Amount // Σ taint; for poison the full value
}

// TransferTaint is a tainted account-model transfer (fee pseudo-transfers included, with
// To = FeeSink), after the hop +1, seeding and pruning.
type TransferTaint struct {
	ID      string
	From    graph.Address
	To      graph.Address
	Asset   graph.Asset
	Amount  graph.Amount
	Taint   []Component
	Tainted graph.Amount
}

// Holding is a tainted (address, asset) balance at the end of the replay.
type Holding struct {
	Address graph.Address
	Asset   graph.Asset
	Balance graph.Amount
	Taint   []Component
	Tainted graph.Amount
}

// AssetTotals is what an address received of one asset and how much of it was tainted
// (spec §10.3, per asset as v2 A.1 requires).
type AssetTotals struct {
	Asset    graph.Asset
	Received graph.Amount
	Tainted  graph.Amount
}

// Share is Tainted / Received as a reduced fraction.
func (t *AssetTotals) Share() string { return ratio(&t.Tainted, &t.Received) }

// Deposit is a tainted arrival at an exchange address.
type Deposit struct {
	Ref     string
	Address graph.Address
	Asset   graph.Asset
	Value   graph.Amount
	Taint   []Component
	Tainted graph.Amount
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

// AssetExposure is an exchange's exposure in one asset. Every amount is in that asset's
// base units.
type AssetExposure struct {
	Asset         graph.Asset
	ReceivedTotal graph.Amount
	TaintedTotal  graph.Amount
	Direct        graph.Amount // taint that arrived at hop ≤ 1
	Indirect      graph.Amount // taint that arrived at hop ≥ 2
	BySource      map[string]graph.Amount
	BySourceHop   []Component
	Deposits      []Deposit // tainted deposits, in chronological order
}

// Share is TaintedTotal / ReceivedTotal as a reduced fraction.
func (x *AssetExposure) Share() string { return ratio(&x.TaintedTotal, &x.ReceivedTotal) }

// MarshalJSON writes the spec's exposure row: its names, amounts as exact decimal strings
// and the share as a reduced fraction.
func (x *AssetExposure) MarshalJSON() ([]byte, error) { return json.Marshal(x.spec()) }

func (x *AssetExposure) spec() specjson.Exposure {
	deps := []specjson.Deposit{}
	for _, d := range x.Deposits {
		deps = append(deps, specjson.Deposit{Ref: d.Ref, Address: string(d.Address), Value: d.Value.Dec(), Taint: jsonComps(d.Taint)})
	}
	return specjson.Exposure{Received: x.ReceivedTotal.Dec(), Tainted: x.TaintedTotal.Dec(), Direct: x.Direct.Dec(), Indirect: x.Indirect.Dec(),
		Share: x.Share(), BySource: jsonAmounts(x.BySource), BySourceHop: jsonComps(x.BySourceHop), Deposits: deps}
}

// MarshalJSON writes the exchange's rows keyed by asset, as the spec's exposure entry.
func (x *Exposure) MarshalJSON() ([]byte, error) {
	m := make(map[string]specjson.Exposure, len(x.Assets))
	for a, ax := range x.Assets {
		m[string(a)] = ax.spec()
	}
	return json.Marshal(m)
}

// AddressStats is what an address received and how much of it was tainted (spec §10.3),
// per asset.
type AddressStats struct {
	Address graph.Address
	Assets  []AssetTotals // sorted by asset
}

// Totals returns what the address received of asset and how much of it was tainted
// (zero amounts for an asset it never received). The Result's own figures must not be
// changed through it.
func (a *AddressStats) Totals(asset graph.Asset) *AssetTotals {
	for i := range a.Assets {
		if a.Assets[i].Asset == asset {
			return &a.Assets[i]
		}
	}
	return &AssetTotals{Asset: asset}
}

// Sinks is every sink's taint: asset → sink name (fees, burned, …) → source → amount.
type Sinks map[graph.Asset]map[string]map[string]graph.Amount

// Get returns (a copy of) the taint of source in sink k of asset; zero when absent.
func (s Sinks) Get(asset graph.Asset, k Sink, source string) *graph.Amount {
	v := s[asset][k.String()][source]
	return &v
}

// Total returns the taint of every source in sink k of asset (not for poison, whose
// per-source amounts are not additive).
func (s Sinks) Total(asset graph.Asset, k Sink) *graph.Amount {
	var t graph.Amount
	for _, v := range s[asset][k.String()] {
		t.Add(&t, &v)
	}
	return &t
}

// Result is the outcome of a replay: the spec's result object plus provenance. Its JSON
// encoding (MarshalJSON) is exactly the spec's result object; use Report for more.
type Result struct {
	Model  graph.Model
	Method string
	Params Params

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
	// source-account sends): asset → source → amount.
	Injected map[graph.Asset]map[string]graph.Amount
	// LinkedIn is the taint links carried in per asset (spec §15.5): asset → source →
	// amount; it counts as injected for conservation.
	LinkedIn map[graph.Asset]map[string]graph.Amount
	// Links holds the trace's links (spec §15.7) on a one-chain trace that declares them;
	// a multi-chain trace has them in its MultiResult.
	Links map[string]*LinkResult
	Stats Stats
	// UnknownOpeningBalances lists the holdings whose opening balance
	// Config.OpeningBalances could not give (the node lacks the historical state): their
	// figures rest on an unknown opening balance and overstate taint.
	UnknownOpeningBalances []HoldingRef
	// multiLinks are the links of the multi-chain trace this result is a chain of
	// (AllLinks): not part of the chain's own result object.
	multiLinks map[string]*LinkResult

	sources []string
	seeds   []Seed
	movs    movList
	eng     uint16 // the engine whose movements are this result's (multi-chain traces share movs)

	// The reference → movement index is built on the first Evidence call: most Results
	// are read for their figures only, and on a long history the index is a large map.
	// With records on disk (Engine.RecordTo) there is none: Evidence scans the records'
	// index file for the reference's hash.
	movOnce  sync.Once
	movIndex map[string]int32
	// recErr is the first error reading or flushing the records on disk.
	recErr error
	// With records on disk: their index by reference hash (built on the first Evidence
	// call, under movOnce) and recently read movements.
	diskIdx *diskIndex
	// The records' duplicate references and their count, found on first use.
	dupOnce   sync.Once
	dupLast   map[uint64]int32
	dupErr    error
	countOnce sync.Once
	count     int
	countErr  error
	idxErr    error
	cacheMu   sync.Mutex
	movCache  map[int32]*movement
	// walkNext memoizes Evidence's steps back (movement, component) → the parent walked
	// to: paths of many deposits meet in the same ancestors, and choosing a parent reads
	// every parent's record (walkMu guards it).
	walkMu   sync.Mutex
	walkNext map[walkKey]walkStep
}

// Records returns the number of tainted outputs (UTXO) or transfers (account) the result
// holds: len(Outputs) + len(Transfers), also when they are on disk (Engine.RecordTo).
func (r *Result) Records() (int, error) {
	if r.movs.log == nil {
		return len(r.Outputs) + len(r.Transfers), nil
	}
	r.countOnce.Do(func() {
		r.dupOnce.Do(func() { r.dupLast, r.dupErr = r.duplicates() })
		if r.countErr = r.dupErr; r.countErr != nil {
			return
		}
		if r.dupLast != nil {
			// A reference recorded twice, or two references with one hash: the records
			// say which.
			r.countErr = r.eachRecord(nil, func(m *movement) error {
				r.count++
				return nil
			})
			return
		}
		// Every key once: the index entries of outputs and transfers are the records.
		r.countErr = r.movs.log.scan(int32(r.movs.len()), func(id int32, off int64, k uint64) error {
			if kd := keyKind(k); off >= 0 && (kd == movOutput || kd == movTransfer) {
				r.count++
			}
			return nil
		})
	})
	return r.count, r.countErr
}

func isOutput(k movKind) bool   { return k == movOutput }
func isTransfer(k movKind) bool { return k == movTransfer }

// eachRecord calls fn with the result's output and transfer records on disk, each
// reference once (the last record of one recorded twice, as Outputs keeps it), in
// record order; want, when not nil, names the kinds fn wants (the rest are not decoded).
func (r *Result) eachRecord(want func(movKind) bool, fn func(m *movement) error) error {
	if r.recErr != nil {
		return r.recErr
	}
	r.dupOnce.Do(func() { r.dupLast, r.dupErr = r.duplicates() })
	if r.dupErr != nil {
		return r.dupErr
	}
	last := r.dupLast
	return r.movs.each(want, func(id int32, m *movement) error {
		if m.kind == movSeed || m.kind == movFee || m.kind == movLink || m.eng != r.eng {
			return nil
		}
		if last != nil {
			if l, ok := last[entryKey(m)]; ok && l != id {
				// A later record has the same hash: skip this one if it is the same
				// reference (a hash collision of two references keeps both).
				if lm, err := r.movs.get(l); err != nil {
					return err
				} else if lm.ref == m.ref {
					return nil
				}
			}
		}
		return fn(m)
	})
}

// duplicates finds the reference hashes that more than one record on disk has (rarely
// any) and returns the last such record's id for each, or nil when there are none: a
// reference recorded twice (a repeated transfer id) keeps its last record, as Outputs
// and Transfers do. The records' hashes are sorted to find them, which needs 8 bytes per
// record for the time it takes.
func (r *Result) duplicates() (map[uint64]int32, error) {
	var hashes []uint64
	if err := r.movs.log.scan(int32(r.movs.len()), func(id int32, off int64, h uint64) error {
		if kd := keyKind(h); off >= 0 && (kd == movOutput || kd == movTransfer) {
			hashes = append(hashes, h)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	slices.Sort(hashes)
	var last map[uint64]int32
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			if last == nil {
				last = map[uint64]int32{}
			}
			last[hashes[i]] = -1
		}
	}
	if last == nil {
		return nil, nil
	}
	err := r.movs.log.scan(int32(r.movs.len()), func(id int32, off int64, h uint64) error {
		if _, ok := last[h]; ok && off >= 0 {
			last[h] = id
		}
		return nil
	})
	return last, err
}

// EachOutput calls fn with every tainted output the result holds (UTXO), in no particular
// order, and stops at the first error fn returns. With records on disk (Engine.RecordTo)
// it reads them there, and the Output and its Taint are valid only during the call (they
// are reused); otherwise they are Outputs' entries.
func (r *Result) EachOutput(fn func(*Output) error) error {
	if r.movs.log == nil {
		for _, o := range r.Outputs {
			if err := fn(o); err != nil {
				return err
			}
		}
		return nil
	}
	var o Output
	var slab []Component
	return r.eachRecord(isOutput, func(m *movement) error {
		if m.kind != movOutput {
			return nil
		}
		slab = slab[:0]
		o = Output{Outpoint: m.ref, Address: m.to, Value: m.value, Taint: appendComponents(&slab, &m.taint, r.sources), Tainted: r.taintOf(m)}
		return fn(&o)
	})
}

// EachTransfer is EachOutput for the tainted transfers of an account chain.
func (r *Result) EachTransfer(fn func(*TransferTaint) error) error {
	if r.movs.log == nil {
		for _, x := range r.Transfers {
			if err := fn(x); err != nil {
				return err
			}
		}
		return nil
	}
	var x TransferTaint
	var slab []Component
	return r.eachRecord(isTransfer, func(m *movement) error {
		if m.kind != movTransfer {
			return nil
		}
		slab = slab[:0]
		x = TransferTaint{ID: m.ref, From: m.from, To: m.to, Asset: m.asset, Amount: m.value, Taint: appendComponents(&slab, &m.taint, r.sources), Tainted: r.taintOf(m)}
		return fn(&x)
	})
}

// taintOf is Engine.taintPacked for a record.
func (r *Result) taintOf(m *movement) uint256.Int {
	if r.Method == Poison {
		if m.taint.len() > 0 {
			return m.value
		}
		return uint256.Int{}
	}
	return m.taint.taint()
}

// Sources returns the source names, sorted.
func (r *Result) Sources() []string { return append([]string(nil), r.sources[1:]...) }

// Seeds returns the seeds the trace was configured with.
func (r *Result) Seeds() []Seed { return append([]Seed(nil), r.seeds...) }

func ratio(num, den *uint256.Int) string {
	if num.IsZero() || den.IsZero() {
		return "0"
	}
	q := new(big.Rat).SetFrac(num.ToBig(), den.ToBig())
	if q.IsInt() {
		return q.Num().String()
	}
	return q.String()
}

func (e *Engine) components(ss []seg) []Component {
	return appendComponents(&e.compSlab, &packed{wide: ss}, e.sources) // a []seg is a wide packed state
}

// componentsPacked is components of a packed state.
func (e *Engine) componentsPacked(p *packed) []Component {
	return appendComponents(&e.compSlab, p, e.sources)
}

// appendComponents converts a packed state into Components carved from *slab, so that a
// large Result makes a few big allocations instead of one per output.
func appendComponents(slab *[]Component, p *packed, sources []string) []Component {
	n := p.len()
	if n == 0 {
		return nil
	}
	if len(*slab)+n > cap(*slab) {
		*slab = make([]Component, 0, max(n, 4096))
	}
	s := *slab
	start := len(s)
	for i := 0; i < n; i++ {
		g := p.at(i)
		s = append(s, Component{Source: sources[g.c.src], Hop: g.c.hop, Amount: g.amt})
	}
	*slab = s
	return s[start:len(s):len(s)]
}

// taintPacked is taintAmount of a packed state.
func (e *Engine) taintPacked(p *packed, value *uint256.Int) uint256.Int {
	if e.kind == sourceSet {
		if p.len() > 0 {
			return *value
		}
		return uint256.Int{}
	}
	return p.taint()
}

// Result returns the result of everything replayed so far. The engine may go on
// replaying; the returned Result does not change.
func (e *Engine) Result() *Result {
	r := &Result{
		Model: e.model, Method: e.method.Name(), Params: e.cfg.Params,
		Sinks: Sinks{}, Exposure: map[string]*Exposure{},
		Addresses: map[graph.Address]*AddressStats{}, Injected: map[graph.Asset]map[string]graph.Amount{},
		Stats: e.stats, sources: e.sources, seeds: e.cfg.Seeds, movs: e.ev.movs.snapshot(), eng: e.engID,
	}
	for i, used := range e.seedUsed {
		if !used && e.cfg.Seeds[i].Chain == e.cfg.Chain {
			r.Stats.UnusedSeeds = append(r.Stats.UnusedSeeds, e.cfg.Seeds[i].String())
		}
	}
	if e.model == graph.UTXO {
		r.Outputs, r.Unspent = map[string]*Output{}, map[string]*Output{}
	} else {
		r.Transfers, r.Holdings = map[string]*TransferTaint{}, map[string]*Holding{}
	}
	if log := e.ev.movs.log; log != nil {
		// The records are on disk (RecordTo): the Result reads them from there
		// (EachOutput, EachTransfer, Evidence) instead of holding them all.
		r.recErr = log.flush()
		r.Outputs, r.Transfers = nil, nil
		e.resultLive(r)
		return r
	}
	if e.model == graph.UTXO {
		r.Outputs = make(map[string]*Output, e.ev.movs.len())
	} else {
		r.Transfers = make(map[string]*TransferTaint, e.ev.movs.len())
	}
	// Converting every tainted movement's composition is most of a large Result's cost
	// and needs nothing but reads of the engine: it runs on all cores, in ranges of the
	// movement list; only the map inserts are sequential.
	n := e.ev.movs.len()
	kept := len(e.comps) // movements converted by an earlier Result (keepComps)
	if e.keepComps {
		e.comps = append(e.comps, make([][]Component, n-kept)...)
	}
	workers := 1
	if n-kept >= 1<<14 {
		workers = min(runtime.GOMAXPROCS(0), 8)
	}
	type part struct {
		outs  []Output
		xfers []TransferTaint
	}
	parts := make([]part, workers)
	var wg sync.WaitGroup
	for w := range parts {
		lo, hi := int32(n*w/workers), int32(n*(w+1)/workers)
		wg.Add(1)
		go func(p *part) {
			defer wg.Done()
			// Nearly every movement is an output (UTXO) or a transfer (account): sized
			// up front, the part never grows by copying (which was ~8 % of a Result).
			if e.model == graph.UTXO {
				p.outs = make([]Output, 0, hi-lo)
			} else {
				p.xfers = make([]TransferTaint, 0, hi-lo)
			}
			var slab []Component
			for i := lo; i < hi; i++ {
				m := e.ev.movs.at(i)
				if m.kind == movSeed || m.kind == movFee || m.kind == movLink || m.eng != e.engID {
					continue // fees are sinks (or, under TaintFee, the coinbase's inputs), not outputs
				}
				tainted := e.taintPacked(&m.taint, &m.value)
				var taint []Component
				switch {
				case int(i) < kept:
					taint = e.comps[i]
				case e.keepComps:
					taint = appendComponents(&slab, &m.taint, e.sources)
					e.comps[i] = taint // each worker writes its own range
				default:
					taint = appendComponents(&slab, &m.taint, e.sources)
				}
				if m.kind == movOutput {
					p.outs = append(p.outs, Output{Outpoint: m.ref, Address: m.to, Value: m.value, Taint: taint, Tainted: tainted})
				} else {
					p.xfers = append(p.xfers, TransferTaint{ID: m.ref, From: m.from, To: m.to, Asset: m.asset, Amount: m.value, Taint: taint, Tainted: tainted})
				}
			}
		}(&parts[w])
	}
	wg.Wait()
	// In movement order, so that a reference recorded twice keeps its last record.
	for w := range parts {
		for i := range parts[w].outs {
			o := &parts[w].outs[i]
			r.Outputs[o.Outpoint] = o
		}
		for i := range parts[w].xfers {
			x := &parts[w].xfers[i]
			r.Transfers[x.ID] = x
		}
	}
	e.resultLive(r)
	return r
}

// resultLive fills in the parts of a Result that come from the engine's live state and
// totals (everything but Outputs and Transfers).
func (e *Engine) resultLive(r *Result) {
	for k, u := range e.utxos {
		if u.st < 0 {
			continue
		}
		e.sp.reset() // aggregate's scratch: what it returns is copied by components
		ts := &e.states[u.st]
		v := e.valueOf(k, &u)
		e.scratch = ts.st.appendTo(e.scratch[:0], 0)
		agg := e.aggregate(e.scratch, &v)
		op := ts.op.String()
		r.Unspent[op] = &Output{Outpoint: op, Address: e.addrTab.name(u.addr), Value: v, Taint: e.components(agg), Tainted: e.taintAmount(e.scratch, &v)}
	}
	for i := range e.holds {
		h := &e.holds[i]
		if len(h.st) == 0 || h.bal.IsZero() {
			continue
		}
		e.sp.reset()
		if e.addrs[h.addr].seedSrc != 0 {
			continue // source accounts are excluded
		}
		t := e.taintAmount(h.st, &h.bal)
		if t.IsZero() {
			continue
		}
		addr, asset := e.addrTab.name(h.addr), e.assets[h.asset]
		r.Holdings[string(addr)+"|"+string(asset)] = &Holding{Address: addr, Asset: asset, Balance: h.bal, Taint: e.components(e.aggregate(h.st, &h.bal)), Tainted: t}
	}
	for as := range e.sinks {
		asset := e.assets[as]
		for k := Sink(0); k < numSinks; k++ {
			for src := 1; src < len(e.sources); src++ {
				if v := e.sinks[as][k][src]; !v.IsZero() {
					if r.Sinks[asset] == nil {
						r.Sinks[asset] = map[string]map[string]graph.Amount{}
					}
					if r.Sinks[asset][k.String()] == nil {
						r.Sinks[asset][k.String()] = map[string]graph.Amount{}
					}
					r.Sinks[asset][k.String()][e.sources[src]] = v
				}
			}
		}
		for src := 1; src < len(e.sources); src++ {
			if v := e.injected[as][src]; !v.IsZero() {
				if r.Injected[asset] == nil {
					r.Injected[asset] = map[string]graph.Amount{}
				}
				r.Injected[asset][e.sources[src]] = v
			}
			if v := e.linkedInTot[as][src]; !v.IsZero() {
				if r.LinkedIn == nil {
					r.LinkedIn = map[graph.Asset]map[string]graph.Amount{}
				}
				if r.LinkedIn[asset] == nil {
					r.LinkedIn[asset] = map[string]graph.Amount{}
				}
				r.LinkedIn[asset][e.sources[src]] = v
			}
		}
	}
	if e.cfg.Chain == "" {
		r.Links = e.linkResults()
	}
	r.UnknownOpeningBalances = append([]HoldingRef(nil), e.openingUnknown...)
	for li := range e.exposure {
		ex := &Exposure{Exchange: e.exLabels[li], Assets: map[graph.Asset]*AssetExposure{}}
		for as, x := range e.exposure[li].assets {
			if x == nil {
				continue
			}
			ax := &AssetExposure{Asset: e.assets[as], ReceivedTotal: x.received, TaintedTotal: x.tainted, Direct: x.direct, Indirect: x.indirect, BySource: map[string]graph.Amount{}}
			for src, v := range x.bySource {
				ax.BySource[e.sources[src]] = *v
			}
			keys := make([]comp, 0, len(x.bySourceHop))
			for c := range x.bySourceHop {
				keys = append(keys, c)
			}
			sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
			for _, c := range keys {
				ax.BySourceHop = append(ax.BySourceHop, Component{Source: e.sources[c.src], Hop: c.hop, Amount: *x.bySourceHop[c]})
			}
			for _, id := range x.deposits {
				m, err := e.ev.movs.get(id)
				if err != nil {
					if r.recErr == nil {
						r.recErr = err
					}
					continue
				}
				ax.Deposits = append(ax.Deposits, Deposit{Ref: m.ref, Address: m.to, Asset: m.asset, Value: m.value, Taint: e.componentsPacked(&m.taint), Tainted: e.taintPacked(&m.taint, &m.value)})
			}
			ex.Assets[ax.Asset] = ax
		}
		r.Exposure[ex.Exchange] = ex
	}
	if e.model == graph.UTXO {
		nAddr := 0
		for i := range e.addrs {
			if e.addrs[i].receives && e.addrs[i].seedSrc == 0 {
				nAddr++
			}
		}
		r.Addresses = make(map[graph.Address]*AddressStats, nAddr)
		stats := make([]AddressStats, 0, nAddr) // one allocation for all of them
		totals := make([]AssetTotals, nAddr)
		for i := range e.addrs {
			ai := &e.addrs[i]
			if !ai.receives || ai.seedSrc != 0 {
				continue
			}
			a := e.addrTab.name(int32(i))
			t := &totals[len(stats)]
			*t = AssetTotals{Asset: graph.BTC, Received: ai.received, Tainted: ai.tainted}
			stats = append(stats, AddressStats{Address: a, Assets: totals[len(stats) : len(stats)+1 : len(stats)+1]})
			r.Addresses[a] = &stats[len(stats)-1]
		}
		return
	}
	for i := range e.holds {
		h := &e.holds[i]
		if !h.receives || e.addrs[h.addr].seedSrc != 0 {
			continue
		}
		a := e.addrTab.name(h.addr)
		st := r.Addresses[a]
		if st == nil {
			st = &AddressStats{Address: a}
			r.Addresses[a] = st
		}
		st.Assets = append(st.Assets, AssetTotals{Asset: e.assets[h.asset], Received: h.received, Tainted: h.tainted})
	}
	for _, st := range r.Addresses {
		sort.Slice(st.Assets, func(i, j int) bool { return st.Assets[i].Asset < st.Assets[j].Asset })
	}
}

// ---- JSON: exactly the spec's result object (§10, §11) ----

func jsonComps(cs []Component) []specjson.Comp {
	out := make([]specjson.Comp, 0, len(cs))
	for _, c := range cs {
		out = append(out, specjson.Comp{Source: c.Source, Hop: c.Hop, Amount: c.Amount.Dec()})
	}
	return out
}

func jsonAmounts(m map[string]graph.Amount) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v.Dec()
	}
	return out
}

// specObject returns the spec's result object as generic JSON values.
func (r *Result) specObject() (map[string]any, error) {
	j := specjson.Result{UTXO: r.Model == graph.UTXO, Sinks: map[string]map[string]map[string]string{},
		Exposure: map[string]map[string]specjson.Exposure{}, Addresses: map[string]map[string]specjson.Address{}}
	if j.UTXO {
		j.Outputs, j.Unspent = map[string]specjson.Output{}, map[string]specjson.Output{}
		if err := r.EachOutput(func(o *Output) error {
			j.Outputs[o.Outpoint] = specjson.Output{Address: string(o.Address), Value: o.Value.Dec(), Taint: jsonComps(o.Taint), Tainted: o.Tainted.Dec()}
			return nil
		}); err != nil {
			return nil, err
		}
		for k, o := range r.Unspent {
			j.Unspent[k] = specjson.Output{Address: string(o.Address), Value: o.Value.Dec(), Taint: jsonComps(o.Taint)}
		}
	} else {
		j.Transfers, j.Holdings = map[string]specjson.Transfer{}, map[string]specjson.Holding{}
		if err := r.EachTransfer(func(x *TransferTaint) error {
			j.Transfers[x.ID] = specjson.Transfer{From: string(x.From), To: string(x.To), Asset: string(x.Asset), Amount: x.Amount.Dec(), Taint: jsonComps(x.Taint), Tainted: x.Tainted.Dec()}
			return nil
		}); err != nil {
			return nil, err
		}
		for k, h := range r.Holdings {
			j.Holdings[k] = specjson.Holding{Balance: h.Balance.Dec(), Taint: jsonComps(h.Taint)}
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
		m := map[string]specjson.Exposure{}
		for a, ax := range x.Assets {
			m[string(a)] = ax.spec()
		}
		j.Exposure[k] = m
	}
	for asset, m := range r.LinkedIn {
		if j.LinkedIn == nil {
			j.LinkedIn = map[string]map[string]string{}
		}
		j.LinkedIn[string(asset)] = jsonAmounts(m)
	}
	if r.Links != nil {
		j.Links = jsonLinks(r.Links, false)
	}
	for k, a := range r.Addresses {
		m := make(map[string]specjson.Address, len(a.Assets))
		for _, t := range a.Assets {
			m[string(t.Asset)] = specjson.Address{Received: t.Received.Dec(), Tainted: t.Tainted.Dec(), Share: t.Share()}
		}
		j.Addresses[string(k)] = m
	}
	return j.Object(), nil
}

// MarshalJSON encodes the spec's result object: outputs/unspent (UTXO) or
// transfers/holdings (account), sinks, exposure and addresses, amounts as decimal strings
// and shares as reduced fractions. Map keys are sorted, so the encoding is deterministic.
func (r *Result) MarshalJSON() ([]byte, error) {
	obj, err := r.specObject()
	if err != nil {
		return nil, err
	}
	return json.Marshal(obj)
}

// String renders the result as readable tables (see Table).
func (r *Result) String() string {
	var b strings.Builder
	r.writeTables(&b)
	return b.String()
}

// ErrNotConserved is returned by CheckConservation.
var ErrNotConserved = errors.New("taint not conserved")

// CheckConservation verifies spec §9.3 per source and asset (v2 A.1): injected = Σ taint
// still held + Σ over sinks. Poison is not amount-conserving and always passes.
func (r *Result) CheckConservation() error {
	if r.Method == Poison {
		return nil
	}
	type key struct {
		asset  graph.Asset
		source string
	}
	held := map[key]*uint256.Int{}
	add := func(k key, v *uint256.Int) {
		if held[k] == nil {
			held[k] = new(uint256.Int)
		}
		held[k].Add(held[k], v)
	}
	for _, o := range r.Unspent {
		for _, c := range o.Taint {
			add(key{graph.BTC, c.Source}, &c.Amount)
		}
	}
	for _, h := range r.Holdings {
		for _, c := range h.Taint {
			add(key{h.Asset, c.Source}, &c.Amount)
		}
	}
	for asset, bySink := range r.Sinks {
		for _, m := range bySink {
			for s, v := range m {
				add(key{asset, s}, &v)
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
		inj := r.Injected[k.asset][k.source]
		if li := r.LinkedIn[k.asset][k.source]; !li.IsZero() {
			inj.Add(&inj, &li) // links bring taint in as seeds do (spec §15.5)
		}
		got := held[k]
		if got == nil {
			got = new(uint256.Int)
		}
		if !inj.Eq(got) {
			errs = append(errs, fmt.Sprintf("source %s, asset %s: injected %s, held + sinks %s", k.source, k.asset, inj.Dec(), got.Dec()))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrNotConserved, strings.Join(errs, "; "))
	}
	return nil
}

// ResultFormatVersion is the version of the spec's result object that MarshalJSON writes:
// 2 keys sinks, exposure and address figures by asset (spec v2 A.1) and lists every
// exchange. Documents that embed results (the investigator's report.json) carry it.
const ResultFormatVersion = 2

// jsonLinks encodes links as the spec's links object (§15.7); multi says whether the
// chains are named (a multi-chain result).
func jsonLinks(links map[string]*LinkResult, multi bool) map[string]specjson.Link {
	out := make(map[string]specjson.Link, len(links))
	for id, l := range links {
		j := specjson.Link{Kind: string(l.Kind), AssetIn: string(l.AssetIn), InValue: l.InValue.Dec(), InTaint: jsonComps(l.InTaint),
			Out: []specjson.LinkOut{}, Status: l.Status}
		if multi {
			j.ChainIn = string(l.ChainIn)
		}
		for _, o := range l.Out {
			lo := specjson.LinkOut{Ref: o.Ref, Asset: string(o.Asset), Value: o.Value.Dec(), Taint: jsonComps(o.Taint)}
			if multi {
				lo.Chain = string(o.Chain)
			}
			j.Out = append(j.Out, lo)
		}
		out[id] = j
	}
	return out
}

// MarshalJSON encodes the link as the spec's link result (§15.7), chains named.
func (l *LinkResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonLinks(map[string]*LinkResult{l.ID: l}, l.ChainIn != "")[l.ID])
}

// AllLinks returns the links of the trace the result belongs to: its own (a one-chain
// trace) or those of its multi-chain trace, which its JSON leaves to the MultiResult.
func (r *Result) AllLinks() map[string]*LinkResult {
	if r.Links != nil {
		return r.Links
	}
	return r.multiLinks
}

package report

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/holiman/uint256"
)

// FormatVersion is the version of the JSON report's layout. Version 2 keys every figure by
// asset (spec v2 A.1): exposure rows, sinks, injected and held taint.
const FormatVersion = 2

// ErrNoResults is returned by Build for a Run without results.
var ErrNoResults = errors.New("report: run has no trace results")

// Meta describes the run as a whole: what the report cites so that it can be reproduced.
type Meta struct {
	Title string
	// Notice is shown first in every output (the program puts the simulation notice here).
	Notice string
	// Command is the command line that reproduces the run (without temporary paths).
	Command []string
	// Parameters are the settings in effect (flags, defaults), by name.
	Parameters map[string]string
	// LabelSources lists the label files or sets that were loaded.
	LabelSources []LabelSource
}

// LabelSource is one loaded set of labels.
type LabelSource struct {
	Name   string `json:"name"` // file (relative to the repository when bundled) or set name
	Labels int    `json:"labels"`
	Note   string `json:"note,omitempty"`
}

// Run is the trace of one chain under one or more methods.
type Run struct {
	Chain graph.Chain
	// StoreHeight is the store's tip for the chain; From and To the replayed heights.
	StoreHeight uint64
	From, To    uint64
	// Results holds one Result per method, in the order to show them.
	Results []*trace.Result
	// Labels, if set, names and colours the addresses in the pictures.
	Labels *labels.Set
	// AsOf is the day the labels were read for (zero: ignoring dates).
	AsOf time.Time
	// MaxEdges caps the flow graph (default 300 movements, exchange deposits always kept).
	MaxEdges int
	// MaxResultEntries: a method's full spec result object goes into the JSON report only
	// when it has at most this many tainted movements (default 20,000).
	MaxResultEntries int
	// Assets names the tokens (symbol, decimals) so that their amounts are shown in their
	// own unit; tokens without an entry are shown in raw units with their contract.
	Assets Assets
}

// Report is the investigator's report. Build makes one; its JSON encoding is the report
// file.
type Report struct {
	FormatVersion int               `json:"format_version"`
	Title         string            `json:"title"`
	Notice        string            `json:"notice,omitempty"`
	Command       []string          `json:"command,omitempty"`
	Parameters    map[string]string `json:"parameters"`
	LabelSources  []LabelSource     `json:"label_sources"`
	Chains        []ChainReport     `json:"chains"`
}

// ChainReport is one chain's part of the report.
type ChainReport struct {
	Chain       graph.Chain `json:"chain"`
	Model       graph.Model `json:"model"`
	StoreHeight uint64      `json:"store_height"`
	From        uint64      `json:"from"`
	To          uint64      `json:"to"`
	// Seeds are the seeds that matched the replayed data; UnusedSeeds counts the others
	// (attributions of addresses that never appear in the window).
	Seeds       []SeedRef `json:"seeds"`
	UnusedSeeds int       `json:"unused_seeds"`
	// Assets lists, for every asset a figure of the chain is in, its symbol and
	// decimals where known.
	Assets  []AssetRef     `json:"assets"`
	Methods []MethodReport `json:"methods"`

	Flow    *FlowGraph `json:"-"`
	Sankeys []*Sankey  `json:"-"`
	run     Run
}

// AssetRef says what an asset of the report is: the native asset or a token contract, its
// symbol and decimals when known (Known false: raw base units).
type AssetRef struct {
	Asset    graph.Asset `json:"asset"`
	Symbol   string      `json:"symbol,omitempty"`
	Decimals int         `json:"decimals,omitempty"`
	Known    bool        `json:"known"`
}

// SeedRef is a seed and why it is one.
type SeedRef struct {
	Address graph.Address `json:"address"`
	Source  string        `json:"source"`
	Origin  string        `json:"origin,omitempty"`
}

// MethodReport is the outcome of one method. Every amount is in base units of the asset
// it is keyed by or names; amounts of two assets are never added.
type MethodReport struct {
	Method string `json:"method"`
	// Exposure has one row per exchange and asset it received (the spec's result object,
	// Result, also lists the exchanges that received nothing).
	Exposure []ExposureRow `json:"exposure"`
	// Exchanges is how many exchange labels the trace knew; IdleExchanges how many of them
	// received nothing in the window.
	Exchanges     int `json:"exchanges"`
	IdleExchanges int `json:"idle_exchanges"`
	// Evidence has one path per exchange and asset: the largest (source, hop) component
	// of the exchange's most tainted deposit in that asset, back to its seed.
	Evidence     []ExchangePath                               `json:"evidence"`
	Sinks        map[graph.Asset]map[string]map[string]string `json:"sinks"`    // asset → sink → source
	Injected     map[graph.Asset]map[string]string            `json:"injected"` // asset → source
	Held         map[graph.Asset]map[string]string            `json:"held"`     // asset → source
	Conservation string                                       `json:"conservation"`
	Stats        trace.Stats                                  `json:"stats"`
	// Links are the links of the trace (spec §15): what went into each and what came out,
	// with the taint carried, in base units of each leg's asset.
	Links []LinkRow `json:"links,omitempty"`
	// UnknownOpeningBalances lists the tainted holdings of a window whose balance before
	// the window the node could not give: their figures overstate taint.
	UnknownOpeningBalances []trace.HoldingRef `json:"unknown_opening_balances,omitempty"`
	// Result is the spec's result object (omitted for very large traces: see
	// Run.MaxResultEntries).
	Result *trace.Result `json:"result,omitempty"`
	res    *trace.Result
}

// ExposureRow is one exchange's exposure in one asset (spec §10.2, v2 A.1), amounts in
// that asset's base units.
type ExposureRow struct {
	Exchange string            `json:"exchange"`
	Asset    graph.Asset       `json:"asset"`
	Received string            `json:"received"`
	Tainted  string            `json:"tainted"`
	Direct   string            `json:"direct"`
	Indirect string            `json:"indirect"`
	Share    string            `json:"share"`
	MinHop   uint32            `json:"min_hop"`
	MaxHop   uint32            `json:"max_hop"`
	Deposits int               `json:"tainted_deposits"`
	BySource map[string]string `json:"by_source"`
}

// LinkRow is one link of the trace: its kind and evidence, what went in (chain, asset,
// value, tainted) and each out-leg (chain, reference, asset, value, tainted).
type LinkRow struct {
	ID       string         `json:"id"`
	Kind     graph.LinkKind `json:"kind"`
	Evidence string         `json:"evidence,omitempty"`
	Status   string         `json:"status"`
	ChainIn  graph.Chain    `json:"chain_in,omitempty"`
	AssetIn  graph.Asset    `json:"asset_in"`
	InValue  string         `json:"in_value"`
	InTaint  string         `json:"in_tainted"`
	Out      []LinkOutRow   `json:"out"`
}

// LinkOutRow is one out-leg of a link.
type LinkOutRow struct {
	Chain   graph.Chain `json:"chain,omitempty"`
	Ref     string      `json:"ref"`
	Asset   graph.Asset `json:"asset"`
	Value   string      `json:"value"`
	Tainted string      `json:"tainted"`
}

// linkRows lists res's trace's links, sorted by id.
func linkRows(res *trace.Result) []LinkRow {
	links := res.AllLinks()
	ids := make([]string, 0, len(links))
	for id := range links {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var rows []LinkRow
	sum := func(cs []trace.Component, value *uint256.Int) string {
		if res.Method == trace.Poison {
			if len(cs) > 0 {
				return value.Dec() // poison taints the whole value
			}
			return "0"
		}
		var t uint256.Int
		for _, c := range cs {
			t.Add(&t, &c.Amount)
		}
		return t.Dec()
	}
	for _, id := range ids {
		l := links[id]
		row := LinkRow{ID: id, Kind: l.Kind, Evidence: l.Evidence, Status: l.Status, ChainIn: l.ChainIn, AssetIn: l.AssetIn,
			InValue: l.InValue.Dec(), InTaint: sum(l.InTaint, &l.InValue), Out: []LinkOutRow{}}
		for _, o := range l.Out {
			row.Out = append(row.Out, LinkOutRow{Chain: o.Chain, Ref: o.Ref, Asset: o.Asset, Value: o.Value.Dec(), Tainted: sum(o.Taint, &o.Value)})
		}
		rows = append(rows, row)
	}
	return rows
}

// ExchangePath explains one exchange's exposure in one asset by one path.
type ExchangePath struct {
	Exchange string      `json:"exchange"`
	Asset    graph.Asset `json:"asset"`
	Deposit  string      `json:"deposit"`
	Path     trace.Path  `json:"path"`
}

// Build assembles the report of the runs. It computes the evidence paths, the flow graph
// (of the first haircut result of each run, else its first result) and a Sankey diagram
// per method.
func Build(meta Meta, runs ...Run) (*Report, error) {
	r := &Report{FormatVersion: FormatVersion, Title: meta.Title, Notice: meta.Notice, Command: meta.Command,
		Parameters: meta.Parameters, LabelSources: meta.LabelSources}
	if r.Parameters == nil {
		r.Parameters = map[string]string{}
	}
	if r.LabelSources == nil {
		r.LabelSources = []LabelSource{}
	}
	for _, run := range runs {
		if len(run.Results) == 0 {
			return nil, fmt.Errorf("%w (chain %s)", ErrNoResults, run.Chain)
		}
		if run.MaxEdges <= 0 {
			run.MaxEdges = 300
		}
		if run.MaxResultEntries <= 0 {
			run.MaxResultEntries = 20_000
		}
		cr := ChainReport{Chain: run.Chain, Model: run.Results[0].Model, StoreHeight: run.StoreHeight, From: run.From, To: run.To, run: run, Assets: []AssetRef{}}
		first := run.Results[0]
		unused := map[string]bool{}
		for _, s := range first.Stats.UnusedSeeds {
			unused[s] = true
		}
		cr.UnusedSeeds = len(first.Stats.UnusedSeeds)
		cr.Seeds = []SeedRef{}
		for _, s := range first.Seeds() {
			// A multi-chain trace gives every chain's engine the seeds of all chains.
			if s.Chain != "" && s.Chain != run.Chain {
				continue
			}
			if !unused[s.String()] {
				ref := SeedRef{Address: s.Address, Source: s.Source, Origin: s.Origin}
				if s.Outpoint != nil {
					ref.Address = graph.Address(s.Outpoint.String())
				} else if s.Transfer != "" {
					ref.Address = graph.Address(s.Transfer)
				}
				cr.Seeds = append(cr.Seeds, ref)
			}
		}
		primary := first
		for _, res := range run.Results {
			if res.Method == trace.Haircut {
				primary = res
				break
			}
		}
		// The flow graph reads the primary result's records while the methods' tables and
		// diagrams read theirs: on a long history each is seconds of record reads and
		// evidence walks, and a Result may be read from several goroutines.
		flow := make(chan *FlowGraph, 1)
		go func() { flow <- BuildFlow(primary, run.Chain, run.Labels, run.AsOf, run.MaxEdges) }()
		assets := map[graph.Asset]bool{}
		for _, res := range run.Results {
			mr, err := methodReport(res, run.MaxResultEntries)
			if err != nil {
				<-flow
				return nil, err
			}
			cr.Methods = append(cr.Methods, mr)
			// One diagram per asset that carried taint: units of two assets are never
			// drawn on one scale.
			for _, a := range taintedAssets(res) {
				assets[a] = true
				sk := BuildSankey(res, run.Chain, a, run.Labels, run.AsOf)
				sk.Assets, sk.Notice = run.Assets, meta.Notice
				cr.Sankeys = append(cr.Sankeys, sk)
			}
			for _, row := range mr.Exposure {
				if row.Asset != "" {
					assets[row.Asset] = true
				}
			}
		}
		for _, a := range sortedAssetKeys(assets) {
			ref := AssetRef{Asset: a}
			if i, ok := run.Assets.Info(run.Chain, a); ok {
				ref.Symbol, ref.Decimals, ref.Known = i.Symbol, i.Decimals, true
			}
			cr.Assets = append(cr.Assets, ref)
		}
		cr.Flow = <-flow
		cr.Flow.Notice, cr.Flow.Assets = meta.Notice, run.Assets
		r.Chains = append(r.Chains, cr)
	}
	if r.Chains == nil {
		r.Chains = []ChainReport{}
	}
	return r, nil
}

func methodReport(res *trace.Result, maxEntries int) (MethodReport, error) {
	mr := MethodReport{Method: res.Method, Exposure: []ExposureRow{}, Evidence: []ExchangePath{},
		Sinks: map[graph.Asset]map[string]map[string]string{}, Injected: map[graph.Asset]map[string]string{},
		Held: map[graph.Asset]map[string]string{}, Stats: res.Stats, res: res}
	if mr.Stats.UnusedSeeds != nil {
		mr.Stats.UnusedSeeds = nil // counted once per chain; the list can be long
	}
	for a, bySink := range res.Sinks {
		mr.Sinks[a] = map[string]map[string]string{}
		for k, m := range bySink {
			mr.Sinks[a][k] = amounts(m)
		}
	}
	for a, m := range res.Injected {
		mr.Injected[a] = amounts(m)
	}
	held := map[graph.Asset]map[string]*uint256.Int{}
	addHeld := func(a graph.Asset, cs []trace.Component) {
		for _, c := range cs {
			if held[a] == nil {
				held[a] = map[string]*uint256.Int{}
			}
			if held[a][c.Source] == nil {
				held[a][c.Source] = new(uint256.Int)
			}
			held[a][c.Source].Add(held[a][c.Source], &c.Amount)
		}
	}
	for _, o := range res.Unspent {
		addHeld(graph.BTC, o.Taint)
	}
	for _, h := range res.Holdings {
		addHeld(h.Asset, h.Taint)
	}
	for a, m := range held {
		mr.Held[a] = map[string]string{}
		for s, v := range m {
			mr.Held[a][s] = v.Dec()
		}
	}
	if err := res.CheckConservation(); err != nil {
		mr.Conservation = err.Error()
	} else if res.Method == trace.Poison {
		mr.Conservation = "not applicable: poison amounts are not additive (spec §9.3)"
	} else {
		mr.Conservation = "ok: injected = held + sinks for every source and asset"
	}
	mr.Exchanges = len(res.Exposure)
	for _, ex := range sortedKeys(res.Exposure) {
		x := res.Exposure[ex]
		if len(x.Assets) == 0 {
			mr.IdleExchanges++
			continue
		}
		for _, a := range x.SortedAssets() {
			ax := x.Assets[a]
			row := ExposureRow{Exchange: ex, Asset: a, Received: ax.ReceivedTotal.Dec(), Tainted: ax.TaintedTotal.Dec(), Direct: ax.Direct.Dec(),
				Indirect: ax.Indirect.Dec(), Share: ax.Share(), Deposits: len(ax.Deposits), BySource: amounts(ax.BySource)}
			for i, c := range ax.BySourceHop {
				if i == 0 || c.Hop < row.MinHop {
					row.MinHop = c.Hop
				}
				if c.Hop > row.MaxHop {
					row.MaxHop = c.Hop
				}
			}
			mr.Exposure = append(mr.Exposure, row)
			if p, dep, ok := exchangePath(res, ax); ok {
				mr.Evidence = append(mr.Evidence, ExchangePath{Exchange: ex, Asset: a, Deposit: dep, Path: p})
			}
		}
	}
	mr.Links = linkRows(res)
	mr.UnknownOpeningBalances = res.UnknownOpeningBalances
	if n, err := res.Records(); err != nil {
		return mr, err
	} else if n <= maxEntries {
		mr.Result = res
	}
	return mr, nil
}

// taintedAssets lists the assets in which res's sources injected taint, or links carried
// it in, sorted.
func taintedAssets(res *trace.Result) []graph.Asset {
	m := map[graph.Asset]bool{}
	for _, in := range []map[graph.Asset]map[string]graph.Amount{res.Injected, res.LinkedIn} {
		for a, bySrc := range in {
			for _, v := range bySrc {
				if !v.IsZero() {
					m[a] = true
				}
			}
		}
	}
	return sortedAssetKeys(m)
}

func sortedAssetKeys[V any](m map[graph.Asset]V) []graph.Asset {
	ks := make([]graph.Asset, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// exchangePath picks the most tainted deposit (the earliest on a tie) and its largest
// component (the lowest hop on a tie) and explains it.
func exchangePath(res *trace.Result, x *trace.AssetExposure) (trace.Path, string, bool) {
	best := -1
	for i := range x.Deposits {
		if x.Deposits[i].Tainted.IsZero() {
			continue
		}
		if best < 0 || x.Deposits[i].Tainted.Gt(&x.Deposits[best].Tainted) {
			best = i
		}
	}
	if best < 0 {
		return trace.Path{}, "", false
	}
	ref := x.Deposits[best].Ref
	// The largest component's path (the first of equal ones): the others need not be walked.
	paths, _, err := res.EvidenceLargest(ref, 1)
	if err != nil || len(paths) == 0 {
		return trace.Path{}, "", false
	}
	return paths[0], ref, true
}

func amountOf(s string) *uint256.Int {
	v, err := uint256.FromDecimal(s)
	if err != nil {
		return new(uint256.Int)
	}
	return v
}

func amounts(m map[string]graph.Amount) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v.Dec()
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// WriteJSON writes the report as indented JSON (deterministic: maps sorted by key).
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return fmt.Errorf("report: encode JSON: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteDepositsCSV writes one row per tainted exchange deposit, chain and method: the
// reference, transaction, address, asset (and its symbol), value, taint, the share as an
// exact fraction and as a decimal, and its components ("source@hop=amount", ";"-separated),
// all amounts in base units of the row's asset.
func (r *Report) WriteDepositsCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"chain", "method", "exchange", "deposit", "tx", "address", "asset", "symbol", "value", "tainted", "share", "share_decimal", "components"})
	for _, c := range r.Chains {
		for _, m := range c.Methods {
			for _, ex := range sortedKeys(m.res.Exposure) {
				x := m.res.Exposure[ex]
				for _, a := range x.SortedAssets() {
					for _, d := range x.Assets[a].Deposits {
						var comps []string
						for _, t := range d.Taint {
							comps = append(comps, fmt.Sprintf("%s@%d=%s", t.Source, t.Hop, t.Amount.Dec()))
						}
						sym := ""
						if i, ok := c.run.Assets.Info(c.Chain, a); ok {
							sym = i.Symbol
						}
						if err := cw.Write([]string{string(c.Chain), m.Method, ex, d.Ref, txOf(c.Model, d.Ref), string(d.Address), string(a), sym,
							d.Value.Dec(), d.Tainted.Dec(), ratio(&d.Tainted, &d.Value), Decimal(d.Tainted.Dec(), d.Value.Dec()), strings.Join(comps, ";")}); err != nil {
							return fmt.Errorf("report: write CSV: %w", err)
						}
					}
				}
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: write CSV: %w", err)
	}
	return nil
}

// txOf returns the transaction of a movement reference: "txid:vout" (UTXO) or
// "<tx>.<suffix>" (account transfer).
func txOf(m graph.Model, ref string) string {
	sep := "."
	if m == graph.UTXO {
		sep = ":"
	}
	if i := strings.Index(ref, sep); i > 0 {
		return ref[:i]
	}
	return ref
}

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

// WriteTable writes, for each chain, the exposure per exchange, asset and method
// (received, tainted, direct, indirect, share, hops), each amount in its asset's own unit,
// then one evidence path per exchange and asset (haircut when traced, else the first
// method).
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	if r.Notice != "" {
		fmt.Fprintf(&b, "%s\n\n", r.Notice)
	}
	for _, c := range r.Chains {
		as := c.run.Assets
		fmt.Fprintf(&b, "%s (%s model), store height %d, replayed %d..%d; %d seeds matched, %d did not appear\n",
			c.Chain, c.Model, c.StoreHeight, c.From, c.To, len(c.Seeds), c.UnusedSeeds)
		fmt.Fprintf(&b, "\nexposure per exchange, asset and method (each in its own unit; exact base units in report.json)\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "exchange\tasset\tmethod\treceived\ttainted\tdirect\tindirect\tshare\thops\t")
		rows := 0
		for _, ex := range c.exchanges() {
			for _, a := range c.exchangeAssets(ex) {
				unit := as.Name(c.Chain, a)
				for _, m := range c.Methods {
					for _, x := range m.Exposure {
						if x.Exchange != ex || x.Asset != a {
							continue
						}
						hops := "-"
						if x.Tainted != "0" {
							hops = fmt.Sprintf("%d", x.MinHop)
							if x.MaxHop != x.MinHop {
								hops = fmt.Sprintf("%d-%d", x.MinHop, x.MaxHop)
							}
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", ex, unit, m.Method, as.Number(c.Chain, a, x.Received),
							as.Number(c.Chain, a, x.Tainted), as.Number(c.Chain, a, x.Direct), as.Number(c.Chain, a, x.Indirect),
							Percent(x.Tainted, x.Received), hops)
						rows++
					}
				}
			}
		}
		tw.Flush()
		first := c.Methods[0]
		switch {
		case first.Exchanges == 0:
			fmt.Fprintln(&b, "  (no exchange labels were loaded for this chain: nothing can be attributed to an exchange)")
		case rows == 0:
			fmt.Fprintf(&b, "  (none of the %d exchanges received anything in the window)\n", first.Exchanges)
		case first.IdleExchanges > 0:
			fmt.Fprintf(&b, "  (%d other exchange(s) received nothing in the window)\n", first.IdleExchanges)
		}
		for _, a := range c.Assets {
			if !a.Known && a.Asset != c.Chain.NativeAsset() {
				fmt.Fprintf(&b, "  %s: token without known symbol and decimals: amounts in raw base units\n", a.Asset)
			}
		}
		m := c.primary()
		fmt.Fprintf(&b, "\nevidence: one path per exchange and asset (%s)\n", m.Method)
		for _, e := range m.Evidence {
			writePath(&b, c.Chain, as, e)
		}
		fmt.Fprintln(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writePath(b *strings.Builder, chain graph.Chain, as Assets, e ExchangePath) {
	fmt.Fprintf(b, "  %s: deposit %s carries %s of %s at hop %d\n", e.Exchange, e.Deposit, as.Format(chain, e.Asset, e.Path.Amount), e.Path.Source, e.Path.Hop)
	for _, s := range e.Path.Steps {
		if s.Kind == "seed" {
			fmt.Fprintf(b, "    seed %s (%s)\n", s.Ref, s.Seed)
			continue
		}
		if s.Kind == "link" && s.Link != nil {
			fmt.Fprintf(b, "    link %s (%s): %s of %s went in, carried on at its taint fraction", s.Link.ID, s.Link.Kind, as.Format(chain, s.Asset, s.Amount), as.Format(chain, s.Asset, s.Value))
			if s.Link.Evidence != "" {
				fmt.Fprintf(b, "; evidence: %s", s.Link.Evidence)
			}
			fmt.Fprintln(b)
			continue
		}
		asset := s.Asset
		if asset == "" {
			asset = chain.NativeAsset()
		}
		fmt.Fprintf(b, "    hop %d  %s  %s -> %s  %s tainted of %s", s.Hop, s.Ref, s.From, s.To, as.Format(chain, asset, s.Amount), as.Format(chain, asset, s.Value))
		fmt.Fprintf(b, "  block %d\n", s.Height)
	}
	if !e.Path.Complete {
		fmt.Fprintln(b, "    (path could not be followed back to a seed)")
	}
}

// exchanges returns every exchange of any method, sorted.
func (c *ChainReport) exchanges() []string {
	seen := map[string]bool{}
	for _, m := range c.Methods {
		for _, x := range m.Exposure {
			seen[x.Exchange] = true
		}
	}
	return sortedKeys(seen)
}

// exchangeAssets returns the assets exchange ex received under any method, sorted.
func (c *ChainReport) exchangeAssets(ex string) []graph.Asset {
	seen := map[graph.Asset]bool{}
	for _, m := range c.Methods {
		for _, x := range m.Exposure {
			if x.Exchange == ex {
				seen[x.Asset] = true
			}
		}
	}
	return sortedAssetKeys(seen)
}

func (c *ChainReport) primary() *MethodReport {
	for i := range c.Methods {
		if c.Methods[i].Method == trace.Haircut {
			return &c.Methods[i]
		}
	}
	return &c.Methods[0]
}

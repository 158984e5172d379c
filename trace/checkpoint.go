package trace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

// Checkpoints let a trace continue as new blocks arrive without replaying history: the
// screener and the follower keep an engine current this way. A checkpoint is the engine's
// whole state, bound to its Config: restoring it under another configuration is an error,
// never a silently different result.

// checkpointVersion changes whenever the encoding does; checkpoints older than
// oldestCheckpointVersion are refused. Version 3 is this package's own encoding
// (checkpoint_codec.go), 4 adds Stats.SkippedTransfers; 1 and 2 were gob. Version 5 keeps
// sinks, injected taint and exposure per asset (spec v2 A.1).
const checkpointVersion = 5

// The oldest checkpoint version this library reads. Versions 3 and 4 hold spec v1 state:
// exposure totals summed over every asset and exchange arrivals that v2 A.2 absorbs left
// where they were. Their per-asset figures cannot be recovered from them, so they are
// refused (ErrCheckpointV1) and the trace is replayed (a Follower does so by itself).
const oldestCheckpointVersion = 5

// ErrCheckpointV1 is wrapped (with ErrCheckpoint) by the error for a checkpoint written
// under spec v1, which cannot be migrated.
var ErrCheckpointV1 = errors.New("checkpoint holds spec v1 figures (summed over assets) and cannot be migrated to spec v2: replay the trace from its blocks")

// ErrCheckpoint is wrapped by checkpoint decoding and mismatch errors.
var ErrCheckpoint = errors.New("unusable trace checkpoint")

type snapSeg struct {
	Src, Hop uint32
	Amt      uint256.Int
}

type snapAddr struct {
	Name              graph.Address
	SeedSrc           uint32
	SeedIdx, SeedMov  int32
	Exchange          int32
	Received, Tainted uint256.Int
	Receives          bool
}

type snapUTXO struct {
	H     [32]byte
	I     uint32
	Value uint256.Int
	Addr  int32
	Mov   int32
	St    int32
}

type snapState struct {
	TxID  string
	Index uint32
	St    []snapSeg
}

type snapHolding struct {
	Addr              graph.Address
	Asset             graph.Asset
	Bal               uint256.Int
	St                []snapSeg
	Contrib           []snapContrib
	Received, Tainted uint256.Int
	Receives          bool
}

type snapContrib struct {
	Src, Hop uint32
	Mov      int32
	Amt      uint256.Int
}

type snapMov struct {
	Kind     uint8
	Seed     int32
	Ref, Tx  string
	Pos      graph.Position
	From, To graph.Address
	Asset    graph.Asset
	Value    uint256.Int
	Taint    []snapSeg
	Parents  []int32
}

// snapExposure is one exchange's exposure: a row per asset that arrived.
type snapExposure struct {
	Rows []snapExposureRow
}

type snapExposureRow struct {
	Asset                               int32 // index into snapshot.Assets
	Received, Tainted, Direct, Indirect uint256.Int
	BySource                            []snapSeg // Hop unused; by source
	HasBySource                         bool
	BySourceHop                         []snapSeg
	Deposits                            []int32
}

type snapshot struct {
	Version  int
	Config   [32]byte
	Sources  []string
	Assets   []graph.Asset // the engine's asset table, in index order
	Addrs    []snapAddr
	UTXOs    []snapUTXO
	States   []snapState
	Free     []int32
	Holdings []snapHolding
	SeedUsed []bool
	Injected [][]uint256.Int   // by asset, by source
	Sinks    [][][]uint256.Int // by asset, by sink, by source
	Movs     []snapMov
	Exposure []snapExposure
	Started  bool
	Last     graph.Position
	Stats    Stats
	// Links: each link's buffer and out-legs, in the Config's link order; LegsSeen the
	// legs the replay met (spec §15).
	Links    []snapLink
	LegsSeen []string
	LinkedIn [][]uint256.Int // by asset, by source: the taint links carried in
	// Opening balances: per holding (in Holdings' order) what pre-window funds covered and
	// whether its opening balance was asked for; the holdings it could not be had for.
	HoldOpen       []snapOpen
	OpeningUnknown []HoldingRef
}

type snapOpen struct {
	Implicit uint256.Int
	Opened   bool
}

type snapLink struct {
	Value   uint256.Int
	Buf     []snapSeg
	AssetIn graph.Asset
	Ins     int32
	InMovs  []int32
	Node    int32
	Outs    []snapLinkOut
}

type snapLinkOut struct {
	Ref   string
	Asset graph.Asset
	Value uint256.Int
	Taint []snapSeg // Hop and Src as in the source table
}

func toSnap(ss []seg) []snapSeg {
	if len(ss) == 0 {
		return nil
	}
	out := make([]snapSeg, len(ss))
	for i, g := range ss {
		out[i] = snapSeg{g.c.src, g.c.hop, g.amt}
	}
	return out
}

func fromSnap(ss []snapSeg) []seg {
	if len(ss) == 0 {
		return nil
	}
	out := make([]seg, len(ss))
	for i, g := range ss {
		out[i] = seg{comp{g.Src, g.Hop}, g.Amt}
	}
	return out
}

// configHash fingerprints everything in a Config that affects results.
func configHash(c Config) [32]byte {
	type seedJSON struct {
		Address  graph.Address
		Outpoint string
		Transfer string
		Source   string
		Amount   string
	}
	var seeds []seedJSON
	for _, s := range c.Seeds {
		sj := seedJSON{Address: s.Address, Transfer: s.Transfer, Source: s.Source}
		if s.Outpoint != nil {
			sj.Outpoint = s.Outpoint.String()
		}
		if s.Amount != nil {
			sj.Amount = s.Amount.Dec()
		}
		seeds = append(seeds, sj)
	}
	ex := map[string][]graph.Address{}
	for l, as := range c.Exchanges {
		cp := append([]graph.Address(nil), as...)
		sort.Slice(cp, func(i, j int) bool { return cp[i] < cp[j] })
		ex[l] = cp
	}
	p := c.Params
	var maxHops int64 = -1
	if p.MaxHops != nil {
		maxHops = int64(*p.MaxHops)
	}
	frac := ""
	if p.MinFraction != nil {
		frac = p.MinFraction.String()
	}
	fields := []any{c.Model, c.Method, seeds, ex, p.MinTaint.Dec(), frac, maxHops, p.StopAtExchanges, p.ImplicitBalances, p.TaintFee}
	if len(p.Assets) > 0 {
		// Only when set, so that checkpoints made before the option keep their hash.
		assets := append([]graph.Asset(nil), p.Assets...)
		slices.Sort(assets)
		fields = append(fields, slices.Compact(assets))
	}
	if len(c.Venues) > 0 || len(c.Links) > 0 {
		venues := append([]graph.Address(nil), c.Venues...)
		slices.Sort(venues)
		fields = append(fields, venues, c.Links)
	}
	b, _ := json.Marshal(fields)
	return sha256.Sum256(b)
}

// Checkpoint encodes the engine's complete state. RestoreEngine with the same Config
// returns an engine that continues exactly where this one is.
func (e *Engine) Checkpoint() ([]byte, error) {
	if e.cfg.Chain != "" {
		// The chains of a multi-chain trace share their links and evidence: one chain's
		// checkpoint alone could not restore them.
		return nil, fmt.Errorf("%w: a chain of a multi-chain trace cannot be checkpointed on its own", ErrCheckpoint)
	}
	if e.ev.movs.log != nil {
		return nil, fmt.Errorf("%w: an engine that records to disk (RecordTo) cannot be checkpointed", ErrCheckpoint)
	}
	s := snapshot{
		Version: checkpointVersion, Config: configHash(e.cfg), Sources: e.sources, Assets: e.assets,
		Free: e.free, SeedUsed: e.seedUsed, Injected: e.injected,
		Started: e.started, Last: e.last, Stats: e.stats,
	}
	for as := range e.sinks {
		s.Sinks = append(s.Sinks, e.sinks[as][:])
	}
	s.Addrs, s.UTXOs = make([]snapAddr, 0, len(e.addrs)), make([]snapUTXO, 0, len(e.utxos))
	s.States, s.Movs = make([]snapState, 0, len(e.states)), make([]snapMov, 0, e.ev.movs.len())
	// Taint lists are carved from one slab: one allocation instead of one per list.
	var slab []snapSeg
	segs := 0
	snap := func(p *packed) []snapSeg {
		n := p.len()
		if n == 0 {
			return nil
		}
		segs += n
		if len(slab)+n > cap(slab) {
			slab = make([]snapSeg, 0, max(n, 1<<16))
		}
		for i := 0; i < n; i++ {
			g := p.at(i)
			slab = append(slab, snapSeg{g.c.src, g.c.hop, g.amt})
		}
		return slab[len(slab)-n : len(slab) : len(slab)]
	}
	for i, a := range e.addrs {
		s.Addrs = append(s.Addrs, snapAddr{e.addrTab.name(int32(i)), a.seedSrc, a.seedIdx, a.seedMov, a.exchange, a.received, a.tainted, a.receives})
	}
	for k, u := range e.utxos {
		s.UTXOs = append(s.UTXOs, snapUTXO{k.h, k.i, e.valueOf(k, &u), u.addr, u.mov, u.st})
	}
	// Map order is random: sort so that equal states give equal checkpoints.
	sort.Slice(s.UTXOs, func(i, j int) bool {
		if c := bytes.Compare(s.UTXOs[i].H[:], s.UTXOs[j].H[:]); c != 0 {
			return c < 0
		}
		return s.UTXOs[i].I < s.UTXOs[j].I
	})
	for _, ts := range e.states {
		s.States = append(s.States, snapState{ts.op.TxID, ts.op.Index, snap(&ts.st)})
	}
	for i := range e.holds {
		h := &e.holds[i]
		sh := snapHolding{Addr: e.addrTab.name(h.addr), Asset: e.assets[h.asset], Bal: h.bal, St: toSnap(h.st), Received: h.received, Tainted: h.tainted, Receives: h.receives}
		s.HoldOpen = append(s.HoldOpen, snapOpen{Implicit: e.implicit[int32(i)], Opened: h.opened})
		for _, c := range h.contrib {
			sh.Contrib = append(sh.Contrib, snapContrib{c.c.src, c.c.hop, c.mov, c.amt})
		}
		s.Holdings = append(s.Holdings, sh)
	}
	for i := int32(0); i < int32(e.ev.movs.len()); i++ {
		m := e.ev.movs.at(i)
		s.Movs = append(s.Movs, snapMov{uint8(m.kind), m.seed, m.ref, m.tx, m.pos, m.from, m.to, m.asset, m.value, snap(&m.taint), m.parents})
	}
	for _, x := range e.exposure {
		var sx snapExposure
		for as, row := range x.assets {
			if row == nil {
				continue
			}
			sr := snapExposureRow{Asset: int32(as), Received: row.received, Tainted: row.tainted, Direct: row.direct, Indirect: row.indirect,
				Deposits: row.deposits, HasBySource: row.bySource != nil}
			for src, v := range row.bySource {
				sr.BySource = append(sr.BySource, snapSeg{Src: src, Amt: *v})
			}
			sort.Slice(sr.BySource, func(i, j int) bool { return sr.BySource[i].Src < sr.BySource[j].Src })
			for c, v := range row.bySourceHop {
				sr.BySourceHop = append(sr.BySourceHop, snapSeg{c.src, c.hop, *v})
			}
			sort.Slice(sr.BySourceHop, func(i, j int) bool {
				return comp{sr.BySourceHop[i].Src, sr.BySourceHop[i].Hop}.less(comp{sr.BySourceHop[j].Src, sr.BySourceHop[j].Hop})
			})
			sx.Rows = append(sx.Rows, sr)
		}
		s.Exposure = append(s.Exposure, sx)
	}
	if e.links != nil {
		for i := range e.links.links {
			l := &e.links.links[i]
			sl := snapLink{Value: l.value, Buf: toSnap(l.buf), AssetIn: l.assetIn, Ins: int32(l.ins), InMovs: l.inMovs, Node: l.node}
			for _, o := range l.outs {
				so := snapLinkOut{Ref: o.ref, Asset: o.asset, Value: o.value}
				for _, c := range o.taint {
					so.Taint = append(so.Taint, snapSeg{Src: e.srcID[c.Source], Hop: c.Hop, Amt: c.Amount})
				}
				sl.Outs = append(sl.Outs, so)
			}
			s.Links = append(s.Links, sl)
		}
		for ref := range e.legSeen {
			s.LegsSeen = append(s.LegsSeen, ref)
		}
		sort.Strings(s.LegsSeen)
		s.LinkedIn = e.linkedInTot
	}
	s.OpeningUnknown = e.openingUnknown
	// About 30 bytes per address, output and movement, and 10 per taint component.
	size := 30*(len(s.Addrs)+len(s.UTXOs)+len(s.Movs)) + 10*segs
	return encodeSnapshot(make([]byte, 0, size), &s), nil
}

// RestoreEngine rebuilds an engine from a checkpoint made under the same Config.
func RestoreEngine(cfg Config, data []byte) (*Engine, error) {
	s, err := decodeSnapshot(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	if s.Version == 3 || s.Version == 4 {
		return nil, fmt.Errorf("%w: version %d: %w", ErrCheckpoint, s.Version, ErrCheckpointV1)
	}
	if s.Version < oldestCheckpointVersion || s.Version > checkpointVersion {
		return nil, fmt.Errorf("%w: version %d, this library reads %d to %d", ErrCheckpoint, s.Version, oldestCheckpointVersion, checkpointVersion)
	}
	if s.Config != configHash(cfg) {
		return nil, fmt.Errorf("%w: it was made under another configuration (method, seeds, exchanges or parameters differ)", ErrCheckpoint)
	}
	e, err := NewEngine(cfg)
	if err != nil {
		return nil, err
	}
	if len(s.Sources) != len(e.sources) || len(s.Sinks) != len(s.Assets) || len(s.Injected) != len(s.Assets) || len(s.SeedUsed) != len(cfg.Seeds) || len(s.Exposure) != len(e.exposure) {
		return nil, fmt.Errorf("%w: inconsistent sizes", ErrCheckpoint)
	}
	for i := range s.Sources {
		if s.Sources[i] != e.sources[i] {
			return nil, fmt.Errorf("%w: source table differs", ErrCheckpoint)
		}
	}
	if err := s.check(cfg.Model, len(cfg.Seeds), len(e.exLabels)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	nMov := int32(len(s.Movs))
	nAddr := int32(len(s.Addrs))
	bad := func(what string) error { return fmt.Errorf("%w: %s out of range", ErrCheckpoint, what) }
	e.addrs, e.addrTab = nil, newAddrTable(len(s.Addrs))
	for _, a := range s.Addrs {
		if a.SeedMov >= nMov || a.Exchange >= int32(len(e.exLabels)) || a.SeedSrc >= uint32(len(e.sources)) {
			return nil, bad("address")
		}
		e.addrs = append(e.addrs, addrInfo{seedSrc: a.SeedSrc, seedIdx: a.SeedIdx, seedMov: a.SeedMov, exchange: a.Exchange, received: a.Received, tainted: a.Tainted, receives: a.Receives})
		if _, added := e.addrTab.intern(a.Name); !added {
			return nil, fmt.Errorf("%w: address %s listed twice", ErrCheckpoint, a.Name)
		}
	}
	for _, v := range cfg.Venues { // the snapshot's addresses do not say which are venues
		e.addrs[e.addr(v)].venue = true
	}
	// States are packed from one scratch list (pack copies).
	var scratch []seg
	pack := func(ss []snapSeg) packed {
		scratch = scratch[:0]
		for _, g := range ss {
			scratch = append(scratch, seg{comp{g.Src, g.Hop}, g.Amt})
		}
		return e.pk.pack(scratch)
	}
	e.states = make([]taintedUTXO, 0, len(s.States))
	for _, ts := range s.States {
		e.states = append(e.states, taintedUTXO{op: graph.Outpoint{TxID: ts.TxID, Index: ts.Index}, st: pack(ts.St)})
	}
	e.utxos = make(map[opKey]utxo, len(s.UTXOs))
	e.wideValues = nil
	for _, u := range s.UTXOs {
		if u.Addr < 0 || u.Addr >= nAddr || u.St >= int32(len(e.states)) || u.Mov >= nMov {
			return nil, bad("utxo")
		}
		k := opKey{u.H, u.I}
		if _, dup := e.utxos[k]; dup {
			return nil, bad("utxo (listed twice)")
		}
		uu := utxo{addr: u.Addr, mov: u.Mov, st: u.St}
		e.setValue(k, &uu, &u.Value)
		e.utxos[k] = uu
	}
	e.free = s.Free
	e.holds, e.holdIdx = nil, map[holdKey]int32{}
	e.assets, e.assetIdx, e.lastAsset = nil, map[graph.Asset]int32{}, 0
	e.sinks, e.injected = nil, nil
	for i, a := range s.Assets {
		if e.asset(a) != int32(i) {
			return nil, fmt.Errorf("%w: asset %s listed twice", ErrCheckpoint, a)
		}
	}
	if e.model == graph.UTXO && (len(e.assets) != 1 || e.assets[0] != graph.BTC) {
		return nil, fmt.Errorf("%w: a UTXO trace's asset table must be [%s]", ErrCheckpoint, graph.BTC)
	}
	for i, h := range s.Holdings {
		ai, as := e.addr(h.Addr), e.asset(h.Asset)
		if int(as) >= len(s.Assets) {
			return nil, fmt.Errorf("%w: holding %s|%s: asset not in the asset table", ErrCheckpoint, h.Addr, h.Asset)
		}
		k := mkHoldKey(ai, as)
		if _, dup := e.holdIdx[k]; dup {
			return nil, fmt.Errorf("%w: holding %s|%s listed twice", ErrCheckpoint, h.Addr, h.Asset)
		}
		hd := holding{addr: ai, asset: as, bal: h.Bal, st: fromSnap(h.St), received: h.Received, tainted: h.Tainted, receives: h.Receives}
		for _, c := range h.Contrib {
			hd.contrib = append(hd.contrib, contribution{comp{c.Src, c.Hop}, c.Mov, c.Amt})
		}
		e.holds = append(e.holds, hd)
		e.holdIdx[k] = int32(i)
	}
	e.seedUsed = s.SeedUsed
	for as := range s.Assets {
		if len(s.Injected[as]) != len(e.sources) || len(s.Sinks[as]) != int(numSinks) {
			return nil, bad("sink")
		}
		e.injected[as] = s.Injected[as]
		for k := range e.sinks[as] {
			if len(s.Sinks[as][k]) != len(e.sources) {
				return nil, bad("sink")
			}
			e.sinks[as][k] = s.Sinks[as][k]
		}
	}
	e.ev = &evidence{}
	for _, m := range s.Movs {
		for _, p := range m.Parents {
			if p < 0 || p >= nMov {
				return nil, bad("evidence parent")
			}
		}
		e.ev.movs.add(movement{kind: movKind(m.Kind), seed: m.Seed, ref: m.Ref, tx: m.Tx, pos: m.Pos, from: m.From, to: m.To, asset: m.Asset, value: m.Value, taint: pack(m.Taint), parents: m.Parents})
	}
	for i, x := range s.Exposure {
		var acc exposureAcc
		for _, r := range x.Rows {
			if r.Asset < 0 || int(r.Asset) >= len(e.assets) || (int(r.Asset) < len(acc.assets) && acc.assets[r.Asset] != nil) {
				return nil, bad("exposure asset")
			}
			for int(r.Asset) >= len(acc.assets) {
				acc.assets = append(acc.assets, nil)
			}
			row := &assetExposureAcc{received: r.Received, tainted: r.Tainted, direct: r.Direct, indirect: r.Indirect, deposits: r.Deposits}
			if r.HasBySource || len(r.BySource) > 0 || len(r.BySourceHop) > 0 {
				row.bySource, row.bySourceHop = map[uint32]*uint256.Int{}, map[comp]*uint256.Int{}
				for _, g := range r.BySource {
					v := g.Amt
					row.bySource[g.Src] = &v
				}
				for _, g := range r.BySourceHop {
					v := g.Amt
					row.bySourceHop[comp{g.Src, g.Hop}] = &v
				}
			}
			acc.assets[r.Asset] = row
		}
		e.exposure[i] = acc
	}
	if len(s.HoldOpen) != len(e.holds) {
		return nil, bad("holding opening balances")
	}
	for i, o := range s.HoldOpen {
		e.holds[i].opened = o.Opened
		if !o.Implicit.IsZero() {
			if e.implicit == nil {
				e.implicit = map[int32]uint256.Int{}
			}
			e.implicit[int32(i)] = o.Implicit
		}
	}
	e.openingUnknown = s.OpeningUnknown
	if e.links == nil && (len(s.Links) > 0 || len(s.LegsSeen) > 0) || e.links != nil && len(s.Links) != len(e.links.links) {
		return nil, fmt.Errorf("%w: link state does not match the configuration's links", ErrCheckpoint)
	}
	for i, sl := range s.Links {
		l := &e.links.links[i]
		if sl.Node < -1 || sl.Node >= nMov || sl.Ins < 0 {
			return nil, bad("link")
		}
		for _, m := range sl.InMovs {
			if m < 0 || m >= nMov {
				return nil, bad("link in-leg")
			}
		}
		l.value, l.buf, l.assetIn, l.ins, l.inMovs, l.node = sl.Value, fromSnap(sl.Buf), sl.AssetIn, int(sl.Ins), sl.InMovs, sl.Node
		if l.ins > 0 {
			l.chainIn = e.cfg.Chain
		}
		for _, g := range sl.Buf {
			if g.Src >= uint32(len(e.sources)) {
				return nil, bad("link buffer source")
			}
		}
		for _, so := range sl.Outs {
			o := linkOut{chain: e.cfg.Chain, ref: so.Ref, asset: so.Asset, value: so.Value}
			for _, g := range so.Taint {
				if g.Src == 0 || g.Src >= uint32(len(e.sources)) {
					return nil, bad("link out-leg source")
				}
				o.taint = append(o.taint, Component{Source: e.sources[g.Src], Hop: g.Hop, Amount: g.Amt})
			}
			l.outs = append(l.outs, o)
		}
	}
	for _, ref := range s.LegsSeen {
		e.legSeen[ref] = true
	}
	if len(s.LinkedIn) > 0 {
		if len(s.LinkedIn) != len(e.assets) {
			return nil, bad("linked_in")
		}
		for as := range s.LinkedIn {
			if len(s.LinkedIn[as]) != len(e.sources) {
				return nil, bad("linked_in")
			}
			e.linkedInTot[as] = s.LinkedIn[as]
		}
	}
	e.started, e.last, e.stats = s.Started, s.Last, s.Stats
	return e, nil
}

// Last returns the position of the last transaction applied (ok is false before any).
func (e *Engine) Last() (pos graph.Position, ok bool) { return e.last, e.started }

// CheckpointStore is where checkpoints are kept: graph.Store implements it.
type CheckpointStore interface {
	PutRecord(ctx context.Context, ns string, key, value []byte) error
	GetRecord(ctx context.Context, ns string, key []byte) ([]byte, error)
}

// CheckpointNamespace is the record namespace SaveCheckpoint writes to.
const CheckpointNamespace = "trace/checkpoint"

// SaveCheckpoint stores the engine's checkpoint under name.
func (e *Engine) SaveCheckpoint(ctx context.Context, st CheckpointStore, name string) error {
	b, err := e.Checkpoint()
	if err != nil {
		return err
	}
	if err := st.PutRecord(ctx, CheckpointNamespace, []byte(name), b); err != nil {
		return fmt.Errorf("saving trace checkpoint %q: %w", name, err)
	}
	return nil
}

// LoadCheckpoint restores the engine saved under name for cfg.
func LoadCheckpoint(ctx context.Context, st CheckpointStore, name string, cfg Config) (*Engine, error) {
	b, err := st.GetRecord(ctx, CheckpointNamespace, []byte(name))
	if err != nil {
		return nil, fmt.Errorf("loading trace checkpoint %q: %w", name, err)
	}
	e, err := RestoreEngine(cfg, b)
	if err != nil {
		return nil, fmt.Errorf("trace checkpoint %q: %w", name, err)
	}
	return e, nil
}

// check validates every index and invariant of a decoded snapshot that the engine relies
// on, so that a corrupt or foreign checkpoint is an error instead of a panic or a silently
// wrong trace later: indices into the source, seed, address, state, movement and exchange
// tables are in range, evidence parents come before their children (the walks terminate),
// and no state carries more taint than value.
func (s *snapshot) check(model graph.Model, nSeeds, nExchanges int) error {
	// What the other model keeps has no place here.
	if model == graph.UTXO && len(s.Holdings) > 0 || model == graph.Account && (len(s.UTXOs) > 0 || len(s.States) > 0 || len(s.Free) > 0) {
		return fmt.Errorf("state of the wrong model for a %s trace", model)
	}
	nSrc, nAddr, nMov, nState := uint32(len(s.Sources)), int32(len(s.Addrs)), int32(len(s.Movs)), int32(len(s.States))
	// Taint lists are compositions or sets (sorted) or unit sequences (FIFO, LIFO, TIHO,
	// seniority: in order, CLEAN segments included), so only what holds for all is checked:
	// no source carries more than the value (poison taints the full value once per source).
	perSource := make([]uint256.Int, nSrc)
	segs := func(what string, ss []snapSeg, limit *uint256.Int) error { // limit is not nil
		for _, g := range ss {
			if g.Src >= nSrc {
				return fmt.Errorf("%s: source %d of %d", what, g.Src, nSrc)
			}
		}
		clear(perSource)
		for _, g := range ss {
			sum := &perSource[g.Src]
			if _, over := sum.AddOverflow(sum, &g.Amt); over {
				return fmt.Errorf("%s: taint overflows", what)
			}
			if g.Src != 0 && sum.Gt(limit) {
				return fmt.Errorf("%s: source %s carries more than the value %s", what, s.Sources[g.Src], limit.Dec())
			}
		}
		return nil
	}
	movRef := func(m int32) bool { return m >= -1 && m < nMov }
	for i, a := range s.Addrs {
		if a.SeedSrc >= nSrc || (a.SeedSrc != 0 && (a.SeedIdx < 0 || int(a.SeedIdx) >= nSeeds)) ||
			!movRef(a.SeedMov) || a.Exchange < -1 || int(a.Exchange) >= nExchanges {
			return fmt.Errorf("address %d (%s): an index out of range", i, a.Name)
		}
	}
	used := make([]bool, nState)
	for i, u := range s.UTXOs {
		if u.Addr < 0 || u.Addr >= nAddr || u.St < -1 || u.St >= nState || !movRef(u.Mov) {
			return fmt.Errorf("unspent output %d: an index out of range", i)
		}
		if u.St >= 0 {
			if used[u.St] {
				return fmt.Errorf("unspent output %d: its state is another output's", i)
			}
			used[u.St] = true
			v := u.Value
			if err := segs(fmt.Sprintf("state of unspent output %d", i), s.States[u.St].St, &v); err != nil {
				return err
			}
		}
	}
	for _, f := range s.Free {
		if f < 0 || f >= nState || used[f] {
			return fmt.Errorf("free state %d: out of range or in use", f)
		}
		used[f] = true
	}
	for i, h := range s.Holdings {
		bal := h.Bal
		if err := segs(fmt.Sprintf("holding %d", i), h.St, &bal); err != nil {
			return err
		}
		for _, c := range h.Contrib {
			if c.Src == 0 || c.Src >= nSrc || !movRef(c.Mov) {
				return fmt.Errorf("holding %d: an evidence contribution out of range", i)
			}
		}
	}
	for i, m := range s.Movs {
		if m.Kind > uint8(movLink) || m.Seed < -1 || int(m.Seed) >= nSeeds || (m.Kind == uint8(movSeed) && m.Seed < 0) {
			return fmt.Errorf("evidence movement %d: kind or seed out of range", i)
		}
		if k := movKind(m.Kind); model == graph.UTXO && k == movTransfer || model == graph.Account && (k == movOutput || k == movFee) {
			return fmt.Errorf("evidence movement %d: of the wrong model for a %s trace", i, model)
		}
		for _, p := range m.Parents {
			if p < 0 || p >= int32(i) {
				return fmt.Errorf("evidence movement %d: parent %d does not come before it", i, p)
			}
		}
		v := m.Value
		if err := segs(fmt.Sprintf("evidence movement %d", i), m.Taint, &v); err != nil {
			return err
		}
	}
	for i, x := range s.Exposure {
		for _, r := range x.Rows {
			if r.Asset < 0 || int(r.Asset) >= len(s.Assets) {
				return fmt.Errorf("exposure %d: asset out of range", i)
			}
			for _, d := range r.Deposits {
				if d < 0 || d >= nMov {
					return fmt.Errorf("exposure %d: deposit out of range", i)
				}
			}
			for _, g := range r.BySource {
				if src := g.Src; src == 0 || src >= nSrc {
					return fmt.Errorf("exposure %d: source out of range", i)
				}
			}
			for _, g := range r.BySourceHop {
				if g.Src == 0 || g.Src >= nSrc {
					return fmt.Errorf("exposure %d: source out of range", i)
				}
			}
		}
	}
	return nil
}
